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
	return &clockTask{t: t, red: newReducer(t), clock: newStreamClock(time.Hour)}
}

// apply applies one event as a task does.
func (c *clockTask) apply(ev *reducer.Event, ts int64) {
	c.t.Helper()
	if _, _, err := c.clock.apply(c.red, ev, ts); err != nil {
		c.t.Fatal(err)
	}
}

func TestStreamClockBound(t *testing.T) {
	c := newStreamClock(time.Hour)
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
	c := newStreamClock(time.Hour)
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
