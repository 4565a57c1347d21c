package consumer

import (
	"math"
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
// plus 2×maxSkew behind stream time, and whose last record's Kafka
// timestamp (Snapshot.Touched) is more than the grace behind the newest
// the partition has seen (broker time). That changes no update when either
// holds:
//   - every record's occurred_at is within maxSkew of its Kafka timestamp
//     and Kafka timestamps within a partition do not run backwards by more
//     than that (live traffic): a later event of such a visitor has an
//     occurred_at beyond the TTL after its last one, so the reducer would
//     expire the snapshot anyway;
//   - each visitor's consecutive records were produced within the grace of
//     each other (history produced now: a backfill, a flushed queue), so
//     the visitor is never idle in broker time between them.
type streamClock struct {
	maxSkew int64            // ms
	grace   int64            // ms: broker time a visitor is kept after its last record
	now     int64            // stream time, ms
	swept   int64            // stream time at the last sweep
	broker  int64            // the newest Kafka timestamp applied, ms (0: none)
	bswept  int64            // broker time at the last sweep
	ahead   map[string]int64 // housekeeping time of visitors whose LastSeen is beyond it
}

func newStreamClock(maxSkew, grace time.Duration) *streamClock {
	return &streamClock{maxSkew: maxSkew.Milliseconds(), grace: grace.Milliseconds(), ahead: map[string]int64{}}
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
	res, err := red.ApplyAt(ev, ts)
	if err != nil {
		return res, skew, err
	}
	if ts > c.broker {
		c.broker = ts
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

// due reports whether stream time moved enough since the last sweep, and
// broker time too (by every, or the grace if shorter): while history
// produced now is read, event time races ahead and broker time barely
// moves, and a sweep would find nobody to drop.
func (c *streamClock) due(every int64) bool {
	return c.now-c.swept >= every && (c.broker == 0 || c.broker-c.bswept >= min(every, c.grace))
}

// touchedBefore is the broker time before which a visitor's last record
// must be for the sweep to drop it: the grace behind the newest. Without
// any Kafka timestamp (records that carry none) broker time decides
// nothing.
func (c *streamClock) touchedBefore() int64 {
	if c.broker == 0 {
		return math.MaxInt64
	}
	return c.broker - c.grace
}

// sweep drops from red the visitors whose housekeeping time is more than
// the TTL plus 2×maxSkew behind stream time and whose last record is more
// than the grace behind broker time, and returns their ids.
func (c *streamClock) sweep(red *reducer.Reducer) []string {
	c.swept, c.bswept = c.now, c.broker
	cutoff, before := c.now-2*c.maxSkew, c.touchedBefore()
	gone := red.ExpireIdle(cutoff, before)
	for _, id := range gone {
		delete(c.ahead, id)
	}
	for id, hk := range c.ahead {
		if cutoff-hk > red.TTL() && red.Touched(id) < before {
			red.Restore(id, nil)
			delete(c.ahead, id)
			gone = append(gone, id)
		}
	}
	return gone
}
