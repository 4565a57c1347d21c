package kclient

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
)

// failFirstProduce makes the cluster answer the first Produce request with
// NOT_LEADER_OR_FOLLOWER for every partition it carries (nothing is
// appended), and handle the later ones normally.
func failFirstProduce(t *testing.T, c *kfake.Cluster) *atomic.Int64 {
	t.Helper()
	return answerFirstProduce(c, kerr.NotLeaderForPartition.Code)
}

// readOrder reads topic/partition from the start with an independent
// client (franz-go) until n records have come, and returns their values.
func readOrder(t *testing.T, brokers []string, topic string, partition int32, n int) []string {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(brokers...),
		kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{topic: {partition: kgo.NewOffset().AtStart()}}))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute) // a fail-safe, not an assertion
	defer cancel()
	var out []string
	for len(out) < n {
		fs := cl.PollFetches(ctx)
		if err := ctx.Err(); err != nil {
			t.Fatalf("read %s/%d: %d records of %d: %v", topic, partition, len(out), n, err)
		}
		fs.EachRecord(func(r *kgo.Record) { out = append(out, string(r.Value)) })
	}
	return out
}

// Bug 5: a call with more records for a partition than one round takes is
// split across rounds. When the first part fails and the next succeeds,
// Write's retry of the first part must not land after the rest: once a
// record of a call has failed for a partition, no later record of that
// call for that partition is sent, so that the retry resends them all, in
// order, each once.
func TestProducerKeepsACallsOrderAfterAPartialFailure(t *testing.T) {
	c, conn := producerCluster(t, 1, "ordered")
	p := conn.Producer()
	p.roundRecords = 2 // the call below takes three rounds
	w := conn.BatchWriter("ordered", PartitionBalancer{})
	ctx := context.Background()
	// Warm the transport's metadata, so that the first Produce is the call's.
	if err := w.WriteMessages(ctx, kafka.Message{Value: []byte("warm"), Partition: 1}); err != nil {
		t.Fatal(err)
	}
	failed := failFirstProduce(t, c)
	const n = 6
	msgs := make([]kafka.Message, n)
	for i := range msgs {
		msgs[i] = kafka.Message{Value: []byte(fmt.Sprint(i))}
	}
	if err := Write(ctx, w, msgs, RetryPolicy{Initial: time.Millisecond, Max: time.Millisecond}, nil); err != nil {
		t.Fatal(err)
	}
	if failed.Load() != 1 {
		t.Fatalf("%d produce requests failed, want 1", failed.Load())
	}
	got := readOrder(t, conn.Brokers(), "ordered", 0, n)
	for i, v := range got {
		if v != fmt.Sprint(i) {
			t.Fatalf("partition 0 holds %q, want 0..%d in order, each once", got, n-1)
		}
	}
	offs, err := Offsets(ctx, conn.Client(), "ordered", 0)
	if err != nil {
		t.Fatal(err)
	}
	if end := offs[0].End; end != n {
		t.Errorf("partition 0 ends at %d, want %d: a record was written twice", end, n)
	}
}
