package kclient

import (
	"context"
	"errors"
	"fmt"
	"net"
	"time"

	"github.com/segmentio/kafka-go"
	metadataAPI "github.com/segmentio/kafka-go/protocol/metadata"
)

// byLeaderID groups keys by partition leader as groupByLeader does.
func byLeaderID(ctx context.Context, rt kafka.RoundTripper, addr net.Addr, keys []partitionKey) ([][]partitionKey, []int32, error) {
	return groupByLeader(ctx, rt, addr, keys, func(k partitionKey) partitionKey { return k })
}

// partitionKey names one topic-partition.
type partitionKey struct {
	topic     string
	partition int32
}

// groupByLeader groups items by the leader of their partition, from the
// transport's cached metadata, keeping their order within a group: the
// transport refuses a request whose partitions have different leaders. An
// item whose partition has no known leader gets a group of its own (leader
// -1), for the transport to refuse (and its caller to retry).
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

// errLeaderMoved: a request was abandoned because the transport's cached
// metadata no longer names the broker it was sent to as the leader of its
// partitions. It is retried as any stale-metadata error is.
var errLeaderMoved = errors.New("abandoned in flight: the partition's leader moved")

// leaderWatchEvery is how often a request in flight compares its broker
// with the cached metadata (a read of the transport's cache, no request).
const leaderWatchEvery = 250 * time.Millisecond

// watchLeader returns a context for a request sent to leader for keys: it
// is cancelled, with cause errLeaderMoved, as soon as the transport's
// cached metadata names another broker as the leader of one of them. A
// frozen broker (a stopped process, a network partition) neither answers
// nor closes its connections: without the watch a request to it waits for
// its whole timeout (30 s) after the cluster has fenced the broker and
// moved its partitions. A partition without a known leader (an election
// under way) is waited for. stop cancels the watch and waits for it.
func watchLeader(ctx context.Context, rt kafka.RoundTripper, addr net.Addr, keys []partitionKey, leader int32) (watched context.Context, stop func()) {
	ctx, cancel := context.WithCancelCause(ctx)
	if leader < 0 || len(keys) == 0 {
		return ctx, func() { cancel(nil) }
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(leaderWatchEvery)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
			if leaderMoved(ctx, rt, addr, keys, leader) {
				cancel(errLeaderMoved)
				return
			}
		}
	}()
	return ctx, func() { cancel(nil); <-done }
}

// leaderMoved reports whether the cached metadata names a leader other
// than leader for one of keys.
func leaderMoved(ctx context.Context, rt kafka.RoundTripper, addr net.Addr, keys []partitionKey, leader int32) bool {
	leaders, err := leaderMap(ctx, rt, addr, keys, func(k partitionKey) partitionKey { return k })
	if err != nil {
		return false
	}
	for _, k := range keys {
		if l, ok := leaders[k]; ok && l != leader {
			return true
		}
	}
	return false
}

// movedErr returns errLeaderMoved when ctx (from watchLeader) ended
// because the leader moved, else err.
func movedErr(ctx context.Context, err error) error {
	if err != nil && errors.Is(context.Cause(ctx), errLeaderMoved) {
		return errLeaderMoved
	}
	return err
}
