package main

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"
	"github.com/sessiond/sessiond/internal/kclient"
	"github.com/sessiond/sessiond/internal/kclient/kafkatest"
	"github.com/sessiond/sessiond/reducer"
	"github.com/sessiond/sessiond/schemas"
	"github.com/sessiond/sessiond/schemas/eventjson"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// Time: a record's occurred_at decides its own visitor's order and expiry
// and nobody else's (docs/design.md §2, "Clocks").

func rfc3339ms(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z") }

const (
	aliceCartLine   = `{"type":"cart_changed","visitor_id":"alice","event_id":"c1","occurred_at":"%s","cart":{"items":[{"product_id":"p1","name":"Shirt","quantity":1,"unit_price":10,"price_currency_code":"EUR"}]}}`
	actionLine      = `{"type":"action","visitor_id":"%s","event_id":"%s","occurred_at":"%s","action":{"type":"view_cart"}}`
	aliceCartOutput = `"cart":{"items":[{"product_id":"p1","name":"Shirt","quantity":1,"unit_price":10,"price_currency_code":"EUR"}]}`
)

// updateWithID returns the update line with the given update_id.
func updateWithID(t *testing.T, lines []string, id string) string {
	t.Helper()
	for _, l := range lines {
		if got, _ := fields(t, l); got == id {
			return l
		}
	}
	t.Fatalf("no update %s among %d", id, len(lines))
	return ""
}

// One device with a clock years ahead (mallory) must not expire another
// shopper's session (alice), neither at the next flush nor after a restart.
func TestPipelineClockSkewSparesOtherVisitors(t *testing.T) {
	for _, future := range []string{"2031-01-01T00:00:00.000Z", "9999-12-31T23:59:59.999Z"} {
		t.Run(future[:4], func(t *testing.T) {
			e := newEnv(t, 1)
			t0 := time.Now().Add(-time.Minute)
			lines := []string{
				fmt.Sprintf(aliceCartLine, rfc3339ms(t0)),
				fmt.Sprintf(actionLine, "mallory", "m1", future),
				fmt.Sprintf(actionLine, "alice", "a1", rfc3339ms(t0.Add(5*time.Second))),
			}
			e.produce(t, join(lines))
			stop := e.start(t)
			got := e.updates(t, 2, time.Minute)
			if a1 := updateWithID(t, got, "a1"); !strings.Contains(a1, aliceCartOutput) {
				t.Fatalf("a1 lost alice's cart: %s", a1)
			}
			updateWithID(t, got, "m1") // the skewed record is processed for its own visitor
			// The batch with mallory's record has been flushed (and swept):
			// alice's next action must still find her cart.
			a2 := fmt.Sprintf(actionLine, "alice", "a2", rfc3339ms(t0.Add(6*time.Second)))
			e.produce(t, a2+"\n")
			if l := updateWithID(t, e.updates(t, 3, time.Minute), "a2"); !strings.Contains(l, aliceCartOutput) {
				t.Fatalf("a2 lost alice's cart after the flush: %s", l)
			}
			stop()
			// And after a restart, from the changelog.
			a3 := fmt.Sprintf(actionLine, "alice", "a3", rfc3339ms(t0.Add(7*time.Second)))
			e.produce(t, a3+"\n")
			e.start(t)
			all := e.updates(t, 4, time.Minute)
			if l := updateWithID(t, all, "a3"); !strings.Contains(l, aliceCartOutput) {
				t.Fatalf("a3 lost alice's cart after a restart: %s", l)
			}
			want := reduceLines(t, append(lines, a2, a3))
			assertSameUpdates(t, dedupe(t, all), want)
		})
	}
}

// timed is an event line with the Kafka timestamp its record gets.
type timed struct {
	line string
	ts   time.Time
}

// produceTimed writes events with explicit Kafka timestamps, each topic's
// records in the order given.
func (e *env) produceTimed(t *testing.T, evs []timed) {
	t.Helper()
	codecs, err := schemas.Load()
	if err != nil {
		t.Fatal(err)
	}
	topics := [reducer.NumKinds]string{e.cart, e.customer, e.action}
	msgs := make([]kafka.Message, len(evs))
	for i, x := range evs {
		ev, err := eventjson.DecodeEvent([]byte(x.line))
		if err != nil {
			t.Fatalf("event %d: %v", i, err)
		}
		v, err := codecs.EncodeEvent(nil, ev)
		if err != nil {
			t.Fatal(err)
		}
		msgs[i] = kafka.Message{Topic: topics[ev.Kind], Key: []byte(ev.VisitorID), Value: v, Time: x.ts}
	}
	w := kclient.PlainConn(e.brokers).Writer("", &kafka.Murmur2Balancer{})
	defer w.Close()
	if err := kclient.Write(context.Background(), w, msgs, kclient.DefaultRetryPolicy().WithMaxElapsed(time.Minute), nil); err != nil {
		t.Fatal(err)
	}
}

// lastValues reads topic and returns the last value of each key (nil for a
// tombstone).
func lastValues(t *testing.T, brokers []string, topic string) map[string][]byte {
	t.Helper()
	msgs, err := kafkatest.ReadAll(context.Background(), brokers, topic)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string][]byte{}
	for _, m := range msgs {
		out[string(m.Key)] = m.Value
	}
	return out
}

// Memory comes back down after a skewed record: visitors idle beyond the
// TTL (plus the skew allowance), and beyond the sweep grace in broker time,
// are swept and tombstoned, the skewed visitor included, while the
// partition keeps sweeping.
func TestPipelineSweepsAfterSkewedRecord(t *testing.T) {
	e := newEnv(t, 1)
	t0 := time.Now().Add(-10 * time.Minute).Truncate(time.Millisecond)
	later := t0.Add(3 * time.Minute)
	e.produceTimed(t, []timed{
		{fmt.Sprintf(aliceCartLine, rfc3339ms(t0)), t0},
		{fmt.Sprintf(actionLine, "mallory", "m1", "9999-12-31T23:59:59.999Z"), t0},
		{fmt.Sprintf(actionLine, "bob", "b1", rfc3339ms(later)), later},
	})
	e.start(t, "--session-ttl", "1m", "--max-clock-skew", "1s", "--sweep-grace", "1m")
	e.updates(t, 2, time.Minute)
	changelog := e.grp + "-snapshots"
	waitFor(t, time.Minute, "alice and mallory tombstoned", func() bool {
		last := lastValues(t, e.brokers, changelog)
		v1, ok1 := last["alice"]
		v2, ok2 := last["mallory"]
		return ok1 && ok2 && v1 == nil && v2 == nil && last["bob"] != nil
	})
	// snapshot says the visitor was swept, and when.
	msgs, err := kafkatest.ReadAll(context.Background(), e.brokers, changelog)
	if err != nil {
		t.Fatal(err)
	}
	var tombstoned time.Time
	for _, m := range msgs {
		if string(m.Key) == "alice" && m.Value == nil {
			tombstoned = m.Time
		}
	}
	want := `{"visitor_id":"alice","state":"swept","tombstoned_at":"` + rfc3339ms(tombstoned) + `"}`
	if code, out := e.snapshot(t, "alice"); code != 0 || out != want {
		t.Errorf("snapshot of a swept visitor: exit %d, %s; want %s", code, out, want)
	}
	if code, out := e.snapshot(t, "bob"); code != 0 || !strings.HasPrefix(out, `{"visitor_id":"bob","last_seen":`) {
		t.Errorf("snapshot of a live visitor: exit %d, %s; want its snapshot", code, out)
	}
}

// The property: for streams whose records' occurred_at is within
// --max-clock-skew of their Kafka timestamps (cross-visitor disorder up to
// the skew), with the default TTL and sessions that expire, `run` gives
// exactly what `reduce` gives on the merge order, update for update.
func TestPipelineMatchesReduceUnderDisorder(t *testing.T) {
	for seed := uint64(1); seed <= 2; seed++ {
		t.Run(fmt.Sprint(seed), func(t *testing.T) {
			const partitions = 2
			e := newEnv(t, partitions)
			evs := disorderedStream(seed, 120, time.Now().Add(-96*time.Hour))
			e.produceTimed(t, evs)
			want := reduceLines(t, mergeOrder(t, evs, partitions))
			e.start(t, "--max-batch", "20") // small batches: a sweep every hour of stream time
			assertSameUpdates(t, e.updates(t, len(want), 2*time.Minute), want)
		})
	}
}

// disorderedStream returns events of `visitors` shoppers over about four
// days from start: bursts of activity separated by gaps around the 24h TTL
// (some just below it, some just above it plus the skew allowance), each
// record's Kafka timestamp within ±58 min of its occurred_at, in Kafka
// timestamp order (the order producers append them in).
func disorderedStream(seed uint64, visitors int, start time.Time) []timed {
	r := rand.New(rand.NewPCG(seed, 99))
	gaps := []time.Duration{10 * time.Minute, 3 * time.Hour, 23*time.Hour + 30*time.Minute, 23*time.Hour + 55*time.Minute, 24*time.Hour + 30*time.Minute, 27 * time.Hour}
	var out []timed
	n := 0
	for v := range visitors {
		id := fmt.Sprintf("v%d", v)
		at := start.Add(time.Duration(r.IntN(6*3600)) * time.Second)
		for burst := 0; burst < 3; burst++ {
			for range 2 + r.IntN(5) {
				n++
				out = append(out, timed{line: randomEvent(r, id, n, at), ts: at.Add(time.Duration(r.IntN(7000)-3500) * time.Second)})
				at = at.Add(time.Duration(1+r.IntN(120)) * time.Second)
			}
			at = at.Add(gaps[r.IntN(len(gaps))])
		}
	}
	slices.SortStableFunc(out, func(a, b timed) int { return a.ts.Compare(b.ts) })
	return out
}

func randomEvent(r *rand.Rand, visitor string, n int, at time.Time) string {
	ts := rfc3339ms(at)
	switch r.IntN(4) {
	case 0:
		return fmt.Sprintf(`{"type":"cart_changed","visitor_id":%q,"event_id":"e%d","occurred_at":%q,"cart":{"items":[{"product_id":"p%d","name":"n","quantity":%d,"unit_price":1.5,"price_currency_code":"EUR"}]}}`,
			visitor, n, ts, r.IntN(9), 1+r.IntN(3))
	case 1:
		return fmt.Sprintf(`{"type":"customer_changed","visitor_id":%q,"event_id":"e%d","occurred_at":%q,"customer":{"customer_reference":"r%d"}}`,
			visitor, n, ts, r.IntN(9))
	default:
		return fmt.Sprintf(actionLine, visitor, fmt.Sprintf("e%d", n), ts)
	}
}

// mergeOrder returns the events in the order a task merges them when all
// of them are on the broker at its start (docs/design.md §2, "Merge
// order"), with the default --max-clock-skew: per partition (murmur2 of
// the visitor id), each topic's records in offset order.
func mergeOrder(t *testing.T, evs []timed, partitions int) []string {
	t.Helper()
	parts := make([]int, partitions)
	for i := range parts {
		parts[i] = i
	}
	lanes := make([][reducer.NumKinds][]item, partitions)
	bal := &kafka.Murmur2Balancer{}
	for _, x := range evs {
		ev, err := eventjson.DecodeEvent([]byte(x.line))
		if err != nil {
			t.Fatal(err)
		}
		p := bal.Balance(kafka.Message{Key: []byte(ev.VisitorID)}, parts...)
		lanes[p][ev.Kind] = append(lanes[p][ev.Kind], item{x.line, ev, x.ts.UnixMilli()})
	}
	return mergeLanes(lanes, time.Hour)
}

// item is one input record for the reference merge: its event as a JSON
// line (nil ev: it does not decode) and its Kafka timestamp (ms).
type item struct {
	line string
	ev   *reducer.Event
	ts   int64
}

// lookAhead is how many records behind its head the reference merge looks
// at (consumer.lookAhead, restated: this is the spec, not a copy).
const lookAhead = 7

// mergeLanes is the reference merge of docs/design.md §2, written apart
// from the consumer's: per partition, a head that does not decode goes
// first; then a head that is ahead of its lane (its occurred_at more than
// skew past its Kafka timestamp, or past the median of its neighbours: the
// next lookAhead records that decode, at least one, and the newest record
// taken from the lane that was not ahead; the upper median) goes where it
// stands; then the smallest occurred_at, ties by kind. Ties among the
// first two classes go by kind.
func mergeLanes(lanes [][reducer.NumKinds][]item, skew time.Duration) []string {
	allow := skew.Milliseconds()
	var out []string
	for p := range lanes {
		var newest [reducer.NumKinds]*int64
		ahead := func(k int) bool {
			q := lanes[p][k]
			h := q[0].ev
			if q[0].ts > 0 && h.OccurredAt-allow > q[0].ts {
				return true
			}
			var near []int64
			for _, x := range q[1:min(len(q), lookAhead+1)] {
				if x.ev != nil {
					near = append(near, x.ev.OccurredAt)
				}
			}
			if len(near) == 0 {
				return false
			}
			if newest[k] != nil {
				near = append(near, *newest[k])
			}
			slices.Sort(near)
			return near[len(near)/2] < h.OccurredAt-allow
		}
		for {
			best, bestClass := -1, 3
			for k := range reducer.NumKinds {
				q := lanes[p][k]
				if len(q) == 0 {
					continue
				}
				class := 2
				switch {
				case q[0].ev == nil:
					class = 0
				case ahead(k):
					class = 1
				}
				if class < bestClass || class == 2 && bestClass == 2 && reducer.Before(q[0].ev, lanes[p][best][0].ev) {
					best, bestClass = k, class
				}
			}
			if best < 0 {
				break
			}
			h := lanes[p][best][0]
			lanes[p][best] = lanes[p][best][1:]
			if h.ev == nil {
				continue
			}
			if bestClass == 2 && (newest[best] == nil || h.ev.OccurredAt > *newest[best]) {
				at := h.ev.OccurredAt
				newest[best] = &at
			}
			out = append(out, h.line)
		}
	}
	return out
}

// The merge is exact from the first record after a start: a lane whose
// first fetch is slow (here delayed well past --max-idle) still has data on
// the broker, known from ListOffsets at the task's start, so it is waited
// for, and the action sees the cart that happened before it.
func TestPipelineWaitsForSlowFirstFetch(t *testing.T) {
	cluster, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.AllowAutoTopicCreation())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cluster.Close)
	e := &env{brokers: cluster.ListenAddrs(), cart: kafkatest.Name("cart"), customer: kafkatest.Name("customer"),
		action: kafkatest.Name("actions"), out: kafkatest.Name("updates"), dlq: kafkatest.Name("dlq"), grp: kafkatest.Name("sessiond")}
	kafkatest.CreateTopics(t, e.brokers, 1, e.cart, e.customer, e.action, e.out, e.dlq)
	t0 := time.Now().Add(-time.Minute)
	e.produce(t, join([]string{
		fmt.Sprintf(aliceCartLine, rfc3339ms(t0)),
		fmt.Sprintf(actionLine, "alice", "a1", rfc3339ms(t0.Add(time.Second))),
	}))
	var delayed atomic.Bool
	cluster.ControlKey(int16(kmsg.Fetch), func(req kmsg.Request) (kmsg.Response, error, bool) {
		cluster.KeepControl()
		for _, tp := range req.(*kmsg.FetchRequest).Topics {
			if tp.Topic == e.cart && !delayed.Swap(true) {
				cluster.SleepControl(func() { time.Sleep(2 * time.Second) })
			}
		}
		return nil, nil, false
	})
	e.start(t, "--max-idle", "10ms")
	got := e.updates(t, 1, time.Minute)
	if !delayed.Load() {
		t.Fatal("the cart topic's first fetch was never delayed: the test proves nothing")
	}
	if !strings.Contains(got[0], aliceCartOutput) {
		t.Fatalf("the action overtook the slow lane's cart: %s", got[0])
	}
}
