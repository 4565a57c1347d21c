package kclient

import (
	"context"
	"encoding/binary"
	"hash/crc32"
	"slices"
	"testing"

	"github.com/segmentio/kafka-go"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// writeTxn writes values to topic/0 in one transaction of cl, committed or
// aborted.
func writeTxn(t *testing.T, cl *kgo.Client, topic string, commit bool, values ...string) {
	t.Helper()
	ctx := context.Background()
	if err := cl.BeginTransaction(); err != nil {
		t.Fatal(err)
	}
	for _, v := range values {
		if err := cl.ProduceSync(ctx, &kgo.Record{Topic: topic, Partition: 0, Value: []byte(v)}).FirstErr(); err != nil {
			t.Fatal(err)
		}
	}
	if err := cl.EndTransaction(ctx, kgo.TransactionEndTry(commit)); err != nil {
		t.Fatal(err)
	}
}

// fetchAll fetches f until it reaches end and returns the values handed
// over.
func fetchAll(t *testing.T, f *PartitionFetcher, end int64) []string {
	t.Helper()
	var got []string
	for stuck := 0; f.Offset() < end; stuck++ {
		if stuck == 100 {
			t.Fatalf("100 fetches at offset %d moved nothing (end %d); read %q", f.Offset(), end, got)
		}
		from := f.Offset()
		res, err := f.Fetch(context.Background(), func(m kafka.Message, _ int64) bool {
			got = append(got, string(m.Value))
			return true
		})
		if err != nil {
			t.Fatal(err)
		}
		if res.Next != f.Offset() {
			t.Fatalf("result's next %d, fetcher's offset %d", res.Next, f.Offset())
		}
		if f.Offset() != from {
			stuck = -1
		}
	}
	return got
}

// Under ReadCommitted the fetcher drops an aborted transaction's records
// and skips the control markers, reaching the partition's end; under
// ReadUncommitted it hands every record over, and still no marker.
func TestPartitionFetcherFiltersAbortedTransactions(t *testing.T) {
	_, conn := producerCluster(t, 1, "tx")
	cl, err := kgo.NewClient(kgo.SeedBrokers(conn.Brokers()...), kgo.TransactionalID("fetcher-test"),
		kgo.RecordPartitioner(kgo.ManualPartitioner()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	writeTxn(t, cl, "tx", true, "a", "b")
	writeTxn(t, cl, "tx", false, "x", "y")
	writeTxn(t, cl, "tx", true, "c")
	offs, err := Offsets(context.Background(), conn.Client(), "tx", 0)
	if err != nil {
		t.Fatal(err)
	}
	end := offs[0].End // 5 records and 3 markers
	if got := fetchAll(t, NewPartitionFetcher(conn, "tx", 0, 0, ReadCommitted), end); !slices.Equal(got, []string{"a", "b", "c"}) {
		t.Errorf("read_committed: %q, want [a b c]", got)
	}
	if got := fetchAll(t, NewDirectPartitionFetcher(conn, "tx", 0, 0, ReadUncommitted), end); !slices.Equal(got, []string{"a", "b", "x", "y", "c"}) {
		t.Errorf("read_uncommitted: %q, want [a b x y c]", got)
	}
}

// holeyBatch is what Kafka's log cleaner leaves of a batch whose last
// records it removed: the batch's offset range [base, base+lastDelta]
// kept, its records fewer (values, at offset deltas 0, 1, …).
func holeyBatch(base int64, lastDelta uint32, values ...string) []byte {
	var msgs []kafka.Message
	for _, v := range values {
		msgs = append(msgs, kafka.Message{Key: []byte("k" + v), Value: []byte(v)})
	}
	b := encodeBatch(nil, msgs, noIdentity, false)[4:] // without the records field's size
	binary.BigEndian.PutUint64(b[0:], uint64(base))
	binary.BigEndian.PutUint32(b[23:], lastDelta)
	binary.BigEndian.PutUint32(b[17:], crc32.Checksum(b[batchCRCFrom:], castagnoli))
	return b
}

// compactedLog answers every Fetch of topic/0 as a broker holding these
// batches would, one batch per answer (a segment's last batch is answered
// alone): the batch holding the offset asked for, else the first after it.
// kfake's own compaction rewrites a batch's last offset, which Kafka's
// cleaner keeps.
func compactedLog(c *kfake.Cluster, topic string, end int64, batches ...[]byte) {
	bases := make([]int64, len(batches))
	lasts := make([]int64, len(batches))
	for i, b := range batches {
		bases[i] = int64(binary.BigEndian.Uint64(b[0:]))
		lasts[i] = bases[i] + int64(binary.BigEndian.Uint32(b[23:]))
	}
	c.ControlKey(int16(kmsg.Fetch), func(kr kmsg.Request) (kmsg.Response, error, bool) {
		c.KeepControl()
		req := kr.(*kmsg.FetchRequest)
		if len(req.Topics) != 1 || req.Topics[0].Topic != topic {
			return nil, nil, false
		}
		resp := req.ResponseKind().(*kmsg.FetchResponse)
		rt := kmsg.NewFetchResponseTopic()
		rt.Topic, rt.TopicID = req.Topics[0].Topic, req.Topics[0].TopicID
		rp := kmsg.NewFetchResponseTopicPartition()
		rp.HighWatermark, rp.LastStableOffset, rp.LogStartOffset = end, end, 0
		at := req.Topics[0].Partitions[0].FetchOffset
		for i := range batches {
			if lasts[i] >= at {
				rp.RecordBatches = batches[i]
				break
			}
		}
		rt.Partitions = append(rt.Partitions, rp)
		resp.Topics = append(resp.Topics, rt)
		return resp, nil, true
	})
}

// A compacted batch whose last records are gone (offsets 2 to 4 of a
// batch holding only 0 and 1), answered alone as at a segment's end: the
// fetcher moves past the gap to the next batch instead of fetching offset
// 2 again and again. Before, a changelog restore stalled there and, after
// its stall timeout, went on with part of the state.
func TestPartitionFetcherMovesPastACompactedGap(t *testing.T) {
	c, conn := producerCluster(t, 1, "gap")
	const end = 17
	compactedLog(c, "gap", end,
		holeyBatch(0, 4, "a", "b"),
		holeyBatch(5, 1, "f", "g"),
		holeyBatch(7, 9, "h")) // the last batch's tail gone too
	for _, isolation := range []Isolation{ReadUncommitted, ReadCommitted} {
		f := NewDirectPartitionFetcher(conn, "gap", 0, 0, isolation)
		if got := fetchAll(t, f, end); !slices.Equal(got, []string{"a", "b", "f", "g", "h"}) {
			t.Errorf("isolation %d: %q, want [a b f g h]", isolation, got)
		}
	}
}
