package kclient

import (
	"context"
	"fmt"
	"net"
	"sync/atomic"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"
	"github.com/segmentio/kafka-go/protocol/rawproduce"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// holdProduceBeyondTimeout makes the broker hold the first Produce request
// until the producer has sent another (its retry, after its own request
// timed out), then append it: a produce whose first try timed out and was
// written after all.
func holdProduceBeyondTimeout(c *kfake.Cluster) *atomic.Int64 {
	var seen atomic.Int64
	retried := make(chan struct{})
	c.ControlKey(int16(kmsg.Produce), func(kmsg.Request) (kmsg.Response, error, bool) {
		c.KeepControl()
		switch seen.Add(1) {
		case 1:
			c.SleepControl(func() { <-retried })
		case 2:
			close(retried)
		}
		return nil, nil, false
	})
	return &seen
}

// A write whose first request timed out but was appended, and which the
// producer therefore sent again, is on the partition once: the retry
// carries the same producer id and sequence, and the broker recognises it.
// Without idempotence the same story writes it twice (the subtest shows
// the check can fail).
func TestProducerWritesATimedOutRetryOnce(t *testing.T) {
	for _, idempotent := range []bool{true, false} {
		t.Run(fmt.Sprint("idempotent=", idempotent), func(t *testing.T) {
			c, conn := producerCluster(t, 1, "once")
			p := conn.Producer()
			p.idempotent = idempotent
			ctx := context.Background()
			w := conn.BatchWriter("once", PartitionBalancer{})
			if err := w.WriteMessages(ctx, kafka.Message{Value: []byte("warm"), Partition: 1}); err != nil {
				t.Fatal(err)
			}
			p.timeout = 300 * time.Millisecond
			seen := holdProduceBeyondTimeout(c)
			msgs := []kafka.Message{{Value: []byte("a")}, {Value: []byte("b")}, {Value: []byte("c")}}
			if err := Write(ctx, w, msgs, DefaultRetryPolicy(), nil); err != nil {
				t.Fatal(err)
			}
			if seen.Load() < 2 {
				t.Fatalf("%d produce requests, want the first and its retry", seen.Load())
			}
			got := readOrder(t, conn.Brokers(), "once", 0, 3)
			time.Sleep(200 * time.Millisecond) // the held request is appended by now
			offs, err := Offsets(ctx, conn.Client(), "once", 0)
			if err != nil {
				t.Fatal(err)
			}
			want := int64(3)
			if !idempotent {
				want = 6
			}
			if end := offs[0].End; end != want {
				t.Fatalf("partition 0 holds %d records (%q...), want %d", end, got, want)
			}
			if p.Stats().Resent == 0 {
				t.Error("Stats().Resent = 0 after a retry")
			}
		})
	}
}

// answerFirstProduce makes the broker answer the first Produce request with
// code for every partition, appending nothing.
func answerFirstProduce(c *kfake.Cluster, code int16) *atomic.Int64 {
	var n atomic.Int64
	c.ControlKey(int16(kmsg.Produce), func(kreq kmsg.Request) (kmsg.Response, error, bool) {
		n.Add(1)
		req := kreq.(*kmsg.ProduceRequest)
		resp := req.ResponseKind().(*kmsg.ProduceResponse)
		resp.SetVersion(req.GetVersion())
		for _, rt := range req.Topics {
			st := kmsg.NewProduceResponseTopic()
			st.Topic = rt.Topic
			for _, rp := range rt.Partitions {
				sp := kmsg.NewProduceResponseTopicPartition()
				sp.Partition = rp.Partition
				sp.ErrorCode = code
				st.Partitions = append(st.Partitions, sp)
			}
			resp.Topics = append(resp.Topics, st)
		}
		return resp, nil, true
	})
	return &n
}

// OUT_OF_ORDER_SEQUENCE_NUMBER and UNKNOWN_PRODUCER_ID (the broker lost the
// producer's state) bump the partition's epoch and send the batch again
// from sequence 0: the write succeeds, once, in order, and the partition's
// later writes go on from there. Both are handled inside the producer: the
// writer sees no error.
func TestProducerRecoversItsSequence(t *testing.T) {
	for _, code := range []int16{kerr.OutOfOrderSequenceNumber.Code, kerr.UnknownProducerID.Code} {
		t.Run(kerr.ErrorForCode(code).Error(), func(t *testing.T) {
			c, conn := producerCluster(t, 1, "seq")
			p := conn.Producer()
			ctx := context.Background()
			w := conn.BatchWriter("seq", PartitionBalancer{})
			if err := w.WriteMessages(ctx, kafka.Message{Value: []byte("0")}); err != nil {
				t.Fatal(err)
			}
			answered := answerFirstProduce(c, code)
			if err := w.WriteMessages(ctx, kafka.Message{Value: []byte("1")}, kafka.Message{Value: []byte("2")}); err != nil {
				t.Fatalf("write after %v: %v", kerr.ErrorForCode(code), err)
			}
			if answered.Load() != 1 {
				t.Fatalf("%d requests answered with the error, want 1", answered.Load())
			}
			if err := w.WriteMessages(ctx, kafka.Message{Value: []byte("3")}); err != nil {
				t.Fatal(err)
			}
			got := readOrder(t, conn.Brokers(), "seq", 0, 4)
			if fmt.Sprint(got) != "[0 1 2 3]" {
				t.Fatalf("partition 0 holds %q, want [0 1 2 3]", got)
			}
			if b := p.Stats().EpochBumps; b != 1 {
				t.Errorf("%d epoch bumps, want 1", b)
			}
		})
	}
}

// holdPartition is a RoundTripper that holds every Produce request carrying
// partition until released, as a leader that hangs would (kfake's own
// request control stops the whole cluster while it holds one), and passes
// everything else through.
type holdPartition struct {
	kafka.RoundTripper
	partition int32
	held      chan struct{} // closed when the first such request arrives
	release   chan struct{}
	once      atomic.Bool
}

func (h *holdPartition) RoundTrip(ctx context.Context, addr net.Addr, req kafka.Request) (kafka.Response, error) {
	if r, ok := req.(*rawproduce.Request); ok {
		for _, t := range r.Topics {
			for _, p := range t.Partitions {
				if p.Partition == h.partition {
					if h.once.CompareAndSwap(false, true) {
						close(h.held)
					}
					select {
					case <-h.release:
					case <-ctx.Done():
						return nil, ctx.Err()
					}
				}
			}
		}
	}
	return h.RoundTripper.RoundTrip(ctx, addr, req)
}

// While one leader's request hangs, the other leaders' partitions flow: a
// write to a partition led elsewhere completes before the held one.
func TestProducerASlowLeaderHoldsBackOnlyItsPartitions(t *testing.T) {
	_, conn := producerCluster(t, 3, "spread")
	ctx := context.Background()
	w := conn.BatchWriter("spread", PartitionBalancer{})
	for part := range 6 { // warm the metadata and every leader's connection
		if err := w.WriteMessages(ctx, kafka.Message{Value: []byte("warm"), Partition: part}); err != nil {
			t.Fatal(err)
		}
	}
	md, err := conn.Client().Metadata(ctx, &kafka.MetadataRequest{Topics: []string{"spread"}})
	if err != nil {
		t.Fatal(err)
	}
	leaders := map[int]int{}
	for _, part := range md.Topics[0].Partitions {
		leaders[part.ID] = part.Leader.ID
	}
	other := -1
	for part := 1; part < 6; part++ {
		if leaders[part] != leaders[0] {
			other = part
			break
		}
	}
	if other < 0 {
		t.Skipf("kfake put every partition on one leader: %v", leaders)
	}
	p := conn.Producer()
	h := &holdPartition{RoundTripper: p.rt, partition: 0, held: make(chan struct{}), release: make(chan struct{})}
	p.rt = h
	defer close(h.release)
	slow := make(chan error, 1)
	go func() { slow <- w.WriteMessages(ctx, kafka.Message{Value: []byte("slow"), Partition: 0}) }()
	<-h.held
	if err := w.WriteMessages(ctx, kafka.Message{Value: []byte("fast"), Partition: other}); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-slow:
		t.Fatalf("the held write returned (%v) before the other leader's", err)
	default:
	}
}
