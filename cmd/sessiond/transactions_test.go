package main

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/sessiond/sessiond/internal/kclient/kafkatest"
	"github.com/sessiond/sessiond/reducer"
	"github.com/sessiond/sessiond/schemas"
	"github.com/sessiond/sessiond/schemas/eventjson"
	"github.com/twmb/franz-go/pkg/kgo"
)

// Input topics written in transactions (Kafka Streams with exactly-once,
// Flink, Debezium): with the default read_committed isolation, the events
// of an aborted transaction are never applied, committed ones are, and the
// transaction markers are skipped without a dead letter.

// produceTx writes lines in one transaction of a franz-go transactional
// producer (an independent client) and commits or aborts it.
func (e *env) produceTx(t *testing.T, lines []string, commit bool) {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(e.brokers...), kgo.TransactionalID(kafkatest.Name("tx")),
		kgo.RecordPartitioner(kgo.StickyKeyPartitioner(nil))) // murmur2, as Java's producer
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	codecs, err := schemas.Load()
	if err != nil {
		t.Fatal(err)
	}
	topics := [reducer.NumKinds]string{e.cart, e.customer, e.action}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := cl.BeginTransaction(); err != nil {
		t.Fatal(err)
	}
	for _, l := range lines {
		ev, err := eventjson.DecodeEvent([]byte(l))
		if err != nil {
			t.Fatal(err)
		}
		v, err := codecs.EncodeEvent(nil, ev)
		if err != nil {
			t.Fatal(err)
		}
		if err := cl.ProduceSync(ctx, &kgo.Record{Topic: topics[ev.Kind], Key: []byte(ev.VisitorID), Value: v}).FirstErr(); err != nil {
			t.Fatal(err)
		}
	}
	end := kgo.TryAbort
	if commit {
		end = kgo.TryCommit
	}
	if err := cl.EndTransaction(ctx, end); err != nil {
		t.Fatalf("end transaction: %v", err)
	}
}

func TestPipelineTransactionalInputs(t *testing.T) {
	e := newEnv(t, 1)
	t0 := time.Now().Add(-time.Hour)
	at := func(s int) string { return rfc3339ms(t0.Add(time.Duration(s) * time.Second)) }
	before := []string{
		fmt.Sprintf(aliceCartLine, at(0)),
		fmt.Sprintf(actionLine, "alice", "a1", at(1)),
	}
	committed := []string{
		fmt.Sprintf(`{"type":"cart_changed","visitor_id":"bob","event_id":"bc1","occurred_at":%q,"cart":{}}`, at(2)),
		fmt.Sprintf(actionLine, "bob", "b1", at(3)),
	}
	aborted := []string{
		fmt.Sprintf(`{"type":"cart_changed","visitor_id":"alice","event_id":"ac2","occurred_at":%q,"cart":{}}`, at(4)),
		fmt.Sprintf(actionLine, "alice", "aborted-1", at(5)),
		fmt.Sprintf(actionLine, "carol", "aborted-2", at(5)),
	}
	after := []string{
		fmt.Sprintf(actionLine, "alice", "a2", at(6)), // must still see alice's cart
		fmt.Sprintf(actionLine, "bob", "b2", at(7)),   // the last record of the action lane
	}
	// Everything is on the broker before the pipeline starts, so that the
	// merge is exact (in live traffic a lane that has caught up is waited
	// for only --max-idle, and a transaction's records become visible on
	// each topic when its commit marker is written there).
	e.produce(t, join(before))
	e.produceTx(t, committed, true)
	e.produceTx(t, aborted, false)
	e.produce(t, join(after))
	e.start(t)
	// b2 is behind the aborted records in the action topic: once it is out,
	// they have been read.
	got := e.updates(t, 4, time.Minute)
	want := reduceLines(t, append(append(before, committed...), after...))
	assertSameUpdates(t, got, want)
	// The dead letters of a batch are acknowledged with its updates.
	dead, err := kafkatest.ReadAll(context.Background(), e.brokers, e.dlq)
	if err != nil {
		t.Fatal(err)
	}
	if len(dead) != 0 {
		t.Errorf("%d dead letters: transaction markers or aborted records were rejected", len(dead))
	}
}
