package kclient

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// producerCluster starts a kfake cluster of brokers brokers with the topics
// seeded (6 partitions each, leaders spread over the brokers) and returns
// it with a Conn to it.
func producerCluster(t *testing.T, brokers int, topics ...string) (*kfake.Cluster, *Conn) {
	t.Helper()
	c, err := kfake.NewCluster(kfake.NumBrokers(brokers), kfake.SeedTopics(6, topics...))
	if err != nil {
		t.Fatalf("start kfake: %v", err)
	}
	t.Cleanup(c.Close)
	return c, PlainConn(c.ListenAddrs())
}

// countProduce counts the Produce requests the cluster receives, without
// handling them.
func countProduce(c *kfake.Cluster) *atomic.Int64 {
	var n atomic.Int64
	c.ControlKey(int16(kmsg.Produce), func(kmsg.Request) (kmsg.Response, error, bool) {
		c.KeepControl()
		n.Add(1)
		return nil, nil, false
	})
	return &n
}

// holdFirstProduce makes the broker hold the next Produce request until
// release is called (more than once is fine); held is closed once the
// request is in the broker.
func holdFirstProduce(c *kfake.Cluster) (held <-chan struct{}, release func()) {
	in, out := make(chan struct{}), make(chan struct{})
	var first atomic.Bool
	var released sync.Once
	c.ControlKey(int16(kmsg.Produce), func(kmsg.Request) (kmsg.Response, error, bool) {
		// kfake runs this function for every Produce while the first
		// sleeps: the others pass (a sync.Once would hold them too).
		if first.CompareAndSwap(false, true) {
			close(in)
			c.SleepControl(func() { <-out })
		} else {
			c.KeepControl()
		}
		return nil, nil, false
	})
	return in, func() { released.Do(func() { close(out) }) }
}

// readPartition returns the values of topic/partition from the start.
func readPartition(t *testing.T, conn *Conn, topic string, partition int) []string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var out []string
	for offset := int64(0); ; {
		res, err := conn.Client().Fetch(ctx, &kafka.FetchRequest{Topic: topic, Partition: partition, Offset: offset, MinBytes: 1, MaxBytes: 1 << 20, MaxWait: 10 * time.Millisecond})
		if err != nil {
			t.Fatalf("fetch %s/%d: %v", topic, partition, err)
		}
		if res.Error != nil {
			t.Fatalf("fetch %s/%d: %v", topic, partition, res.Error)
		}
		n := 0
		for {
			r, err := res.Records.ReadRecord()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				t.Fatalf("read %s/%d: %v", topic, partition, err)
			}
			v, _ := io.ReadAll(r.Value)
			out = append(out, string(v))
			offset = r.Offset + 1
			n++
		}
		if offset >= res.HighWatermark || n == 0 {
			return out
		}
	}
}

// While a leader's request is in flight, what writers hand the producer
// for its partitions waits, and the next request carries all of it: one
// request, however many writers and partitions. Every record lands in its
// partition in the order of its call.
func TestProducerBatchesWhatWaits(t *testing.T) {
	c, conn := producerCluster(t, 1, "updates", "changelog")
	p := conn.Producer()
	ctx := context.Background()
	// Warm the transport's metadata, then count.
	if err := conn.BatchWriter("updates", PartitionBalancer{}).WriteMessages(ctx, kafka.Message{Value: []byte("warm")}); err != nil {
		t.Fatal(err)
	}
	requests := countProduce(c)
	held, release := holdFirstProduce(c)
	first := make(chan error, 1)
	go func() {
		first <- conn.BatchWriter("updates", PartitionBalancer{}).WriteMessages(ctx, kafka.Message{Value: []byte("first")})
	}()
	<-held // the first round is in flight, held by the broker

	const writers, perWriter = 20, 30
	var wg sync.WaitGroup
	errs := make([]error, writers)
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			topic, bal := "updates", kafka.Balancer(&kafka.Murmur2Balancer{})
			if w%2 == 1 {
				topic, bal = "changelog", PartitionBalancer{}
			}
			msgs := make([]kafka.Message, perWriter)
			for i := range msgs {
				msgs[i] = kafka.Message{Key: []byte(fmt.Sprint("k", i%7)), Value: []byte(fmt.Sprintf("w%02d-%03d", w, i)), Partition: i % 6}
			}
			errs[w] = conn.BatchWriter(topic, bal).WriteMessages(ctx, msgs...)
		}()
	}
	waitQueued(t, p, writers*perWriter)
	release()
	wg.Wait()
	if err := <-first; err != nil {
		t.Fatal(err)
	}
	for w, err := range errs {
		if err != nil {
			t.Fatalf("writer %d: %v", w, err)
		}
	}
	t.Logf("%d produce requests", requests.Load())
	// One held request, then one for the 20 writers.
	if n := requests.Load(); n != 2 {
		t.Errorf("%d produce requests for 1 + %d writes over 12 partitions of one leader, want 2", n, writers)
	}
	// Every record is there, each writer's in its order within a partition.
	got := map[string]int{}
	for _, topic := range []string{"updates", "changelog"} {
		for part := range 6 {
			last := map[string]string{}
			for _, v := range readPartition(t, conn, topic, part) {
				got[v]++
				if len(v) < 3 || v[0] != 'w' {
					continue
				}
				w := v[:3]
				if prev, ok := last[w]; ok && prev > v {
					t.Errorf("%s/%d: %s after %s", topic, part, v, prev)
				}
				last[w] = v
			}
		}
	}
	for w := range writers {
		for i := range perWriter {
			if v := fmt.Sprintf("w%02d-%03d", w, i); got[v] != 1 {
				t.Errorf("%s written %d times, want once", v, got[v])
			}
		}
	}
}

// waitQueued waits until n records wait in p's partition queues.
func waitQueued(t *testing.T, p *Producer, n int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		p.mu.Lock()
		q := 0
		for _, pq := range p.parts {
			q += len(pq.waiting)
		}
		p.mu.Unlock()
		if q >= n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d records queued, want %d", q, n)
		}
		time.Sleep(time.Millisecond)
	}
}

// A record for a partition that does not exist fails alone: WriteMessages
// returns kafka.WriteErrors with an error at its index and nil at the
// others', which are written.
func TestProducerReportsFailuresByRecord(t *testing.T) {
	_, conn := producerCluster(t, 1, "t")
	conn.Producer().metadataWait = 100 * time.Millisecond // it waits for a partition the metadata does not show yet
	w := conn.BatchWriter("t", PartitionBalancer{})
	err := w.WriteMessages(context.Background(),
		kafka.Message{Value: []byte("a"), Partition: 0},
		kafka.Message{Value: []byte("b"), Partition: 99},
		kafka.Message{Value: []byte("c"), Partition: 1})
	var werrs kafka.WriteErrors
	if !errors.As(err, &werrs) || len(werrs) != 3 {
		t.Fatalf("err = %v, want kafka.WriteErrors of 3", err)
	}
	if werrs[0] != nil || werrs[1] == nil || werrs[2] != nil {
		t.Errorf("errors by record = %v, want only the second", werrs)
	}
	if got := readPartition(t, conn, "t", 0); len(got) != 1 || got[0] != "a" {
		t.Errorf("partition 0 holds %q, want [a]", got)
	}
	if got := readPartition(t, conn, "t", 1); len(got) != 1 || got[0] != "c" {
		t.Errorf("partition 1 holds %q, want [c]", got)
	}
}

// A round never gives a partition more than roundPartitionRecords records;
// the rest of a large write follows in the next rounds, in order.
func TestProducerSplitsLargeWrites(t *testing.T) {
	c, conn := producerCluster(t, 1, "big")
	requests := countProduce(c)
	const n = 2*roundPartitionRecords + 10
	msgs := make([]kafka.Message, n)
	for i := range msgs {
		msgs[i] = kafka.Message{Value: []byte(fmt.Sprintf("%06d", i))}
	}
	if err := conn.BatchWriter("big", PartitionBalancer{}).WriteMessages(context.Background(), msgs...); err != nil {
		t.Fatal(err)
	}
	if r := requests.Load(); r != 3 {
		t.Errorf("%d requests for %d records to one partition, want 3", r, n)
	}
	got := readPartition(t, conn, "big", 0)
	if len(got) != n {
		t.Fatalf("%d records, want %d", len(got), n)
	}
	for i, v := range got {
		if v != fmt.Sprintf("%06d", i) {
			t.Fatalf("record %d is %s", i, v)
		}
	}
}

// A write whose context has ended returns its error and sends nothing that
// was still waiting.
func TestProducerGivesUpWithTheContext(t *testing.T) {
	c, conn := producerCluster(t, 1, "t")
	requests := countProduce(c)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	err := conn.BatchWriter("t", PartitionBalancer{}).WriteMessages(ctx, kafka.Message{Value: []byte("x")})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	time.Sleep(50 * time.Millisecond) // a round that wrongly started would have sent by now
	if r := requests.Load(); r != 0 {
		t.Errorf("%d produce requests after a cancelled write, want 0", r)
	}
}

// A dispatch that fails before any request — the transport has no
// metadata yet (its first metadata request was lost, as when a connection
// pool is started against a frozen broker) — is tried again after a
// backoff. It used to wait for the next write to wake the scheduler, so a
// writer waiting for its records hung for good (seen in the three-broker
// frozen-broker case).
func TestProducerRetriesADispatchThatFoundNoMetadata(t *testing.T) {
	c, conn := producerCluster(t, 1, "t")
	defer conn.Close()
	var lost atomic.Int64
	c.ControlKey(int16(kmsg.Metadata), func(kmsg.Request) (kmsg.Response, error, bool) {
		if lost.Add(1) == 1 {
			c.KeepControl()
			return nil, errors.New("lost"), true // kfake closes the connection
		}
		return nil, nil, false
	})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	w := conn.Producer().Writer("t", PartitionBalancer{})
	if err := w.WriteMessages(ctx, kafka.Message{Partition: 1, Value: []byte("v")}); err != nil {
		t.Fatalf("write after the first metadata request was lost: %v", err)
	}
	if lost.Load() < 2 {
		t.Fatalf("%d metadata requests: the lost one was never retried", lost.Load())
	}
}
