package consumer

import (
	"time"

	"github.com/sessiond/sessiond/reducer"
)

// streamClock is a partition's time for housekeeping: which visitors may be
// dropped from memory (and tombstoned) because any later event of theirs
// would find the snapshot expired anyway (docs/design.md §2, "Clocks").
//
// occurred_at comes from shoppers' devices and may be wrong by years, so no
// record moves the clock beyond its own Kafka timestamp plus maxSkew:
// stream time is the largest min(occurred_at, timestamp + maxSkew) of the
// accepted records. One record from a device a year ahead moves it by at
// most maxSkew, for nobody but that record's own visitor. Kafka Streams'
// stream time, by contrast, jumps to any future timestamp.
//
// A visitor's housekeeping time is the same bound applied to its own
// records; for almost every visitor it equals the snapshot's LastSeen, so
// only visitors with a record ahead of the bound are kept in `ahead`.
//
// The sweep drops a visitor whose housekeeping time is more than the TTL
// plus 2×maxSkew behind stream time. That changes no update as long as
// every record's occurred_at is within maxSkew of its Kafka timestamp and
// Kafka timestamps within a partition do not run backwards by more than
// that: a later event of such a visitor then has an occurred_at beyond the
// TTL after its last one, so the reducer would expire the snapshot anyway.
type streamClock struct {
	maxSkew int64            // ms
	now     int64            // stream time, ms
	swept   int64            // stream time at the last sweep
	ahead   map[string]int64 // housekeeping time of visitors whose LastSeen is beyond it
}

func newStreamClock(maxSkew time.Duration) *streamClock {
	return &streamClock{maxSkew: maxSkew.Milliseconds(), ahead: map[string]int64{}}
}

// Record skew, as counted by sessiond_clock_skew_events_total{direction}.
const (
	skewNone = iota
	skewAhead
	skewBehind
)

// bound returns the time a record may move the clock to, and whether its
// occurred_at is more than maxSkew ahead of or behind its Kafka timestamp
// (ts, ms; 0 when the record has none, and then occurred_at is trusted).
func (c *streamClock) bound(occurredAt int64, ts int64) (int64, int) {
	if ts <= 0 {
		return occurredAt, skewNone
	}
	switch {
	case occurredAt > ts+c.maxSkew:
		return ts + c.maxSkew, skewAhead
	case occurredAt < ts-c.maxSkew:
		return occurredAt, skewBehind
	}
	return occurredAt, skewNone
}

// apply applies ev (whose record has Kafka timestamp ts, ms) to red and
// moves the clock as far as the record allows. It also reports how the
// record's occurred_at relates to ts (skewNone, skewAhead, skewBehind).
func (c *streamClock) apply(red *reducer.Reducer, ev *reducer.Event, ts int64) (reducer.Result, int, error) {
	bound, skew := c.bound(ev.OccurredAt, ts)
	slow := bound < ev.OccurredAt || c.tracked(ev.VisitorID) // rare: a skewed visitor
	prev := int64(-1)
	if slow {
		if s := red.Snapshot(ev.VisitorID); s != nil {
			prev = c.housekeeping(ev.VisitorID, s)
		}
	}
	res, err := red.Apply(ev)
	if err != nil {
		return res, skew, err
	}
	switch {
	case slow:
		if res.Expired {
			prev = -1
		}
		c.observe(ev.VisitorID, bound, prev, red.Snapshot(ev.VisitorID).LastSeen)
	case bound > c.now:
		c.now = bound
	}
	return res, skew, nil
}

// tracked reports whether the visitor's housekeeping time differs from its
// LastSeen, so that applying an event must update it.
func (c *streamClock) tracked(visitor string) bool {
	_, ok := c.ahead[visitor]
	return ok
}

// observe advances stream time by an accepted record bounded at b, and
// keeps the visitor's housekeeping time when it falls behind its LastSeen.
// prev is the visitor's housekeeping time before the event (its LastSeen,
// or its tracked time; -1 with no snapshot or an expired one); lastSeen is
// the snapshot's after the event.
func (c *streamClock) observe(visitor string, b, prev, lastSeen int64) {
	if b > c.now {
		c.now = b
	}
	hk := max(b, prev)
	if hk < lastSeen {
		c.ahead[visitor] = hk
	} else {
		delete(c.ahead, visitor)
	}
}

// housekeeping returns the visitor's housekeeping time given its snapshot.
func (c *streamClock) housekeeping(visitor string, s *reducer.Snapshot) int64 {
	if hk, ok := c.ahead[visitor]; ok {
		return hk
	}
	return s.LastSeen
}

// restored accounts for a snapshot read back from the changelog, whose
// record was written at ts (broker time): the snapshot's LastSeen moves
// the clock only as far as ts + maxSkew.
func (c *streamClock) restored(visitor string, lastSeen int64, ts int64) {
	b, _ := c.bound(lastSeen, ts)
	c.observe(visitor, b, -1, lastSeen)
}

// due reports whether stream time moved enough since the last sweep.
func (c *streamClock) due(every int64) bool { return c.now-c.swept >= every }

// sweep drops from red the visitors whose housekeeping time is more than
// the TTL plus 2×maxSkew behind stream time, and returns their ids.
func (c *streamClock) sweep(red *reducer.Reducer) []string {
	c.swept = c.now
	cutoff := c.now - 2*c.maxSkew
	gone := red.ExpireBefore(cutoff)
	for _, id := range gone {
		delete(c.ahead, id)
	}
	for id, hk := range c.ahead {
		if cutoff-hk > red.TTL() {
			red.Restore(id, nil)
			delete(c.ahead, id)
			gone = append(gone, id)
		}
	}
	return gone
}
