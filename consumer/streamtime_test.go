package consumer

import (
	"slices"
	"testing"
	"time"

	"github.com/sessiond/sessiond/reducer"
)

const (
	hour = int64(time.Hour / time.Millisecond)
	day  = 24 * hour
)

// clockTask applies events to a reducer and a stream clock as a task does,
// with each event's Kafka timestamp given explicitly.
type clockTask struct {
	t     *testing.T
	red   *reducer.Reducer
	clock *streamClock
}

func newClockTask(t *testing.T) *clockTask {
	return &clockTask{t: t, red: newReducer(t), clock: newStreamClock(time.Hour, time.Hour)}
}

// apply applies one event as a task does.
func (c *clockTask) apply(ev *reducer.Event, ts int64) {
	c.t.Helper()
	if _, _, err := c.clock.apply(c.red, ev, ts); err != nil {
		c.t.Fatal(err)
	}
}

func TestStreamClockBound(t *testing.T) {
	c := newStreamClock(time.Hour, time.Hour)
	tests := []struct {
		name          string
		occurred, ts  int64
		want          int64
		wantDirection int
	}{
		{"on time", 10 * hour, 10 * hour, 10 * hour, skewNone},
		{"ahead within the skew", 10*hour + hour, 10 * hour, 11 * hour, skewNone},
		{"ahead beyond the skew", 50 * day, 10 * hour, 11 * hour, skewAhead},
		{"behind beyond the skew (a late batch)", 10 * hour, 20 * hour, 10 * hour, skewBehind},
		{"no Kafka timestamp", 50 * day, 0, 50 * day, skewNone},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, dir := c.bound(tt.occurred, tt.ts)
			if got != tt.want || dir != tt.wantDirection {
				t.Errorf("bound(%d, %d) = %d, %d; want %d, %d", tt.occurred, tt.ts, got, dir, tt.want, tt.wantDirection)
			}
		})
	}
}

// One record from a device years ahead moves stream time by at most the
// skew, so the sweep keeps everyone else's snapshots.
func TestStreamClockSkewedRecordSweepsNobodyElse(t *testing.T) {
	for _, future := range []int64{5 * 365 * day, 8000 * 365 * day} {
		c := newClockTask(t)
		now := 100 * day
		c.apply(cartEvent("alice", "c1", now, "p1"), now)
		c.apply(actionEvent("mallory", "m1", now+future), now)
		if c.clock.now != now+hour {
			t.Fatalf("stream time %d after the skewed record, want %d", c.clock.now, now+hour)
		}
		if gone := c.clock.sweep(c.red); len(gone) != 0 {
			t.Errorf("sweep dropped %v", gone)
		}
		if c.red.Snapshot("alice") == nil {
			t.Error("alice's snapshot is gone")
		}
	}
}

// After a skewed record, honest records still move stream time, idle
// visitors are still swept, and the skewed visitor is swept too once its
// bounded time is idle beyond the TTL: memory comes back down.
func TestStreamClockKeepsSweepingAfterSkew(t *testing.T) {
	c := newClockTask(t)
	now := 100 * day
	c.apply(cartEvent("alice", "c1", now, "p1"), now)
	c.apply(actionEvent("mallory", "m1", 8000*365*day), now)
	later := now + day + 3*hour + time.Minute.Milliseconds()
	c.apply(actionEvent("bob", "b1", later), later)
	gone := c.clock.sweep(c.red)
	slices.Sort(gone)
	if !slices.Equal(gone, []string{"alice", "mallory"}) {
		t.Errorf("sweep dropped %v, want alice and mallory (idle beyond TTL + 2×skew)", gone)
	}
	if c.red.Len() != 1 || len(c.clock.ahead) != 0 {
		t.Errorf("%d snapshots and %d tracked visitors left, want bob only", c.red.Len(), len(c.clock.ahead))
	}
}

// A visitor idle for less than TTL + 2×skew is kept: its next event, even
// an hour late, finds the snapshot the reducer would have kept.
func TestStreamClockKeepsVisitorsWithinTheAllowance(t *testing.T) {
	c := newClockTask(t)
	now := 100 * day
	c.apply(cartEvent("alice", "c1", now, "p1"), now)
	later := now + day + 2*hour - 1
	c.apply(actionEvent("bob", "b1", later), later)
	if gone := c.clock.sweep(c.red); len(gone) != 0 {
		t.Errorf("sweep dropped %v", gone)
	}
}

// A skewed visitor's own later events keep it tracked, with its bounded
// time moving on; an honest event beyond its skewed LastSeen untracks it.
func TestStreamClockTracksSkewedVisitor(t *testing.T) {
	c := newClockTask(t)
	now := 100 * day
	c.apply(actionEvent("m", "m1", now+10*day), now)
	if hk := c.clock.ahead["m"]; hk != now+hour {
		t.Fatalf("tracked at %d, want %d", hk, now+hour)
	}
	c.apply(actionEvent("m", "m2", now+2*hour), now+2*hour)
	if hk := c.clock.ahead["m"]; hk != now+2*hour {
		t.Errorf("tracked at %d after an honest event, want %d", hk, now+2*hour)
	}
	c.apply(actionEvent("m", "m3", now+11*day), now+11*day)
	if c.clock.tracked("m") {
		t.Error("still tracked after an honest event beyond its LastSeen")
	}
}

// A snapshot restored from the changelog moves the clock no further than
// its record's timestamp plus the skew.
func TestStreamClockRestored(t *testing.T) {
	c := newStreamClock(time.Hour, time.Hour)
	now := 100 * day
	c.restored("alice", now, now+time.Second.Milliseconds())
	c.restored("mallory", 8000*365*day, now)
	if c.now != now+hour {
		t.Errorf("stream time %d after restore, want %d", c.now, now+hour)
	}
	if !c.tracked("mallory") || c.tracked("alice") {
		t.Errorf("tracked %v, want mallory only", c.ahead)
	}
}

// History produced now (old occurred_at, fresh Kafka timestamps, visitors'
// clocks far apart): a visitor idle in event time but seen within the
// grace in broker time is kept, so its next record, minutes away on the
// broker, finds its snapshot; once broker time moves past the grace, it
// goes.
func TestStreamClockGraceKeepsHistoryProducedNow(t *testing.T) {
	c := newClockTask(t)
	now := 1000 * day
	c.apply(cartEvent("alice", "c1", 100*day, "p1"), now)
	c.apply(actionEvent("bob", "b1", 150*day), now+time.Second.Milliseconds())
	if gone := c.clock.sweep(c.red); len(gone) != 0 {
		t.Fatalf("sweep dropped %v, seen a second ago in broker time", gone)
	}
	c.apply(actionEvent("alice", "a1", 100*day+hour), now+time.Minute.Milliseconds())
	if s := c.red.Snapshot("alice"); s == nil || s.Cart == nil {
		t.Fatalf("alice's snapshot %+v lost her cart", s)
	}
	c.apply(actionEvent("carol", "x1", 150*day), now+2*hour)
	gone := c.clock.sweep(c.red)
	slices.Sort(gone)
	if !slices.Equal(gone, []string{"alice"}) {
		t.Errorf("sweep after 2h of broker time dropped %v, want alice (bob is not idle in event time)", gone)
	}
}

// Skewed (tracked) visitors obey the grace too (here longer than the TTL,
// which only a tracked visitor's bounded time can tell apart).
func TestStreamClockGraceKeepsTrackedVisitors(t *testing.T) {
	c := newClockTask(t)
	c.clock = newStreamClock(time.Hour, 48*time.Hour)
	now := 1000 * day
	c.apply(actionEvent("mallory", "m1", now+10*day), now)
	c.apply(actionEvent("bob", "b1", now+28*hour), now+28*hour) // mallory idle in event time, not in broker time
	if gone := c.clock.sweep(c.red); len(gone) != 0 || !c.clock.tracked("mallory") {
		t.Fatalf("sweep dropped %v (mallory tracked: %v)", gone, c.clock.tracked("mallory"))
	}
	c.apply(actionEvent("bob", "b2", now+49*hour), now+49*hour)
	if gone := c.clock.sweep(c.red); !slices.Equal(gone, []string{"mallory"}) {
		t.Errorf("sweep dropped %v, want mallory", gone)
	}
}

// A sweep is due when stream time moved by the interval and broker time by
// the interval or the grace, whichever is shorter; records without
// timestamps leave event time alone to decide.
func TestStreamClockDue(t *testing.T) {
	tests := []struct {
		name               string
		now, broker, grace int64
		want               bool
	}{
		{"both moved", 2 * hour, 2 * hour, hour, true},
		{"event time only (history produced now)", 2 * hour, time.Minute.Milliseconds(), hour, false},
		{"broker time by the grace", 2 * hour, 10 * time.Minute.Milliseconds(), 10 * time.Minute.Milliseconds(), true},
		{"no timestamps", 2 * hour, 0, hour, true},
		{"zero grace", 2 * hour, 1, 0, true},
		{"event time did not move", hour / 2, 2 * hour, hour, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newStreamClock(time.Hour, time.Duration(tt.grace)*time.Millisecond)
			c.now, c.broker = tt.now, tt.broker
			if got := c.due(hour); got != tt.want {
				t.Errorf("due = %v, want %v", got, tt.want)
			}
		})
	}
}
