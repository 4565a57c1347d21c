package kclient

import (
	"context"
	"slices"
	"testing"

	"github.com/segmentio/kafka-go"
	"github.com/twmb/franz-go/pkg/kgo"
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
	for f.Offset() < end {
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
