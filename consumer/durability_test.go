package consumer

import (
	"context"
	"errors"
	"log/slog"
	"reflect"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/segmentio/kafka-go"
	"github.com/sessiond/sessiond/emitter"
	"github.com/sessiond/sessiond/internal/kclient"
	"github.com/sessiond/sessiond/internal/kclient/kafkatest"
	"github.com/sessiond/sessiond/reducer"
	"github.com/sessiond/sessiond/schemas"
)

// These tests exercise the durability core (the flush protocol, the
// changelog) against the embedded broker, without a consumer group.

func loadCodecs(t testing.TB) *schemas.Codecs {
	t.Helper()
	c, err := schemas.Load()
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func cartEvent(visitor, id string, at int64, products ...string) *reducer.Event {
	cart := &reducer.Cart{Items: []reducer.Item{}}
	for _, p := range products {
		cart.Items = append(cart.Items, reducer.Item{ProductID: p, Name: "n", Quantity: 1, UnitPrice: 1, PriceCurrencyCode: "EUR"})
	}
	return &reducer.Event{Kind: reducer.KindCart, VisitorID: visitor, EventID: id, OccurredAt: at, Cart: cart}
}

func actionEvent(visitor, id string, at int64) *reducer.Event {
	return &reducer.Event{Kind: reducer.KindAction, VisitorID: visitor, EventID: id, OccurredAt: at,
		Action: &reducer.Action{Type: reducer.ActionViewCart}}
}

// The changelog's records restore exactly the snapshots they were made
// from; a tombstone removes its visitor; the latest record of a key wins.
func TestChangelogRoundTrip(t *testing.T) {
	brokers := kafkatest.Embedded(t)
	topic := kafkatest.Name("changelog")
	kafkatest.CreateTopics(t, brokers, 2, topic)
	codecs := loadCodecs(t)
	client := kclient.PlainConn(brokers).Client()
	cl := newChangelog(topic, kclient.PlainConn(brokers), client, codecs, kclient.ReadUncommitted)
	t.Cleanup(func() { cl.writer.Close() })

	red := newReducer(t)
	apply(t, red, cartEvent("v1", "c1", 1000, "p1"), actionEvent("v1", "a1", 1001),
		cartEvent("v2", "c2", 1000, "p2"), cartEvent("v3", "c3", 1000, "p3"))
	write := func(dirty []string, gone []string) {
		t.Helper()
		set := map[string]struct{}{}
		for _, id := range dirty {
			set[id] = struct{}{}
		}
		msgs, err := cl.messages(red, 1, set, gone)
		if err != nil {
			t.Fatal(err)
		}
		if err := kclient.Write(context.Background(), cl.writer, msgs, kclient.DefaultRetryPolicy(), nil); err != nil {
			t.Fatal(err)
		}
	}
	write([]string{"v1", "v2", "v3"}, nil)
	// v1 changes again (its later record must win), this time with a
	// broker time, which its record's touched header carries.
	if _, err := red.ApplyAt(cartEvent("v1", "c4", 2000, "p9"), 7777); err != nil {
		t.Fatal(err)
	}
	write([]string{"v1"}, []string{"v3"}) // and v3 is tombstoned

	for _, lazy := range []bool{true, false} {
		restored := newReducer(t)
		if lazy {
			restored = newLazyReducer(t, codecs)
		}
		sink := &restoreRecorder{red: restored, decodedTS: map[string]int64{}, encodedTS: map[string]int64{}}
		res, err := cl.restore(context.Background(), 1, sink, func(int64, int64) {})
		if err != nil {
			t.Fatal(err)
		}
		if res.records != 5 || res.snapshots != 2 || res.corrupt != 0 {
			t.Errorf("lazy %v: restore = %+v, want 5 records, 2 snapshots", lazy, res)
		}
		installed := sink.decodedTS
		if lazy {
			installed = sink.encodedTS
			if len(sink.decodedTS) != 0 || restored.Encoded() != 2 {
				t.Errorf("lazy: %d decoded during the restore, %d kept encoded; want 0, 2", len(sink.decodedTS), restored.Encoded())
			}
		}
		if len(installed) != 2 || installed["v1"] <= 0 || installed["v2"] <= 0 {
			t.Errorf("lazy %v: the sink was told of %v, want v1 and v2 with their records' timestamps", lazy, installed)
		}
		if lazy && (sink.lastSeen["v1"] != 2000 || sink.lastSeen["v2"] != 1000) {
			t.Errorf("LastSeen from the headers = %v, want v1 2000, v2 1000", sink.lastSeen)
		}
		for _, id := range []string{"v1", "v2"} {
			want := *red.Snapshot(id)
			if want.Touched == 0 { // no header: the record's timestamp stands in
				want.Touched = installed[id]
			}
			if !reflect.DeepEqual(restored.Snapshot(id), &want) {
				t.Errorf("lazy %v: %s restored as %+v, want %+v", lazy, id, restored.Snapshot(id), &want)
			}
		}
		if restored.Snapshot("v3") != nil {
			t.Errorf("lazy %v: tombstoned v3 was restored", lazy)
		}
	}
	empty := newReducer(t)
	if res, err := cl.restore(context.Background(), 0, &restoreRecorder{red: empty}, func(int64, int64) {}); err != nil || res.records != 0 || empty.Len() != 0 {
		t.Errorf("restore of an empty partition = %+v, %v", res, err)
	}
}

// Records written before the LastSeen header existed are decoded during
// the restore; a header that does not parse counts as none.
func TestChangelogRestoresRecordsWithoutHeader(t *testing.T) {
	brokers := kafkatest.Embedded(t)
	topic := kafkatest.Name("changelog")
	kafkatest.CreateTopics(t, brokers, 1, topic)
	codecs := loadCodecs(t)
	conn := kclient.PlainConn(brokers)
	cl := newChangelog(topic, conn, conn.Client(), codecs, kclient.ReadUncommitted)
	t.Cleanup(func() { cl.writer.Close() })
	red := newReducer(t)
	apply(t, red, cartEvent("v1", "c1", 1000, "p1"), cartEvent("v2", "c2", 1500, "p2"))
	msgs, err := cl.messages(red, 0, map[string]struct{}{"v1": {}, "v2": {}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := range msgs {
		if string(msgs[i].Key) == "v1" {
			msgs[i].Headers = nil
		} else {
			msgs[i].Headers = []kafka.Header{{Key: HeaderLastSeen, Value: []byte("soon")}}
		}
	}
	if err := kclient.Write(context.Background(), cl.writer, msgs, kclient.DefaultRetryPolicy(), nil); err != nil {
		t.Fatal(err)
	}
	restored := newLazyReducer(t, codecs)
	sink := &restoreRecorder{red: restored, decodedTS: map[string]int64{}, encodedTS: map[string]int64{}}
	if _, err := cl.restore(context.Background(), 0, sink, func(int64, int64) {}); err != nil {
		t.Fatal(err)
	}
	if len(sink.decodedTS) != 2 || len(sink.encodedTS) != 0 {
		t.Errorf("decoded %v, encoded %v; want both decoded", sink.decodedTS, sink.encodedTS)
	}
	for _, id := range []string{"v1", "v2"} {
		want := *red.Snapshot(id)
		want.Touched = sink.decodedTS[id]
		if !reflect.DeepEqual(restored.Snapshot(id), &want) {
			t.Errorf("%s restored as %+v, want %+v", id, restored.Snapshot(id), &want)
		}
	}
}

// restoreRecorder installs into red and records what it was told.
type restoreRecorder struct {
	red                  *reducer.Reducer
	decodedTS, encodedTS map[string]int64
	lastSeen             map[string]int64
}

func (s *restoreRecorder) decoded(id string, snap *reducer.Snapshot, ts int64) {
	s.red.Restore(id, snap)
	s.decodedTS[id] = ts
}

func (s *restoreRecorder) encoded(id string, lastSeen, touched int64, data []byte, ts int64) bool {
	if !s.red.RestoreEncoded(id, lastSeen, touched, data) {
		return false
	}
	if s.lastSeen == nil {
		s.lastSeen = map[string]int64{}
	}
	s.encodedTS[id], s.lastSeen[id] = ts, lastSeen
	return true
}

func newLazyReducer(t testing.TB, codecs *schemas.Codecs) *reducer.Reducer {
	t.Helper()
	r, err := reducer.New(reducer.Config{SessionTTL: DefaultSessionTTL, Decode: codecs.DecodeSnapshot})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func newReducer(t testing.TB) *reducer.Reducer {
	t.Helper()
	r, err := reducer.New(reducer.Config{SessionTTL: DefaultSessionTTL})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func apply(t testing.TB, r *reducer.Reducer, evs ...*reducer.Event) {
	t.Helper()
	for _, ev := range evs {
		if _, err := r.Apply(ev); err != nil {
			t.Fatal(err)
		}
	}
}

// journal records the flush steps in the order they happen.
type journal struct {
	mu    sync.Mutex
	steps []string
}

func (j *journal) add(s string) {
	j.mu.Lock()
	defer j.mu.Unlock()
	j.steps = append(j.steps, s)
}

func (j *journal) get() []string {
	j.mu.Lock()
	defer j.mu.Unlock()
	return append([]string(nil), j.steps...)
}

// recordingSink journals each successful Write; it fails the first fails
// calls.
type recordingSink struct {
	name    string
	j       *journal
	mu      sync.Mutex
	fails   int
	updates int
}

func (s *recordingSink) Name() string { return s.name }

func (s *recordingSink) Write(_ context.Context, us []*reducer.Update) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.fails > 0 {
		s.fails--
		return errors.New("sink unavailable")
	}
	s.updates += len(us)
	s.j.add(s.name)
	return nil
}

// noRetry gives up after the first failure, so that a test sees it.
var noRetry = kclient.RetryPolicy{Initial: time.Millisecond, Max: time.Millisecond, MaxElapsed: time.Nanosecond}

// flushTask is a task wired to recording sinks and a changelogStore with a
// journaled state pipe and a journaled commit, with dead letters on the
// embedded broker.
func flushTask(t *testing.T, j *journal, sinks ...Sink) (*task, []string, string) {
	t.Helper()
	brokers := kafkatest.Embedded(t)
	dlq := kafkatest.Name("dlq")
	kafkatest.CreateTopics(t, brokers, 1, dlq)
	dead := kclient.PlainConn(brokers).Writer(dlq, &kafka.Murmur2Balancer{})
	t.Cleanup(func() { dead.Close() })
	log := slog.New(slog.DiscardHandler)
	topics := [numKinds]string{"cart", "customer", "actions"}
	metrics := NewMetrics().forPartition(0, topics)
	st := &changelogStore{
		partition: 0, topics: topics, cfg: reducer.Config{SessionTTL: DefaultSessionTTL}, maxSkew: DefaultMaxClockSkew,
		changelog: &changelog{codec: loadCodecs(t)},
		write:     func(context.Context, []kafka.Message) error { j.add("changelog"); return nil },
		commit:    func(map[string]map[int]int64) { j.add("commit") },
		retained:  &retainedStates{}, status: NewStatus(), metrics: metrics, log: log, staged: newStaged(),
		red: newReducer(t), clock: newStreamClock(DefaultMaxClockSkew, DefaultSweepGrace),
	}
	tk := newTask(taskDeps{
		partition: 0, topics: topics, state: st,
		outputs:  &outputs{sinks: sinks, deadLetters: dead, retry: noRetry, metrics: NewMetrics(), log: log},
		emit:     emitAll,
		counts:   &runCounts{},
		status:   NewStatus(),
		metrics:  metrics,
		log:      log,
		retry:    kclient.DefaultRetryPolicy(),
		maxBatch: DefaultMaxBatch,
	})
	tk.red, tk.clock = st.red, st.clock
	tk.merger = &merger{lanes: []*lane{{}, {}, {}}}
	st.open(context.Background())
	return tk, brokers, dlq
}

// storeOf returns a flushTask's state.
func storeOf(tk *task) *changelogStore { return tk.state.(*changelogStore) }

func processAll(tk *task, evs ...*reducer.Event) {
	for i, ev := range evs {
		tk.process(record{src: int(ev.Kind), msg: kafka.Message{Offset: int64(i)}, ev: ev})
	}
}

// The flush order: every sink has the updates before the changelog is
// written, and the changelog before the offsets are committed.
func TestTaskFlushOrder(t *testing.T) {
	j := &journal{}
	a, b := &recordingSink{name: "sink-a", j: j}, &recordingSink{name: "sink-b", j: j}
	tk, _, _ := flushTask(t, j, a, b)
	processAll(tk, cartEvent("v1", "c1", 1000, "p1"), actionEvent("v1", "a1", 1001), actionEvent("v2", "a2", 1002))
	if err := tk.flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	storeOf(tk).pipe.drain()
	steps := j.get()
	if len(steps) != 4 || steps[2] != "changelog" || steps[3] != "commit" {
		t.Fatalf("steps %v, want both sinks, then changelog, then commit", steps)
	}
	if a.updates != 2 || b.updates != 2 {
		t.Errorf("sinks got %d and %d updates, want 2 each", a.updates, b.updates)
	}
	if !tk.batch.empty() {
		t.Error("the batch was not reset after its flush")
	}
}

// A sink that fails stops the flush before the changelog and the commit;
// the retried flush sends only to the sink that has not acknowledged yet.
func TestTaskFlushResumesAfterSinkFailure(t *testing.T) {
	j := &journal{}
	ok, flaky := &recordingSink{name: "ok", j: j}, &recordingSink{name: "flaky", j: j, fails: 1}
	tk, _, _ := flushTask(t, j, ok, flaky)
	processAll(tk, actionEvent("v1", "a1", 1000))
	if err := tk.flush(context.Background()); err == nil {
		t.Fatal("flush succeeded with a failing sink")
	}
	if steps := j.get(); !reflect.DeepEqual(steps, []string{"ok"}) {
		t.Fatalf("after the failed flush: %v, want only the healthy sink", steps)
	}
	if !tk.batch.flushing() {
		t.Fatal("the batch is not marked as being flushed")
	}
	if err := tk.flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	storeOf(tk).pipe.drain()
	if steps := j.get(); !reflect.DeepEqual(steps, []string{"ok", "flaky", "changelog", "commit"}) {
		t.Errorf("steps %v, want ok, flaky, changelog, commit", steps)
	}
	if ok.updates != 1 {
		t.Errorf("the healthy sink got %d updates, want 1 (no resend)", ok.updates)
	}
}

// Rejected records reach the dead-letter topic before the commit, and a
// batch with only dead letters still commits.
func TestTaskFlushDeadLettersBeforeCommit(t *testing.T) {
	j := &journal{}
	tk, brokers, dlq := flushTask(t, j, &recordingSink{name: "sink", j: j})
	tk.process(record{src: int(reducer.KindCart), msg: kafka.Message{Topic: "cart", Offset: 7, Value: []byte("junk")},
		err: errors.New("decode: junk")})
	if err := tk.flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	storeOf(tk).pipe.drain()
	if steps := j.get(); !reflect.DeepEqual(steps, []string{"changelog", "commit"}) {
		t.Errorf("steps %v, want changelog then commit (no updates for the sink)", steps)
	}
	msgs, err := kafkatest.ReadAll(context.Background(), brokers, dlq)
	if err != nil {
		t.Fatal(err)
	}
	if len(msgs) != 1 || string(msgs[0].Value) != "junk" {
		t.Fatalf("dead-letter topic holds %d records, want the one rejected record", len(msgs))
	}
	headers := map[string]string{}
	for _, h := range msgs[0].Headers {
		headers[h.Key] = string(h.Value)
	}
	if headers[emitter.HeaderSourceTopic] != "cart" || headers[emitter.HeaderSourceOffset] != "7" || headers[emitter.HeaderReason] != "decode" {
		t.Errorf("dead-letter headers %v lack the provenance", headers)
	}
}

// With a commit interval, batches go to the sinks as they are flushed, but
// the changelog and the commit wait for the interval: then each visitor
// the batches touched is written once, as it stands, and the newest offsets
// are committed after it.
func TestTaskCoalescesChangelogPerInterval(t *testing.T) {
	j := &journal{}
	sink := &recordingSink{name: "sink", j: j}
	tk, _, _ := flushTask(t, j, sink)
	st := storeOf(tk)
	st.pipe.drain() // reopened below with a recording write
	st.commitInterval = time.Hour
	var keys []string
	var committed []map[string]map[int]int64
	write := func(_ context.Context, msgs []kafka.Message) error {
		for _, m := range msgs {
			keys = append(keys, string(m.Key))
		}
		j.add("changelog")
		return nil
	}
	st.write = write
	st.commit = func(o map[string]map[int]int64) {
		committed = append(committed, o)
		j.add("commit")
	}
	st.open(context.Background())

	tk.process(record{src: int(reducer.KindCart), msg: kafka.Message{Offset: 10}, ev: cartEvent("v1", "c1", 1000, "p1")})
	tk.process(record{src: int(reducer.KindAction), msg: kafka.Message{Offset: 20}, ev: actionEvent("v1", "a1", 1001)})
	if err := tk.flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	tk.process(record{src: int(reducer.KindAction), msg: kafka.Message{Offset: 21}, ev: actionEvent("v1", "a2", 1002)})
	tk.process(record{src: int(reducer.KindAction), msg: kafka.Message{Offset: 22}, ev: actionEvent("v2", "a3", 1003)})
	if err := tk.flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	if steps := j.get(); !reflect.DeepEqual(steps, []string{"sink", "sink"}) || tk.due() {
		t.Fatalf("within the interval: %v (due %v), want both batches at the sink and nothing else", steps, tk.due())
	}
	if err := tk.handedOff(context.Background()); err != nil { // as the drain or the interval's end does
		t.Fatalf("hand-off failed: %v", err)
	}
	storeOf(tk).pipe.drain()
	if steps := j.get(); !reflect.DeepEqual(steps, []string{"sink", "sink", "changelog", "commit"}) {
		t.Fatalf("steps %v, want one changelog write and one commit after the sinks", steps)
	}
	slices.Sort(keys)
	if !reflect.DeepEqual(keys, []string{"v1", "v2"}) {
		t.Errorf("changelog keys %v, want each visitor once", keys)
	}
	want := map[string]map[int]int64{"cart": {0: 11}, "actions": {0: 23}}
	if len(committed) != 1 || !reflect.DeepEqual(committed[0], want) {
		t.Errorf("committed %v, want %v: the newest offset of each input", committed, want)
	}
	if !st.staged.empty() {
		t.Error("the staged batches were not cleared after the hand-off")
	}
}

// A snapshot restored encoded is decoded on the visitor's next event; one
// that does not decode is counted, and the visitor starts afresh.
func TestTaskDecodesRestoredSnapshotsOnFirstUse(t *testing.T) {
	j := &journal{}
	sink := &recordingSink{name: "sink", j: j}
	tk, _, _ := flushTask(t, j, sink)
	codecs := loadCodecs(t)
	st := storeOf(tk)
	cfg := st.cfg
	cfg.Decode = st.decodeSnapshot
	red, err := reducer.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	tk.red, st.red = red, red
	src := newReducer(t)
	apply(t, src, cartEvent("good", "c1", 1000, "p1"))
	data, err := codecs.EncodeSnapshot(nil, src.Snapshot("good"))
	if err != nil {
		t.Fatal(err)
	}
	into := restoreInto{red: tk.red, clock: tk.clock}
	if !into.encoded("good", 1000, 1000, data, 1000) || !into.encoded("bad", 1000, 1000, []byte{0xff, 0x01}, 1000) {
		t.Fatal("the reducer refused encoded snapshots")
	}
	processAll(tk, actionEvent("good", "a1", 2000), actionEvent("bad", "a2", 2000))
	ups := tk.batch.updates
	if len(ups) != 2 {
		t.Fatalf("%d updates, want 2", len(ups))
	}
	if ups[0].Cart == nil || len(ups[0].Cart.Items) != 1 || ups[0].Cart.Items[0].ProductID != "p1" {
		t.Errorf("good's update has cart %+v, want the restored one", ups[0].Cart)
	}
	if ups[1].Cart != nil {
		t.Errorf("bad's update has cart %+v, want none (a fresh snapshot)", ups[1].Cart)
	}
	if got := counterValue(t, tk.metrics.shared.Corrupt); got != 1 {
		t.Errorf("sessiond_snapshots_corrupt_total = %v, want 1", got)
	}
	if tk.red.Encoded() != 0 || tk.red.Len() != 2 {
		t.Errorf("Encoded %d, Len %d; want 0, 2", tk.red.Encoded(), tk.red.Len())
	}
}

// counterValue reads a counter's value.
func counterValue(t *testing.T, c prometheus.Counter) float64 {
	t.Helper()
	var m dto.Metric
	if err := c.Write(&m); err != nil {
		t.Fatal(err)
	}
	return m.GetCounter().GetValue()
}
