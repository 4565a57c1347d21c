package kafkatest

import (
	"context"
	"sort"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"
	"github.com/twmb/franz-go/pkg/kgo"
)

// ReadCommitted reads topic from the start with franz-go (an independent
// client) at read_committed isolation — records of aborted transactions
// left out, open ones waited for — until done says it has enough, then for
// settle more (so that a duplicate arriving after the last wanted record is
// seen), or until timeout. Records come per partition in offset order.
func ReadCommitted(tb testing.TB, brokers []string, topic string, timeout, settle time.Duration, done func([]kafka.Message) bool) []kafka.Message {
	tb.Helper()
	return readIsolated(tb, brokers, topic, kgo.ReadCommitted(), timeout, settle, done)
}

// ReadUncommitted is ReadCommitted at read_uncommitted isolation: aborted
// records are read too.
func ReadUncommitted(tb testing.TB, brokers []string, topic string, timeout, settle time.Duration, done func([]kafka.Message) bool) []kafka.Message {
	tb.Helper()
	return readIsolated(tb, brokers, topic, kgo.ReadUncommitted(), timeout, settle, done)
}

func readIsolated(tb testing.TB, brokers []string, topic string, iso kgo.IsolationLevel, timeout, settle time.Duration, done func([]kafka.Message) bool) []kafka.Message {
	tb.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(brokers...), kgo.ConsumeTopics(topic), kgo.FetchIsolationLevel(iso),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		tb.Fatalf("franz-go client: %v", err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	var out []kafka.Message
	for ctx.Err() == nil {
		fs := cl.PollFetches(ctx)
		fs.EachRecord(func(r *kgo.Record) { out = append(out, messageOf(r)) })
		if done != nil && done(out) {
			sctx, scancel := context.WithTimeout(context.Background(), settle)
			for sctx.Err() == nil {
				fs := cl.PollFetches(sctx)
				fs.EachRecord(func(r *kgo.Record) { out = append(out, messageOf(r)) })
			}
			scancel()
			break
		}
	}
	sortByPartition(out)
	return out
}

// sortByPartition orders msgs by partition, then offset.
func sortByPartition(msgs []kafka.Message) {
	sort.SliceStable(msgs, func(i, j int) bool {
		if msgs[i].Partition != msgs[j].Partition {
			return msgs[i].Partition < msgs[j].Partition
		}
		return msgs[i].Offset < msgs[j].Offset
	})
}

// messageOf is r as a kafka-go message.
func messageOf(r *kgo.Record) kafka.Message {
	m := kafka.Message{Topic: r.Topic, Partition: int(r.Partition), Offset: r.Offset, Key: r.Key, Value: r.Value, Time: r.Timestamp}
	for _, h := range r.Headers {
		m.Headers = append(m.Headers, kafka.Header{Key: h.Key, Value: h.Value})
	}
	return m
}
