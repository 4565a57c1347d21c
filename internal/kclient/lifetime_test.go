package kclient

import (
	"context"
	"errors"
	"runtime"
	"strings"
	"testing"

	"github.com/segmentio/kafka-go"
	fetchAPI "github.com/segmentio/kafka-go/protocol/fetch"
)

// clientFrames returns the stacks of the goroutines running the Conn's
// rounds or gather timers.
func clientFrames() []string {
	buf := make([]byte, 1<<20)
	buf = buf[:runtime.Stack(buf, true)]
	var out []string
	for _, g := range strings.Split(string(buf), "\n\n") {
		for _, f := range []string{"kclient.(*Producer).drain", "kclient.(*Producer).round",
			"kclient.(*FetchBatcher).round", "kclient.(*FetchBatcher).schedule.func"} {
			if strings.Contains(g, f) {
				out = append(out, g)
				break
			}
		}
	}
	return out
}

// Close cancels the rounds in flight (a produce the broker holds, a long
// poll it has nothing for) and returns only once every goroutine the
// Conn started has ended; then writes and fetches fail with ErrClosed.
func TestCloseWaitsForTheRounds(t *testing.T) {
	c, conn := producerCluster(t, 1, "t")
	w := conn.BatchWriter("t", PartitionBalancer{})
	ctx := context.Background()
	if err := w.WriteMessages(ctx, kafka.Message{Value: []byte("warm")}); err != nil {
		t.Fatal(err)
	}
	held, release := holdFirstProduce(c)
	defer release()
	written := make(chan error, 1)
	go func() { written <- w.WriteMessages(ctx, kafka.Message{Value: []byte("held")}) }()
	fetched := make(chan error, 1)
	go func() { // a long poll past the end: the broker holds it for its MaxWait
		_, err := conn.FetchBatcher().RoundTrip(ctx, kafka.TCP(conn.Brokers()...), longPoll("t", 1))
		fetched <- err
	}()
	<-held
	waitInFlight(t, conn.FetchBatcher())

	if err := conn.Close(); err != nil {
		t.Fatal(err)
	}
	if frames := clientFrames(); len(frames) > 0 {
		t.Fatalf("after Close, %d goroutines of the Conn are left:\n%s", len(frames), strings.Join(frames, "\n\n"))
	}
	if err := <-written; err == nil {
		t.Error("the held write succeeded across Close")
	}
	if err := <-fetched; !errors.Is(err, ErrClosed) {
		t.Errorf("the long poll cut short by Close: %v, want ErrClosed", err)
	}
	if err := w.WriteMessages(ctx, kafka.Message{Value: []byte("late")}); !errors.Is(err, ErrClosed) {
		t.Errorf("write after Close: %v, want ErrClosed", err)
	}
	if err := Write(ctx, w, []kafka.Message{{Value: []byte("late")}}, DefaultRetryPolicy(), nil); !errors.Is(err, ErrClosed) {
		t.Errorf("Write after Close: %v, want ErrClosed at once", err)
	}
	if _, err := conn.FetchBatcher().RoundTrip(ctx, kafka.TCP(conn.Brokers()...), longPoll("t", 1)); !errors.Is(err, ErrClosed) {
		t.Errorf("fetch after Close: %v, want ErrClosed", err)
	}
	if err := conn.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
}

// longPoll is a one-partition Fetch at offset that waits up to a minute.
func longPoll(topic string, offset int64) *fetchAPI.Request {
	return &fetchAPI.Request{ReplicaID: -1, MaxWaitTime: 60_000, MinBytes: 1, MaxBytes: 1 << 20,
		SessionID: -1, SessionEpoch: -1,
		Topics: []fetchAPI.RequestTopic{{Topic: topic, Partitions: []fetchAPI.RequestPartition{{
			Partition: 0, CurrentLeaderEpoch: -1, FetchOffset: offset, LogStartOffset: -1, PartitionMaxBytes: 1 << 20}}}}}
}
