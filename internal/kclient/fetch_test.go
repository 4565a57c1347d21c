package kclient

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// countFetches counts the Fetch requests the cluster receives and the
// partitions they name, without handling them.
func countFetches(c *kfake.Cluster) (requests, partitions *atomic.Int64) {
	requests, partitions = new(atomic.Int64), new(atomic.Int64)
	c.ControlKey(int16(kmsg.Fetch), func(r kmsg.Request) (kmsg.Response, error, bool) {
		c.KeepControl()
		requests.Add(1)
		for _, t := range r.(*kmsg.FetchRequest).Topics {
			partitions.Add(int64(len(t.Partitions)))
		}
		return nil, nil, false
	})
	return requests, partitions
}

// Readers of many partitions that long-poll at once share requests: one
// per leader per round, each answered with its own partition's records
// only, and a reader waiting on an empty partition is answered when its
// data comes, not at the end of another partition's long poll.
func TestFetchBatcherMergesReaders(t *testing.T) {
	c, conn := producerCluster(t, 3, "a", "b")
	ctx := context.Background()
	var msgs []kafka.Message
	for _, topic := range []string{"a", "b"} {
		for p := range 6 {
			for i := range 3 {
				msgs = append(msgs, kafka.Message{Topic: topic, Partition: p, Value: []byte(fmt.Sprintf("%s%d-%d", topic, p, i))})
			}
		}
	}
	if err := conn.BatchWriter("", PartitionBalancer{}).WriteMessages(ctx, msgs...); err != nil {
		t.Fatal(err)
	}
	requests, partitions := countFetches(c)
	client := &kafka.Client{Addr: kafka.TCP(conn.Brokers()...), Transport: conn.FetchBatcher()}
	fetch := func(topic string, p int, offset int64) ([]string, error) {
		res, err := client.Fetch(ctx, &kafka.FetchRequest{Topic: topic, Partition: p, Offset: offset, MinBytes: 1, MaxBytes: 1 << 20, MaxWait: 5 * time.Second})
		if err != nil {
			return nil, err
		}
		if res.Error != nil {
			return nil, res.Error
		}
		var out []string
		for {
			r, err := res.Records.ReadRecord()
			if err != nil {
				return out, nil
			}
			v := make([]byte, 64)
			n, _ := r.Value.Read(v)
			out = append(out, string(v[:n]))
		}
	}
	// Twelve readers at once, each of a partition with data.
	var wg sync.WaitGroup
	got := make([][]string, 12)
	errs := make([]error, 12)
	for i := range 12 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			got[i], errs[i] = fetch([]string{"a", "b"}[i/6], i%6, 0)
		}()
	}
	wg.Wait()
	for i := range 12 {
		topic, p := []string{"a", "b"}[i/6], i%6
		want := []string{fmt.Sprintf("%s%d-0", topic, p), fmt.Sprintf("%s%d-1", topic, p), fmt.Sprintf("%s%d-2", topic, p)}
		if errs[i] != nil || fmt.Sprint(got[i]) != fmt.Sprint(want) {
			t.Errorf("%s/%d: %q, %v; want %q", topic, p, got[i], errs[i], want)
		}
	}
	// 12 partitions on 3 leaders: far fewer requests than readers (the
	// first reader's round may leave before the others arrive).
	if r, n := requests.Load(), partitions.Load(); r >= 12 || n != 12 {
		t.Errorf("%d fetch requests naming %d partitions for 12 readers, want fewer requests, 12 partitions", r, n)
	}
	t.Logf("12 readers: %d requests", requests.Load())

	// A reader at the end of an empty partition long-polls; another comes
	// while that round is in flight, and is answered at once.
	idle := make(chan error, 1)
	go func() {
		_, err := fetch("a", 0, 3)
		idle <- err
	}()
	waitInFlight(t, conn.FetchBatcher())
	begin := time.Now()
	if v, err := fetch("b", 1, 0); err != nil || len(v) != 3 {
		t.Fatalf("b/1 while a/0 long-polls: %q, %v", v, err)
	}
	if d := time.Since(begin); d >= 5*time.Second {
		t.Errorf("b/1 answered after %v: held behind a/0's long poll", d)
	}
	if err := conn.BatchWriter("a", PartitionBalancer{}).WriteMessages(ctx, kafka.Message{Partition: 0, Value: []byte("late")}); err != nil {
		t.Fatal(err)
	}
	if err := <-idle; err != nil {
		t.Fatal(err)
	}
}

// waitInFlight waits until a round of b is in flight.
func waitInFlight(t *testing.T, b *FetchBatcher) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		b.mu.Lock()
		n := 0
		for _, g := range b.groups {
			n += g.inFlight
		}
		b.mu.Unlock()
		if n > 0 {
			return
		}
		time.Sleep(time.Millisecond)
	}
	t.Fatal("no round in flight")
}

// A reader that stops waiting gets its context's error; its partition is
// left out of the rounds that have not left yet.
func TestFetchBatcherGivesUpWithTheContext(t *testing.T) {
	_, conn := producerCluster(t, 1, "a")
	client := &kafka.Client{Addr: kafka.TCP(conn.Brokers()...), Transport: conn.FetchBatcher()}
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	_, err := client.Fetch(ctx, &kafka.FetchRequest{Topic: "a", Partition: 0, Offset: 0, MinBytes: 1, MaxBytes: 1 << 20, MaxWait: 5 * time.Second})
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v, want the context's deadline", err)
	}
}
