package consumer

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"math/rand/v2"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"
	"github.com/sessiond/sessiond/reducer"
)

// The lanes of a task, in tie-break order (docs/design.md §2).
const (
	cartLane = iota
	customerLane
	actionLane
)

// The merger's limits in these tests. They are measured on the fake clock,
// so their size costs no real time.
const (
	testMaxIdle        = 50 * time.Millisecond
	testPendingTimeout = 30 * time.Second
	testAheadBy        = 1000 // ms: far more than the tables' times differ, unless a test says so
)

// bad, given as an occurred_at to the table helpers, stands for a record
// that failed to decode.
const bad int64 = -1 << 63

// guard bounds every blocking call so that a merger bug fails the test
// instead of hanging it. No test asserts on how long anything takes.
const guard = 10 * time.Second

// fakeClock is the merger's injected clock. It starts at the real time
// because merger.wait arms real timers from the deadlines it computes.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func newFakeClock() *fakeClock { return &fakeClock{t: time.Now()} }

func (c *fakeClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// key identifies a record in the merge output.
type key struct {
	src int
	off int64
}

func (k key) String() string { return fmt.Sprintf("%s@%d", reducer.Kind(k.src), k.off) }

func keyOf(r record) key { return key{r.src, r.msg.Offset} }

// rec builds a record of lane src at offset off, occurred at `at` (ms), as
// fetched when the partition's high watermark was hwm. at == bad builds a
// record that failed to decode.
func rec(src int, off, at, hwm int64) record {
	r := record{src: src, msg: kafka.Message{Offset: off, HighWaterMark: hwm}}
	if at == bad {
		r.err = errors.New("decode: short buffer")
		return r
	}
	r.ev = &reducer.Event{Kind: reducer.Kind(src), OccurredAt: at}
	return r
}

// laneSetup is one lane when the merger starts.
type laneSetup struct {
	next, hwm int64    // the lane's start offset and the high watermark known then
	recs      []record // already fetched: buffered in the channel
	closed    bool     // the channel is closed after recs
}

// fetched is a lane whose records (occurred_at times, bad for a decode
// failure) from offset base on are all fetched: nothing more is on the
// broker.
func fetched(src int, base int64, times ...int64) laneSetup {
	hwm := base + int64(len(times))
	l := laneSetup{next: base, hwm: hwm}
	for i, at := range times {
		l.recs = append(l.recs, rec(src, base+int64(i), at, hwm))
	}
	return l
}

// caughtUp is an open lane with nothing fetched and nothing on the broker.
func caughtUp(off int64) laneSetup { return laneSetup{next: off, hwm: off} }

// pendingData is an open lane with nothing fetched yet and records from
// next up to hwm on the broker.
func pendingData(next, hwm int64) laneSetup { return laneSetup{next: next, hwm: hwm} }

// closedLane is a lane whose source has ended without records.
func closedLane() laneSetup { return laneSetup{closed: true} }

func (l laneSetup) thenClosed() laneSetup { l.closed = true; return l }

// testMerger is a merger over buffered channels the test feeds.
type testMerger struct {
	m     *merger
	clock *fakeClock
	chs   [numKinds]chan record
}

func newTestMerger(t testing.TB, setups [numKinds]laneSetup) *testMerger {
	t.Helper()
	tm := &testMerger{clock: newFakeClock()}
	tm.m = &merger{maxIdle: testMaxIdle, aheadBy: testAheadBy, pendingTimeout: testPendingTimeout, now: tm.clock.now}
	for i, s := range setups {
		ch := make(chan record, len(s.recs)+64)
		for _, r := range s.recs {
			ch <- r
		}
		if s.closed {
			close(ch)
		}
		tm.chs[i] = ch
		tm.m.lanes = append(tm.m.lanes, newLane(ch, nil, s.next, s.hwm))
	}
	return tm
}

// send buffers r in its lane's channel.
func (tm *testMerger) send(r record) { tm.chs[r.src] <- r }

func (tm *testMerger) close(src int) { close(tm.chs[src]) }

// mustNext asserts that a non-blocking next returns the record want.
func (tm *testMerger) mustNext(t testing.TB, want key) {
	t.Helper()
	r, ok := tm.m.next(context.Background(), false)
	if !ok {
		t.Fatalf("next: nothing, want %v", want)
	}
	if got := keyOf(r); got != want {
		t.Fatalf("next: %v, want %v", got, want)
	}
}

// mustBlock asserts that a non-blocking next returns nothing.
func (tm *testMerger) mustBlock(t testing.TB) {
	t.Helper()
	if r, ok := tm.m.next(context.Background(), false); ok {
		t.Fatalf("next: %v, want nothing (the merger must wait)", keyOf(r))
	}
}

// nextBlocking calls next(ctx, true) under the guard timeout.
func (tm *testMerger) nextBlocking(t testing.TB) key {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), guard)
	defer cancel()
	r, ok := tm.m.next(ctx, true)
	if !ok {
		t.Fatal("next(ctx, true) returned nothing")
	}
	return keyOf(r)
}

// drain returns what non-blocking next returns until it returns nothing.
func (tm *testMerger) drain(t testing.TB) []key {
	t.Helper()
	var out []key
	for range 10000 {
		r, ok := tm.m.next(context.Background(), false)
		if !ok {
			return out
		}
		out = append(out, keyOf(r))
	}
	t.Fatal("drain: the merger never ran dry")
	return nil
}

func k(src int, off int64) key { return key{src, off} }

func TestMergerOrder(t *testing.T) {
	// Lane base offsets are chosen against the lane order (cart highest), so
	// a tie broken by offset instead of lane would show.
	const cartBase, customerBase, actionBase = 100, 50, 0
	tests := []struct {
		name                   string
		cart, customer, action []int64 // occurred_at per record, in offset order
		want                   []key
	}{
		{
			name: "one lane",
			cart: []int64{1, 2, 3},
			want: []key{k(cartLane, 100), k(cartLane, 101), k(cartLane, 102)},
		},
		{
			name: "interleaved by occurred_at",
			cart: []int64{10, 40}, customer: []int64{20, 50}, action: []int64{30, 60},
			want: []key{k(cartLane, 100), k(customerLane, 50), k(actionLane, 0),
				k(cartLane, 101), k(customerLane, 51), k(actionLane, 1)},
		},
		{
			name: "earlier time beats lane order",
			cart: []int64{20}, customer: []int64{15}, action: []int64{10},
			want: []key{k(actionLane, 0), k(customerLane, 50), k(cartLane, 100)},
		},
		{
			name: "ties by lane, then offset",
			cart: []int64{5, 5}, customer: []int64{5}, action: []int64{5, 5},
			want: []key{k(cartLane, 100), k(cartLane, 101), k(customerLane, 50),
				k(actionLane, 0), k(actionLane, 1)},
		},
		{
			name:     "ties across lanes ignore offsets",
			customer: []int64{7}, action: []int64{3, 7},
			want: []key{k(actionLane, 0), k(customerLane, 50), k(actionLane, 1)},
		},
		{
			name: "a lane's own order is kept",
			cart: []int64{30, 10}, action: []int64{20},
			want: []key{k(actionLane, 0), k(cartLane, 100), k(cartLane, 101)},
		},
		{
			name: "decode failure goes out when it heads its lane",
			cart: []int64{10, 200}, action: []int64{100, bad, 150},
			want: []key{k(cartLane, 100), k(actionLane, 0), k(actionLane, 1),
				k(actionLane, 2), k(cartLane, 101)},
		},
		{
			name: "decode failure before earlier events",
			cart: []int64{10}, customer: []int64{1}, action: []int64{bad, 5},
			want: []key{k(actionLane, 0), k(customerLane, 50), k(actionLane, 1), k(cartLane, 100)},
		},
		{
			name: "decode failures by lane",
			cart: []int64{bad}, customer: []int64{0}, action: []int64{bad},
			want: []key{k(cartLane, 100), k(actionLane, 0), k(customerLane, 50)},
		},
		{
			name: "no records",
			want: nil,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tm := newTestMerger(t, [numKinds]laneSetup{
				fetched(cartLane, cartBase, tt.cart...).thenClosed(),
				fetched(customerLane, customerBase, tt.customer...).thenClosed(),
				fetched(actionLane, actionBase, tt.action...).thenClosed(),
			})
			if got := tm.drain(t); !slices.Equal(got, tt.want) {
				t.Errorf("order\n got %v\nwant %v", got, tt.want)
			}
		})
	}
}

// A record that failed to decode has no event time, so no other lane can
// hold anything that must go before it (merger doc: it goes out "as soon as
// it reaches the head of its lane"): neither pending data nor an idle lane
// is a reason to hold it back.
func TestMergerDecodeFailureIsNotHeldBack(t *testing.T) {
	tests := []struct {
		name   string
		action laneSetup
	}{
		{"pending data on another lane", pendingData(0, 1)},
		{"an idle lane", caughtUp(0)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tm := newTestMerger(t, [numKinds]laneSetup{fetched(cartLane, 0, bad), closedLane(), tt.action})
			tm.mustNext(t, k(cartLane, 0))
		})
	}
}

func TestMergerWaitsForPendingLane(t *testing.T) {
	for pending := range 3 {
		t.Run(reducer.Kind(pending).String(), func(t *testing.T) {
			var setups [numKinds]laneSetup
			for i := range setups {
				setups[i] = fetched(i, 10, 10, 20)
			}
			setups[pending] = pendingData(0, 1)
			tm := newTestMerger(t, setups)

			tm.mustBlock(t)
			tm.clock.advance(10 * testMaxIdle) // max-idle does not apply to pending data
			tm.mustBlock(t)

			go tm.send(rec(pending, 0, 5, 1))
			if got, want := tm.nextBlocking(t), k(pending, 0); got != want {
				t.Fatalf("next(ctx, true): %v, want the pending record %v", got, want)
			}
			tm.close(pending)
			var want []key
			for _, off := range []int64{10, 11} {
				for i := range 3 {
					if i != pending {
						want = append(want, k(i, off))
					}
				}
			}
			// The other lanes ran dry as they were drained; their idle
			// time passes with the clock.
			var got []key
			for range 4 {
				got = append(got, tm.drain(t)...)
				tm.clock.advance(testMaxIdle)
			}
			if !slices.Equal(got, want) {
				t.Errorf("rest\n got %v\nwant %v", got, want)
			}
		})
	}
}

func TestMergerIdleDeadline(t *testing.T) {
	tests := []struct {
		name    string
		advance time.Duration
		flows   bool
	}{
		{"just ran dry", 0, false},
		{"before max-idle", testMaxIdle - time.Nanosecond, false},
		{"at max-idle", testMaxIdle, true},
		{"long after", 100 * testMaxIdle, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tm := newTestMerger(t, [numKinds]laneSetup{
				caughtUp(7),
				closedLane(),
				fetched(actionLane, 0, 10),
			})
			tm.mustBlock(t) // the merger finds the cart lane empty now
			tm.clock.advance(tt.advance)
			if tt.flows {
				tm.mustNext(t, k(actionLane, 0))
			} else {
				tm.mustBlock(t)
			}
		})
	}
}

func TestMergerIdleLaneWaitedAgainOnlyAfterARecord(t *testing.T) {
	tm := newTestMerger(t, [numKinds]laneSetup{
		caughtUp(7),
		closedLane(),
		fetched(actionLane, 0, 10, 20),
	})
	tm.mustBlock(t)
	tm.clock.advance(testMaxIdle)
	tm.mustNext(t, k(actionLane, 0))
	tm.mustNext(t, k(actionLane, 1))

	// The cart lane's idle time is spent: it is not waited for again...
	tm.send(rec(actionLane, 2, 30, 3))
	tm.mustNext(t, k(actionLane, 2))

	// ...until it gets a record. (The action lane has just run dry, so the
	// cart record waits for it in turn.)
	tm.send(rec(cartLane, 7, 40, 8))
	tm.mustBlock(t)
	tm.clock.advance(testMaxIdle)
	tm.mustNext(t, k(cartLane, 7))

	tm.send(rec(actionLane, 3, 50, 4))
	tm.mustBlock(t) // the cart lane ran dry again: a fresh max-idle
	tm.clock.advance(testMaxIdle - time.Nanosecond)
	tm.mustBlock(t)
	tm.clock.advance(time.Nanosecond)
	tm.mustNext(t, k(actionLane, 3))
}

func TestMergerWhichLanesAreWaitedFor(t *testing.T) {
	tests := []struct {
		name     string
		customer laneSetup
		waited   bool
	}{
		{"open and caught up", caughtUp(3), true},
		{"open with data on the broker", pendingData(3, 9), true},
		{"closed", closedLane(), false},
		{"closed with data on the broker", pendingData(3, 9).thenClosed(), false},
		{"closed after its records", fetched(customerLane, 3, 30).thenClosed(), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tm := newTestMerger(t, [numKinds]laneSetup{
				fetched(cartLane, 0, 10, 20).thenClosed(),
				tt.customer,
				closedLane(),
			})
			if tt.waited {
				tm.mustBlock(t)
				return
			}
			tm.mustNext(t, k(cartLane, 0))
			tm.mustNext(t, k(cartLane, 1))
		})
	}
}

func TestMergerContextCancel(t *testing.T) {
	tests := []struct {
		name   string
		setups [numKinds]laneSetup
		before bool // cancel before calling next
	}{
		{
			name:   "waiting for pending data",
			setups: [numKinds]laneSetup{fetched(cartLane, 0, 10), closedLane(), pendingData(0, 1)},
		},
		{
			name:   "cancelled before the call",
			setups: [numKinds]laneSetup{fetched(cartLane, 0, 10), closedLane(), pendingData(0, 1)},
			before: true,
		},
		{
			name:   "every lane empty",
			setups: [numKinds]laneSetup{caughtUp(0), caughtUp(0), caughtUp(0)},
		},
		{
			name:   "every lane closed",
			setups: [numKinds]laneSetup{closedLane(), closedLane(), closedLane()},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tm := newTestMerger(t, tt.setups)
			tm.mustBlock(t)
			tm.clock.advance(testMaxIdle) // no idle timer is left: only ctx can end the wait
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			if tt.before {
				cancel()
			} else {
				time.AfterFunc(10*time.Millisecond, cancel)
			}
			if r, ok := tm.m.next(ctx, true); ok {
				t.Fatalf("next(cancelled ctx, true) = %v, want nothing", keyOf(r))
			}
			// Nothing was lost: the records still come out.
			for i, s := range tt.setups {
				if !s.closed {
					tm.close(i)
				}
			}
			var want []key
			for _, s := range tt.setups {
				for _, r := range s.recs {
					want = append(want, keyOf(r))
				}
			}
			if got := tm.drain(t); !slices.Equal(got, want) {
				t.Errorf("after cancel\n got %v\nwant %v", got, want)
			}
		})
	}
}

func TestMergerPendingTimeout(t *testing.T) {
	tm := newTestMerger(t, [numKinds]laneSetup{
		fetched(cartLane, 100, 10, 20),
		closedLane(),
		pendingData(0, 3), // advertised, never fetched
	})
	action := tm.m.lanes[actionLane]

	tm.mustBlock(t)
	tm.clock.advance(testPendingTimeout - time.Nanosecond)
	tm.mustBlock(t)
	tm.clock.advance(time.Nanosecond)
	tm.mustNext(t, k(cartLane, 100))
	if action.pending() {
		t.Fatalf("after the pending timeout the lane still counts as pending (next %d, hwm %d)", action.next, action.hwm)
	}

	// From now on it is an ordinary caught-up lane: waited for at most max-idle.
	tm.mustBlock(t)
	tm.clock.advance(testMaxIdle)
	tm.mustNext(t, k(cartLane, 101))

	// The data arrives after all: the rest the lane advertises is waited
	// for again, as the look-ahead of its head, then all of it goes out.
	tm.close(cartLane)
	tm.send(rec(actionLane, 0, 5, 3))
	tm.mustBlock(t)
	tm.clock.advance(10 * testMaxIdle)
	tm.mustBlock(t)
	tm.send(rec(actionLane, 1, 6, 3))
	tm.send(rec(actionLane, 2, 7, 3))
	tm.mustNext(t, k(actionLane, 0))
	tm.mustNext(t, k(actionLane, 1))
	tm.mustNext(t, k(actionLane, 2))
}

// The blocking paths with the real clock: a timer, not a record, has to
// wake the merger. Waits are a few milliseconds; nothing asserts on them.
func TestMergerBlockingTimers(t *testing.T) {
	tests := []struct {
		name   string
		action laneSetup
	}{
		{"idle lane", caughtUp(0)},
		{"pending data that never comes", pendingData(0, 1)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tm := newTestMerger(t, [numKinds]laneSetup{fetched(cartLane, 0, 10), closedLane(), tt.action})
			tm.m.now = time.Now
			tm.m.maxIdle = 5 * time.Millisecond
			tm.m.pendingTimeout = 10 * time.Millisecond
			if got, want := tm.nextBlocking(t), k(cartLane, 0); got != want {
				t.Fatalf("next(ctx, true): %v, want %v", got, want)
			}
		})
	}
}

// randomLanes builds three lanes of random length with random base offsets
// and random non-decreasing times from a small range (so that ties across
// lanes are common), and returns them with the expected merge order: by
// (occurred_at, lane, offset).
func randomLanes(r *rand.Rand) ([numKinds][]record, []key) {
	var lanes [numKinds][]record
	var all []record
	for src := range lanes {
		n := r.IntN(20)
		base := r.Int64N(1000)
		times := make([]int64, n)
		for i := range times {
			times[i] = r.Int64N(40)
		}
		slices.Sort(times)
		for i, at := range times {
			lanes[src] = append(lanes[src], rec(src, base+int64(i), at, base+int64(n)))
		}
		all = append(all, lanes[src]...)
	}
	slices.SortFunc(all, func(a, b record) int {
		if a.ev.OccurredAt != b.ev.OccurredAt {
			return int(a.ev.OccurredAt - b.ev.OccurredAt)
		}
		if a.src != b.src {
			return a.src - b.src
		}
		return int(a.msg.Offset - b.msg.Offset)
	})
	want := make([]key, len(all))
	for i, rc := range all {
		want[i] = keyOf(rc)
	}
	return lanes, want
}

// With every record already fetched, the output is the exact global order.
// A lane that runs out of records is waited for max-idle (the clock then
// moves on); nothing else ever stops the merger.
func TestMergerPropertyFetched(t *testing.T) {
	for seed := range uint64(500) {
		r := rand.New(rand.NewPCG(seed, 1))
		lanes, want := randomLanes(r)
		var setups [numKinds]laneSetup
		for src, recs := range lanes {
			setups[src] = laneSetup{recs: recs, closed: r.IntN(2) == 0}
			if len(recs) > 0 {
				setups[src].next, setups[src].hwm = recs[0].msg.Offset, recs[0].msg.HighWaterMark
			}
		}
		tm := newTestMerger(t, setups)
		var got []key
		emitted := [numKinds]int{}
		for len(got) < len(want) {
			rc, ok := tm.m.next(context.Background(), false)
			if ok {
				got = append(got, keyOf(rc))
				emitted[rc.src]++
				continue
			}
			waiting := false // an open lane that has run out is the only reason to wait
			for src := range lanes {
				waiting = waiting || (!setups[src].closed && emitted[src] == len(lanes[src]))
			}
			if !waiting {
				t.Fatalf("seed %d: merger stopped after %v with every open lane holding records", seed, got)
			}
			tm.clock.advance(testMaxIdle)
		}
		if !slices.Equal(got, want) {
			t.Fatalf("seed %d: order\n got %v\nwant %v", seed, got, want)
		}
	}
}

// With records still on the broker (every lane advertises all its data
// from the start) and arriving concurrently in any interleaving, the
// blocking merger outputs the exact global order: a replay is
// deterministic.
func TestMergerPropertyReplay(t *testing.T) {
	for seed := range uint64(100) {
		r := rand.New(rand.NewPCG(seed, 2))
		lanes, want := randomLanes(r)
		var setups [numKinds]laneSetup
		for src, recs := range lanes {
			if len(recs) > 0 {
				setups[src] = pendingData(recs[0].msg.Offset, recs[0].msg.HighWaterMark)
			}
		}
		tm := newTestMerger(t, setups)
		// The clock never moves: a lane is waited for until its source
		// delivers or closes.
		tm.m.maxIdle, tm.m.pendingTimeout = time.Hour, time.Hour
		var wg sync.WaitGroup
		for src, recs := range lanes {
			yields := rand.New(rand.NewPCG(seed, uint64(src)))
			wg.Go(func() {
				for _, rc := range recs {
					for range yields.IntN(3) {
						runtime.Gosched()
					}
					tm.send(rc)
				}
				tm.close(src)
			})
		}
		got := make([]key, 0, len(want))
		for len(got) < len(want) {
			got = append(got, tm.nextBlocking(t))
		}
		wg.Wait()
		if !slices.Equal(got, want) {
			t.Fatalf("seed %d: order\n got %v\nwant %v", seed, got, want)
		}
	}
}

// A caught-up lane that has already delivered a record at or after the
// head's time is not waited for (docs/design.md §2): nothing older can come
// from a lane in event-time order. At an equal time it still is when its
// kind sorts before the head's.
func TestMergerNoWaitForLanePastTheHead(t *testing.T) {
	tm := newTestMerger(t, [numKinds]laneSetup{fetched(cartLane, 0, 100), closedLane(), caughtUp(0)})
	tm.mustBlock(t) // the action lane has delivered nothing yet: waited for --max-idle
	tm.clock.advance(testMaxIdle + time.Millisecond)
	tm.mustNext(t, key{cartLane, 0})
	tm.send(rec(actionLane, 0, 90, 1))
	tm.mustNext(t, key{actionLane, 0}) // the cart lane is at 100 already

	tie := newTestMerger(t, [numKinds]laneSetup{fetched(cartLane, 0, 90), closedLane(), caughtUp(0)})
	tie.mustBlock(t)
	tie.clock.advance(testMaxIdle + time.Millisecond)
	tie.mustNext(t, key{cartLane, 0})
	tie.send(rec(actionLane, 0, 90, 1))
	tie.mustBlock(t) // a later cart at 90 would come first: wait for the cart lane
	tie.clock.advance(testMaxIdle + time.Millisecond)
	tie.mustNext(t, key{actionLane, 0})

	after := newTestMerger(t, [numKinds]laneSetup{closedLane(), fetched(customerLane, 0, 90), caughtUp(0)})
	after.mustBlock(t)
	after.clock.advance(testMaxIdle + time.Millisecond)
	after.mustNext(t, key{customerLane, 0})
	after.send(rec(actionLane, 0, 90, 1))
	after.mustBlock(t) // customer (kind 1) before action (kind 2) at 90: a customer at 90 would precede
	cartFirst := newTestMerger(t, [numKinds]laneSetup{caughtUp(0), fetched(customerLane, 0, 90), closedLane()})
	cartFirst.mustBlock(t)
	cartFirst.clock.advance(testMaxIdle + time.Millisecond)
	cartFirst.mustNext(t, key{customerLane, 0})
	cartFirst.send(rec(cartLane, 0, 90, 1))
	cartFirst.mustNext(t, key{cartLane, 0}) // a customer at 90 sorts after a cart at 90
}

// A lane whose source is decoding a record (a decoder waiting for a
// schema registry) is waited for beyond max-idle and the pending timeout:
// the partition waits rather than apply later records of other lanes first.
func TestMergerWaitsForBusyLane(t *testing.T) {
	var setups [numKinds]laneSetup
	for i := range setups {
		setups[i] = fetched(i, 10, 10, 20)
	}
	setups[actionLane] = caughtUp(0) // nothing known on the broker
	tm := newTestMerger(t, setups)
	busy := new(atomic.Bool)
	busy.Store(true)
	tm.m.lanes[actionLane].busy = busy
	tm.mustBlock(t)
	tm.clock.advance(10 * (testMaxIdle + testPendingTimeout))
	tm.mustBlock(t)
	go func() { tm.send(rec(actionLane, 0, 5, 1)); busy.Store(false) }()
	if got, want := tm.nextBlocking(t), k(actionLane, 0); got != want {
		t.Fatalf("next: %v, want the busy lane's record %v", got, want)
	}
}

// ahead is a time far past every other time in these tables.
const ahead int64 = 1 << 40

// The ahead rule (docs/design.md §2, "Merge order"): a head whose
// occurred_at is more than the allowance past the median of the records
// behind it, or past its own Kafka timestamp, is merged where it stands
// and holds nobody back; the rest of its lane merges by time as if it
// were not there.
func TestMergerAheadRule(t *testing.T) {
	withTS := func(r record, ts int64) record { r.msg.Time = time.UnixMilli(ts); return r }
	tests := []struct {
		name   string
		setups [numKinds]laneSetup
		want   []key
	}{
		{"a future head goes where it stands",
			[numKinds]laneSetup{fetched(cartLane, 0, 5, 15, 25).thenClosed(), closedLane(), fetched(actionLane, 0, ahead, 10, 20, 30).thenClosed()},
			[]key{k(actionLane, 0), k(cartLane, 0), k(actionLane, 1), k(cartLane, 1), k(actionLane, 2), k(cartLane, 2), k(actionLane, 3)}},
		{"two future records in a row: both",
			[numKinds]laneSetup{fetched(cartLane, 0, 5, 15).thenClosed(), closedLane(), fetched(actionLane, 0, ahead, ahead, 10, 20, 30).thenClosed()},
			[]key{k(actionLane, 0), k(actionLane, 1), k(cartLane, 0), k(actionLane, 2), k(cartLane, 1), k(actionLane, 3), k(actionLane, 4)}},
		{"one late record behind a head does not make it ahead",
			[numKinds]laneSetup{fetched(cartLane, 0, 5, 3000).thenClosed(), closedLane(), fetched(actionLane, 0, 2000, -5000, 2010, 2020).thenClosed()},
			[]key{k(cartLane, 0), k(actionLane, 0), k(actionLane, 1), k(actionLane, 2), k(actionLane, 3), k(cartLane, 1)}},
		{"within the allowance: merged by time",
			[numKinds]laneSetup{fetched(cartLane, 0, 5, 15).thenClosed(), closedLane(), fetched(actionLane, 0, 900, 10, 20, 30).thenClosed()},
			[]key{k(cartLane, 0), k(cartLane, 1), k(actionLane, 0), k(actionLane, 1), k(actionLane, 2), k(actionLane, 3)}},
		{"the last record of a lane has nothing behind it: by time",
			[numKinds]laneSetup{fetched(cartLane, 0, 5, 15).thenClosed(), closedLane(), fetched(actionLane, 0, ahead).thenClosed()},
			[]key{k(cartLane, 0), k(cartLane, 1), k(actionLane, 0)}},
		{"past its own Kafka timestamp: ahead with nothing behind it",
			[numKinds]laneSetup{fetched(cartLane, 0, 5, 15).thenClosed(), closedLane(),
				laneSetup{next: 0, hwm: 1, recs: []record{withTS(rec(actionLane, 0, 3000, 1), 1000)}, closed: true}},
			[]key{k(actionLane, 0), k(cartLane, 0), k(cartLane, 1)}},
		{"a rejected record still goes first",
			[numKinds]laneSetup{fetched(cartLane, 0, 5, bad).thenClosed(), closedLane(), fetched(actionLane, 0, ahead, 10).thenClosed()},
			[]key{k(actionLane, 0), k(cartLane, 0), k(cartLane, 1), k(actionLane, 1)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tm := newTestMerger(t, tt.setups)
			if got := tm.drain(t); !slices.Equal(got, tt.want) {
				t.Fatalf("order\n got %v\nwant %v", got, tt.want)
			}
		})
	}
}

// The look-ahead that decides where a head goes is waited for while the
// broker holds it, as a missing head is: a replay gives the same order
// however its fetches are cut.
func TestMergerWaitsForTheLookAhead(t *testing.T) {
	tm := newTestMerger(t, [numKinds]laneSetup{fetched(cartLane, 0, 5, 15), closedLane(), pendingData(0, 4)})
	tm.send(rec(actionLane, 0, ahead, 4))
	tm.mustBlock(t)
	tm.clock.advance(10 * testMaxIdle)
	tm.mustBlock(t)
	tm.send(rec(actionLane, 1, 10, 4))
	tm.send(rec(actionLane, 2, 20, 4))
	tm.mustBlock(t)
	tm.send(rec(actionLane, 3, 30, 4))
	tm.mustNext(t, k(actionLane, 0)) // ahead of 10, 20, 30: where it stands
	tm.mustNext(t, k(cartLane, 0))
}

// visitorRec is a decoded record of visitor v with event id id.
func visitorRec(src int, off, at, hwm int64, v, id string) record {
	r := rec(src, off, at, hwm)
	r.ev.VisitorID, r.ev.EventID = v, id
	return r
}

// outlierLanes builds three lanes of a few visitors' records, each lane
// roughly in time order (jitter well inside the allowance), with
// future-dated records among them (some two in a row), and returns the
// event ids of the future-dated ones.
func outlierLanes(r *rand.Rand) (lanes [numKinds][]record, outliers []string) {
	id := 0
	for src := range lanes {
		at := int64(r.IntN(100))
		n := 5 + r.IntN(25)
		for range n {
			id++
			v := fmt.Sprintf("v%d", r.IntN(5))
			t := at + int64(r.IntN(testAheadBy/3))
			if r.IntN(6) == 0 && sparse(lanes[src]) {
				t = ahead + int64(r.IntN(1000))
				v = fmt.Sprintf("skewed%d", id)
				outliers = append(outliers, fmt.Sprint(id))
			}
			lanes[src] = append(lanes[src], visitorRec(src, 0, t, 0, v, fmt.Sprint(id)))
			at += int64(r.IntN(50))
		}
	}
	return lanes, outliers
}

// sparse reports whether one more future-dated record may follow recs:
// the rule holds for at most two in any lookAhead+1 records in a row (two
// future-dated devices side by side), not for a lane that is mostly them.
func sparse(recs []record) bool {
	n := 0
	for _, rc := range recs[max(0, len(recs)-lookAhead):] {
		if rc.ev.OccurredAt >= ahead {
			n++
		}
	}
	return n < 2
}

// without returns the lanes without the record of event id drop, every
// lane's records numbered from offset 0, as fetched and closed.
func without(lanes [numKinds][]record, drop string) [numKinds]laneSetup {
	var setups [numKinds]laneSetup
	for src, recs := range lanes {
		var kept []record
		for _, rc := range recs {
			if rc.ev.EventID != drop {
				kept = append(kept, rc)
			}
		}
		n := int64(len(kept))
		setups[src] = laneSetup{hwm: n, closed: true}
		for i, rc := range kept {
			rc.msg.Offset, rc.msg.HighWaterMark = int64(i), n
			setups[src].recs = append(setups[src].recs, rc)
		}
	}
	return setups
}

// perVisitor merges the setups and returns each visitor's event ids in
// the order they come out.
func perVisitor(t *testing.T, setups [numKinds]laneSetup) map[string][]string {
	t.Helper()
	tm := newTestMerger(t, setups)
	out := map[string][]string{}
	for {
		rc, ok := tm.m.next(context.Background(), false)
		if !ok {
			break
		}
		out[rc.ev.VisitorID] = append(out[rc.ev.VisitorID], rc.ev.EventID)
	}
	return out
}

// The property of issue 19: removing any one future-dated record changes
// no other visitor's order (so none of their updates), and the order is the
// same however the records arrive.
func TestMergerPropertyOneRecordDecidesNobodyElse(t *testing.T) {
	checked := 0
	for seed := range uint64(300) {
		r := rand.New(rand.NewPCG(seed, 19))
		lanes, outliers := outlierLanes(r)
		all := perVisitor(t, without(lanes, ""))
		for _, drop := range outliers {
			got := perVisitor(t, without(lanes, drop))
			for v, ids := range all {
				if strings.HasPrefix(v, "skewed") {
					continue
				}
				if !slices.Equal(got[v], ids) {
					t.Fatalf("seed %d: removing %s changed %s's order\n with %v\n without %v", seed, drop, v, ids, got[v])
				}
				checked++
			}
		}
		if got := perVisitorConcurrent(t, seed, without(lanes, "")); !maps.EqualFunc(got, all, slices.Equal) {
			t.Fatalf("seed %d: the order depends on how the records arrive\n fetched %v\n arriving %v", seed, all, got)
		}
	}
	if checked == 0 {
		t.Fatal("no visitor checked: the generator makes no outliers")
	}
}

// perVisitorConcurrent is perVisitor with the records advertised at the
// start and sent by one goroutine per lane, in any interleaving.
func perVisitorConcurrent(t *testing.T, seed uint64, setups [numKinds]laneSetup) map[string][]string {
	t.Helper()
	var pending [numKinds]laneSetup
	for src, s := range setups {
		pending[src] = pendingData(0, s.hwm)
	}
	tm := newTestMerger(t, pending)
	tm.m.maxIdle, tm.m.pendingTimeout = time.Hour, time.Hour
	var wg sync.WaitGroup
	n := 0
	for src, s := range setups {
		n += len(s.recs)
		yields := rand.New(rand.NewPCG(seed, uint64(src)))
		wg.Go(func() {
			for _, rc := range s.recs {
				for range yields.IntN(3) {
					runtime.Gosched()
				}
				tm.send(rc)
			}
			tm.close(src)
		})
	}
	out := map[string][]string{}
	ctx, cancel := context.WithTimeout(context.Background(), guard)
	defer cancel()
	for range n {
		rc, ok := tm.m.next(ctx, true)
		if !ok {
			t.Fatal("next(ctx, true) returned nothing")
		}
		out[rc.ev.VisitorID] = append(out[rc.ev.VisitorID], rc.ev.EventID)
	}
	wg.Wait()
	return out
}
