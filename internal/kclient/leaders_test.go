package kclient

import (
	"context"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"
)

// A produce in flight to a broker that stops answering (frozen, not
// dead: its connections stay open) is abandoned as soon as the metadata
// names another leader, and the batch is written there, once — not after
// the request's whole timeout. Here the timeout is a minute and the write
// has 30 s: without the watch the write runs out of time.
func TestProducerLeavesAFrozenLeaderWhenThePartitionMoves(t *testing.T) {
	c, conn := producerCluster(t, 3, "frozen")
	p := conn.Producer()
	ctx := context.Background()
	w := conn.BatchWriter("frozen", PartitionBalancer{})
	if err := w.WriteMessages(ctx, kafka.Message{Value: []byte("warm"), Partition: 0}); err != nil {
		t.Fatal(err)
	}
	p.timeout = time.Minute
	held, release := holdFirstProduce(c)
	t.Cleanup(release)
	done := make(chan error, 1)
	go func() {
		wctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		defer cancel()
		done <- w.WriteMessages(wctx, kafka.Message{Value: []byte("moved"), Partition: 0})
	}()
	<-held
	old := c.LeaderFor("frozen", 0)
	if err := c.MoveTopicPartition("frozen", 0, (old+1)%3); err != nil {
		t.Fatalf("move the partition's leader: %v", err)
	}
	conn.RefreshMetadata() // as the transport's periodic refresh would
	if err := <-done; err != nil {
		t.Fatalf("write while the old leader holds the request: %v", err)
	}
	release()
	if got := readPartition(t, conn, "frozen", 0); len(got) != 2 || got[1] != "moved" {
		t.Fatalf("partition 0 holds %q, want [warm moved]", got)
	}
}

// A fetch in flight to a leader that stops answering is abandoned the
// same way, with errLeaderMoved, which is a stale-metadata error.
func TestWatchLeaderCancelsWhenTheLeaderMoves(t *testing.T) {
	c, conn := producerCluster(t, 3, "watched")
	w := conn.BatchWriter("watched", PartitionBalancer{})
	if err := w.WriteMessages(context.Background(), kafka.Message{Value: []byte("x"), Partition: 0}); err != nil {
		t.Fatal(err)
	}
	old := c.LeaderFor("watched", 0)
	keys := []partitionKey{{"watched", 0}}
	ctx, stop := watchLeader(context.Background(), conn.transport, kafka.TCP(conn.Brokers()...), keys, old)
	defer stop()
	select {
	case <-ctx.Done():
		t.Fatalf("cancelled before the leader moved: %v", context.Cause(ctx))
	case <-time.After(3 * leaderWatchEvery):
	}
	if err := c.MoveTopicPartition("watched", 0, (old+1)%3); err != nil {
		t.Fatal(err)
	}
	conn.RefreshMetadata()
	select {
	case <-ctx.Done():
	case <-time.After(30 * time.Second):
		t.Fatal("the watch did not see the leader move")
	}
	if err := movedErr(ctx, context.Canceled); err != errLeaderMoved || !staleMetadata(err) || !IsRetryable(err) {
		t.Fatalf("movedErr = %v (stale %v, retryable %v), want errLeaderMoved, stale and retryable", err, staleMetadata(err), IsRetryable(err))
	}
}
