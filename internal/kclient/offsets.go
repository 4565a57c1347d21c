package kclient

import (
	"context"
	"fmt"
	"time"

	"github.com/segmentio/kafka-go"
)

// Range is the span of offsets a partition holds: First is the log start,
// End the high watermark (the offset the next record will get).
type Range struct{ First, End int64 }

// Offsets returns the offset range of the given partitions of topic.
func Offsets(ctx context.Context, c *kafka.Client, topic string, partitions ...int) (map[int]Range, error) {
	return OffsetsAt(ctx, c, kafka.ReadUncommitted, topic, partitions...)
}

// OffsetsAt is Offsets at an isolation level: under ReadCommitted, End is
// the last stable offset (the first offset of a transaction still open).
func OffsetsAt(ctx context.Context, c *kafka.Client, level kafka.IsolationLevel, topic string, partitions ...int) (map[int]Range, error) {
	reqs := make([]kafka.OffsetRequest, 0, 2*len(partitions))
	for _, p := range partitions {
		reqs = append(reqs, kafka.FirstOffsetOf(p), kafka.LastOffsetOf(p))
	}
	resp, err := c.ListOffsets(ctx, &kafka.ListOffsetsRequest{Topics: map[string][]kafka.OffsetRequest{topic: reqs}, IsolationLevel: level})
	if err != nil {
		return nil, fmt.Errorf("list offsets of %s: %w", topic, err)
	}
	out := make(map[int]Range, len(partitions))
	for _, po := range resp.Topics[topic] {
		if po.Error != nil {
			return nil, fmt.Errorf("list offsets of %s/%d: %w", topic, po.Partition, po.Error)
		}
		out[po.Partition] = Range{First: po.FirstOffset, End: po.LastOffset}
	}
	for _, p := range partitions {
		if _, ok := out[p]; !ok {
			return nil, fmt.Errorf("list offsets of %s/%d: no answer", topic, p)
		}
	}
	return out, nil
}

// WaitLeaders waits until every partition of topic answers an offset
// request (a topic just created has no leaders for a moment), or ctx ends.
func WaitLeaders(ctx context.Context, c *kafka.Client, topic string, partitions int) error {
	parts := make([]int, partitions)
	for i := range parts {
		parts[i] = i
	}
	for {
		_, err := Offsets(ctx, c, topic, parts...)
		if err == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("wait for leaders of %s: %w", topic, err)
		case <-time.After(100 * time.Millisecond):
		}
	}
}
