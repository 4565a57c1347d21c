package kclient

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// readIsolated reads every record of topic with franz-go (an independent
// client) at the given isolation and returns their values, sorted.
func readIsolated(t *testing.T, brokers []string, topic string, committed bool) []string {
	t.Helper()
	iso := kgo.ReadUncommitted()
	if committed {
		iso = kgo.ReadCommitted()
	}
	cl, err := kgo.NewClient(kgo.SeedBrokers(brokers...), kgo.ConsumeTopics(topic), kgo.FetchIsolationLevel(iso),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	var out []string
	for ctx.Err() == nil {
		fs := cl.PollFetches(ctx)
		fs.EachRecord(func(r *kgo.Record) { out = append(out, string(r.Value)) })
	}
	sort.Strings(out)
	return out
}

// committedOffsets returns the group's committed offsets of topic.
func committedOffsets(t *testing.T, brokers []string, group, topic string) map[int32]int64 {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(brokers...))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	req := kmsg.NewPtrOffsetFetchRequest()
	req.Group = group
	rt := kmsg.NewOffsetFetchRequestTopic()
	rt.Topic = topic
	rt.Partitions = []int32{0, 1, 2, 3, 4, 5}
	req.Topics = append(req.Topics, rt)
	res, err := req.RequestWith(context.Background(), cl)
	if err != nil {
		t.Fatal(err)
	}
	out := map[int32]int64{}
	for _, tp := range res.Topics {
		for _, p := range tp.Partitions {
			if p.Offset >= 0 {
				out[p.Partition] = p.Offset
			}
		}
	}
	return out
}

// txnWrite writes values to topic's partitions 0 and 1 through tp.
func txnWrite(t *testing.T, tp *TxnProducer, topic string, values ...string) {
	t.Helper()
	msgs := make([]kafka.Message, len(values))
	for i, v := range values {
		msgs[i] = kafka.Message{Partition: i % 2, Value: []byte(v)}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := tp.Writer(topic, PartitionBalancer{}).WriteMessages(ctx, msgs...); err != nil {
		t.Fatalf("write %v: %v", values, err)
	}
}

func TestTxnProducerCommitsRecordsAndOffsetsTogether(t *testing.T) {
	c, conn := producerCluster(t, 3, "out", "in")
	defer conn.Close()
	ctx := context.Background()
	tp := conn.TxnProducer("g-task-0", 10*time.Second)
	if err := tp.Init(ctx); err != nil {
		t.Fatal(err)
	}
	txnWrite(t, tp, "out", "a1", "a2", "a3")
	if got := readIsolated(t, c.ListenAddrs(), "out", true); len(got) != 0 {
		t.Fatalf("read_committed sees %v before the commit", got)
	}
	if got := readIsolated(t, c.ListenAddrs(), "out", false); len(got) != 3 {
		t.Fatalf("read_uncommitted sees %v before the commit, want the 3 records", got)
	}
	// Offsets of a group with no members: generation -1 and no member
	// (the simple consumer's commit).
	if err := tp.Commit(ctx, &TxnOffsets{Group: "g", Generation: -1, Offsets: map[string]map[int]int64{"in": {0: 7, 3: 9}}}); err != nil {
		t.Fatal(err)
	}
	if got, want := fmt.Sprint(readIsolated(t, c.ListenAddrs(), "out", true)), "[a1 a2 a3]"; got != want {
		t.Fatalf("read_committed after the commit: %s, want %s", got, want)
	}
	if got, want := fmt.Sprint(committedOffsets(t, c.ListenAddrs(), "g", "in")), "map[0:7 3:9]"; got != want {
		t.Fatalf("committed offsets %s, want %s", got, want)
	}
	// A second transaction, aborted: its records stay invisible to
	// read_committed readers, and its offsets are not committed.
	txnWrite(t, tp, "out", "b1", "b2")
	if err := tp.Abort(ctx); err != nil {
		t.Fatal(err)
	}
	wctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if err := tp.Writer("out", PartitionBalancer{}).WriteMessages(wctx, kafka.Message{Value: []byte("after-abort")}); !errors.Is(err, ErrTxnAbortable) {
		t.Fatalf("a write after Abort and before Init: %v, want ErrTxnAbortable", err)
	}
	if err := tp.Init(ctx); err != nil {
		t.Fatal(err)
	}
	txnWrite(t, tp, "out", "c1")
	if err := tp.Commit(ctx, &TxnOffsets{Group: "g", Generation: -1, Offsets: map[string]map[int]int64{"in": {0: 8}}}); err != nil {
		t.Fatal(err)
	}
	if got, want := fmt.Sprint(readIsolated(t, c.ListenAddrs(), "out", true)), "[a1 a2 a3 c1]"; got != want {
		t.Fatalf("read_committed after an aborted and a committed transaction: %s, want %s", got, want)
	}
	if got := readIsolated(t, c.ListenAddrs(), "out", false); len(got) != 6 {
		t.Fatalf("read_uncommitted sees %v, want all 6 records (the aborted ones too)", got)
	}
	if got, want := fmt.Sprint(committedOffsets(t, c.ListenAddrs(), "g", "in")), "map[0:8 3:9]"; got != want {
		t.Fatalf("committed offsets %s, want %s", got, want)
	}
	// Nothing written, no offsets: a commit that does nothing.
	if err := tp.Commit(ctx, nil); err != nil {
		t.Fatalf("empty commit: %v", err)
	}
}

// A second producer of the same transactional id (the partition's new
// owner) fences the first: the first's open transaction is aborted, and
// its next write and commit are refused with ErrProducerFenced.
func TestTxnProducerNewOwnerFencesTheOld(t *testing.T) {
	c, conn := producerCluster(t, 1, "out")
	defer conn.Close()
	ctx := context.Background()
	old := conn.TxnProducer("g-task-3", 10*time.Second)
	if err := old.Init(ctx); err != nil {
		t.Fatal(err)
	}
	txnWrite(t, old, "out", "zombie1", "zombie2")

	conn2 := PlainConn(c.ListenAddrs())
	defer conn2.Close()
	owner := conn2.TxnProducer("g-task-3", 10*time.Second)
	if err := owner.Init(ctx); err != nil {
		t.Fatal(err)
	}
	txnWrite(t, owner, "out", "owner1")
	if err := owner.Commit(ctx, nil); err != nil {
		t.Fatal(err)
	}

	err := old.Commit(ctx, nil)
	if !errors.Is(err, ErrProducerFenced) {
		t.Fatalf("the old owner's commit: %v, want ErrProducerFenced", err)
	}
	wctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if err := old.Writer("out", PartitionBalancer{}).WriteMessages(wctx, kafka.Message{Value: []byte("zombie3")}); !errors.Is(err, ErrProducerFenced) {
		t.Fatalf("the old owner's write: %v, want ErrProducerFenced", err)
	}
	if got, want := fmt.Sprint(readIsolated(t, c.ListenAddrs(), "out", true)), "[owner1]"; got != want {
		t.Fatalf("read_committed: %s, want %s (the zombie's open transaction aborted)", got, want)
	}

	// The fenced producer, initialised again (its member owns the
	// partition again in a later generation), writes and commits.
	if err := old.Init(ctx); err != nil {
		t.Fatal(err)
	}
	txnWrite(t, old, "out", "again1")
	if err := old.Commit(ctx, nil); err != nil {
		t.Fatalf("commit after Init of a once fenced producer: %v", err)
	}
	if got, want := fmt.Sprint(readIsolated(t, c.ListenAddrs(), "out", true)), "[again1 owner1]"; got != want {
		t.Fatalf("read_committed: %s, want %s", got, want)
	}
}

// The group coordinator refuses a transactional offset commit from a
// member that is not in the generation (KIP-447): the commit fails with
// the group's error and the transaction is left to abort.
func TestTxnProducerOffsetCommitOfAStaleMemberIsRefused(t *testing.T) {
	c, conn := producerCluster(t, 1, "out", "in")
	defer conn.Close()
	ctx := context.Background()
	// A real member of group g, so that the group has a generation.
	member, err := kgo.NewClient(kgo.SeedBrokers(c.ListenAddrs()...), kgo.ConsumerGroup("g"), kgo.ConsumeTopics("in"))
	if err != nil {
		t.Fatal(err)
	}
	defer member.Close()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		pctx, cancel := context.WithTimeout(ctx, 200*time.Millisecond)
		member.PollFetches(pctx)
		cancel()
		if gen, ok := member.GroupMetadata(); gen != "" && ok >= 0 {
			break
		}
	}
	tp := conn.TxnProducer("g-task-0", 10*time.Second)
	if err := tp.Init(ctx); err != nil {
		t.Fatal(err)
	}
	txnWrite(t, tp, "out", "x")
	cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	err = tp.Commit(cctx, &TxnOffsets{Group: "g", Generation: 999, Member: "not-a-member", Offsets: map[string]map[int]int64{"in": {0: 1}}})
	if !IsFenced(err) {
		t.Fatalf("commit of a stale member: %v, want a group fencing error", err)
	}
	if err := tp.Abort(ctx); err != nil {
		t.Fatal(err)
	}
	if got := readIsolated(t, c.ListenAddrs(), "out", true); len(got) != 0 {
		t.Fatalf("read_committed sees %v after the refused commit was aborted", got)
	}
}

// A write whose partition cannot be added to the transaction (the
// coordinator refuses it for good) fails with ErrTxnAbortable instead of
// waiting: its records were queued while the transaction was still
// usable, and used to wait for a dispatch that never came (seen after a
// broker restart, when kafka-go answered BROKER_NOT_AVAILABLE).
func TestTxnProducerWriteFailsWhenTheTransactionMustAbort(t *testing.T) {
	c, conn := producerCluster(t, 1, "out")
	defer conn.Close()
	ctx := context.Background()
	tp := conn.TxnProducer("g-task-0", 10*time.Second)
	if err := tp.Init(ctx); err != nil {
		t.Fatal(err)
	}
	c.ControlKey(int16(kmsg.AddPartitionsToTxn), func(req kmsg.Request) (kmsg.Response, error, bool) {
		r := req.(*kmsg.AddPartitionsToTxnRequest)
		res := r.ResponseKind().(*kmsg.AddPartitionsToTxnResponse)
		for _, rt := range r.Topics {
			st := kmsg.NewAddPartitionsToTxnResponseTopic()
			st.Topic = rt.Topic
			for _, p := range rt.Partitions {
				sp := kmsg.NewAddPartitionsToTxnResponseTopicPartition()
				sp.Partition = p
				sp.ErrorCode = 48 // INVALID_TXN_STATE
				st.Partitions = append(st.Partitions, sp)
			}
			res.Topics = append(res.Topics, st)
		}
		return res, nil, true
	})
	wctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	err := Write(wctx, tp.Writer("out", PartitionBalancer{}), []kafka.Message{{Partition: 1, Value: []byte("x")}}, DefaultRetryPolicy(), nil)
	if !errors.Is(err, ErrTxnAbortable) {
		t.Fatalf("write into a transaction that cannot add its partition: %v, want ErrTxnAbortable", err)
	}
	if err := tp.Abort(ctx); err != nil {
		t.Logf("abort: %v", err)
	}
}
