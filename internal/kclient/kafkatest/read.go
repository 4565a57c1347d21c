package kafkatest

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"
	"github.com/sessiond/sessiond/internal/kclient"
)

// ReadUntil reads every partition of topic from the start and returns the
// messages (in per-partition offset order, partitions one after another)
// once done reports true for what has been read, or fails the test after
// timeout.
func ReadUntil(tb testing.TB, brokers []string, topic string, timeout time.Duration, done func([]kafka.Message) bool) []kafka.Message {
	tb.Helper()
	deadline := time.Now().Add(timeout)
	for {
		msgs, err := ReadAll(context.Background(), brokers, topic)
		if err == nil && done(msgs) {
			return msgs
		}
		if time.Now().After(deadline) {
			tb.Fatalf("read %s: condition not met after %v (%d messages, last error: %v)", topic, timeout, len(msgs), err)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// ReadAll reads every partition of topic from the start up to the high
// watermark seen when it starts.
func ReadAll(ctx context.Context, brokers []string, topic string) ([]kafka.Message, error) {
	c := kclient.PlainConn(brokers).Client()
	counts, err := kclient.PartitionCounts(ctx, c, topic)
	if err != nil {
		return nil, err
	}
	parts := make([]int, counts[topic])
	for i := range parts {
		parts[i] = i
	}
	offs, err := kclient.Offsets(ctx, c, topic, parts...)
	if err != nil {
		return nil, err
	}
	var out []kafka.Message
	for _, p := range parts {
		msgs, err := readPartition(ctx, brokers, topic, p, offs[p])
		if err != nil {
			return nil, err
		}
		out = append(out, msgs...)
	}
	return out, nil
}

func readPartition(ctx context.Context, brokers []string, topic string, p int, rng kclient.Range) ([]kafka.Message, error) {
	if rng.End <= rng.First {
		return nil, nil
	}
	r := kafka.NewReader(kafka.ReaderConfig{Brokers: brokers, Topic: topic, Partition: p,
		MinBytes: 1, MaxBytes: 1 << 20, MaxWait: 500 * time.Millisecond})
	defer r.Close()
	if err := r.SetOffset(rng.First); err != nil {
		return nil, err
	}
	var out []kafka.Message
	for {
		fctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		m, err := r.FetchMessage(fctx)
		cancel()
		if err != nil {
			if errors.Is(err, context.DeadlineExceeded) {
				return out, nil
			}
			return nil, err
		}
		out = append(out, m)
		if m.Offset+1 >= rng.End {
			return out, nil
		}
	}
}
