package kclient

import (
	"context"
	"fmt"
	"net"

	"github.com/segmentio/kafka-go"
	metadataAPI "github.com/segmentio/kafka-go/protocol/metadata"
)

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
			leaders[partitionKey{t.Name, part.PartitionIndex}] = part.LeaderID
		}
	}
	index := map[int32]int{}
	var groups [][]T
	for _, it := range items {
		leader, ok := leaders[key(it)]
		if !ok {
			groups = append(groups, []T{it})
			continue
		}
		g, ok := index[leader]
		if !ok {
			g = len(groups)
			index[leader] = g
			groups = append(groups, nil)
		}
		groups[g] = append(groups[g], it)
	}
	return groups, nil
}
