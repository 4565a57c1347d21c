package kclient

import (
	"context"
	"fmt"
	"net"

	"github.com/segmentio/kafka-go"
	metadataAPI "github.com/segmentio/kafka-go/protocol/metadata"
)

// byLeaderID groups keys by partition leader as byLeader does, and returns
// each group's leader (-1 for a partition without a known leader, alone in
// its group).
func byLeaderID(ctx context.Context, rt kafka.RoundTripper, addr net.Addr, keys []partitionKey) ([][]partitionKey, []int32, error) {
	return groupByLeader(ctx, rt, addr, keys, func(k partitionKey) partitionKey { return k })
}

// partitionKey names one topic-partition.
type partitionKey struct {
	topic     string
	partition int32
}

// byLeader groups items by the leader of their partition, from the
// transport's cached metadata, keeping their order within a group: the
// transport refuses a request whose partitions have different leaders. An
// item whose partition has no known leader gets a group of its own, for
// the transport to refuse (and its caller to retry).
func byLeader[T any](ctx context.Context, rt kafka.RoundTripper, addr net.Addr, items []T, key func(T) partitionKey) ([][]T, error) {
	groups, _, err := groupByLeader(ctx, rt, addr, items, key)
	return groups, err
}

// groupByLeader is byLeader with each group's leader (-1: unknown).
func groupByLeader[T any](ctx context.Context, rt kafka.RoundTripper, addr net.Addr, items []T, key func(T) partitionKey) ([][]T, []int32, error) {
	leaders, err := leaderMap(ctx, rt, addr, items, key)
	if err != nil {
		return nil, nil, err
	}
	index := map[int32]int{}
	var groups [][]T
	var ids []int32
	for _, it := range items {
		leader, ok := leaders[key(it)]
		if !ok {
			groups = append(groups, []T{it})
			ids = append(ids, -1)
			continue
		}
		g, ok := index[leader]
		if !ok {
			g = len(groups)
			index[leader] = g
			groups = append(groups, nil)
			ids = append(ids, leader)
		}
		groups[g] = append(groups[g], it)
	}
	return groups, ids, nil
}

// leaderMap returns the leader of each item's partition known to the
// transport's cached metadata (a partition without one is left out).
func leaderMap[T any](ctx context.Context, rt kafka.RoundTripper, addr net.Addr, items []T, key func(T) partitionKey) (map[partitionKey]int32, error) {
	var names []string
	seen := map[string]bool{}
	for _, it := range items {
		if t := key(it).topic; !seen[t] {
			seen[t] = true
			names = append(names, t)
		}
	}
	m, err := rt.RoundTrip(ctx, addr, &metadataAPI.Request{TopicNames: names})
	if err != nil {
		return nil, fmt.Errorf("metadata: %w", err)
	}
	leaders := map[partitionKey]int32{}
	for _, t := range m.(*metadataAPI.Response).Topics {
		for _, part := range t.Partitions {
			if part.LeaderID >= 0 {
				leaders[partitionKey{t.Name, part.PartitionIndex}] = part.LeaderID
			}
		}
	}
	return leaders, nil
}
