package consumer

import (
	"context"
	"reflect"
	"time"

	"github.com/sessiond/sessiond/reducer"
)

// mergePendingTimeout is how long the merger waits for records a lane's
// high watermark promised before it treats the lane as caught up.
const mergePendingTimeout = 30 * time.Second

// merger interleaves the records of a task's sources (docs/design.md §2,
// "Merge order"): smallest occurred_at first, ties by kind (the lane
// order: cart, customer, action), then offset. Two kinds of head do not
// wait for their turn: a record that failed to decode has no time and goes
// out at once, and a record far ahead of its own lane (lane.classify) is
// merged where it stands, right after the record before it, so that it
// cannot hold its lane — and every other visitor's records behind it —
// back. A lane with data still on the broker (for its head or its
// look-ahead) is always waited for; a caught-up lane is waited for at most
// maxIdle from when it ran dry.
type merger struct {
	lanes          []*lane
	maxIdle        time.Duration
	aheadBy        int64         // ms: how far ahead of its lane a head is merged where it stands
	pendingTimeout time.Duration // give up on a lane whose advertised data never comes
	now            func() time.Time
}

// newMerger returns the merger of lanes, waiting at most maxIdle for a
// caught-up lane, with maxSkew as the allowance of the ahead rule.
func newMerger(lanes []*lane, maxIdle, maxSkew time.Duration) *merger {
	return &merger{lanes: lanes, maxIdle: maxIdle, aheadBy: maxSkew.Milliseconds(),
		pendingTimeout: mergePendingTimeout, now: time.Now}
}

// less orders two heads by time: occurred_at, then kind, then offset.
func less(a, b *record) bool {
	switch {
	case reducer.Before(a.ev, b.ev):
		return true
	case reducer.Before(b.ev, a.ev):
		return false
	}
	if a.src != b.src {
		return a.src < b.src
	}
	return a.msg.Offset < b.msg.Offset
}

// precedes reports whether lane a's head goes before lane b's: rejected
// heads first, then heads that are ahead, each by lane; then by time.
func (m *merger) precedes(a, b *lane) bool {
	ca, cb := a.classify(m.aheadBy), b.classify(m.aheadBy)
	if ca != cb {
		return ca < cb
	}
	if ca != classTimed {
		return a.head().src < b.head().src
	}
	return less(a.head(), b.head())
}

// fill moves waiting records into empty heads without blocking.
func (m *merger) fill() {
	for _, l := range m.lanes {
		m.fillLane(l)
	}
}

// fillLane receives from l until it has a head, is closed or is empty.
func (m *merger) fillLane(l *lane) {
	for !l.full() && !l.closed {
		select {
		case r, ok := <-l.ch:
			if ok {
				l.take(r)
			} else {
				l.closed = true
			}
		default:
			return
		}
	}
}

// decision is what the merger can do now.
type decision struct {
	best     *lane
	mustWait bool      // a lane has data on the broker not yet fetched
	until    time.Time // otherwise, wait for an idle lane until then (zero: don't)
}

func (m *merger) decide(now time.Time) decision {
	var d decision
	for _, l := range m.lanes {
		if l.hasHead() && (d.best == nil || m.precedes(l, d.best)) {
			d.best = l
		}
	}
	for i, l := range m.lanes {
		switch {
		case l.closed && !l.hasHead(), l.full():
		case l.busy != nil && l.busy.Load():
			d.mustWait = true // a record is in hand, however long its decoding takes
		case l.pending():
			if l.waitingFor.IsZero() {
				l.waitingFor = now
			}
			if now.Sub(l.waitingFor) < m.pendingTimeout {
				d.mustWait = true
			} else {
				l.hwm = l.recvd // the advertised data never came: treat as caught up
			}
		case l.hasHead(), l.closed:
			// caught up with a head: its look-ahead is what there is
		case d.best != nil && l.cannotPrecede(i, d.best.head()):
			// caught up, but it already delivered a record at or after the
			// head: nothing older can come from an in-order lane
		default:
			if l.emptySince.IsZero() {
				l.emptySince = now
			}
			if dl := l.emptySince.Add(m.maxIdle); now.Before(dl) && (d.until.IsZero() || dl.Before(d.until)) {
				d.until = dl
			}
		}
	}
	return d
}

// next returns the next record in merge order. With block false it returns
// false instead of waiting; with block true it waits until a record can be
// returned or ctx ends.
func (m *merger) next(ctx context.Context, block bool) (record, bool) {
	for {
		m.fill()
		d := m.decide(m.now())
		if d.best != nil && m.ready(d) {
			return d.best.pop(), true
		}
		if !block || ctx.Err() != nil || m.exhausted() {
			return record{}, false
		}
		if !m.wait(ctx, d) {
			return record{}, false
		}
	}
}

// ready reports whether the best head may go now: a rejected one at once;
// one that is ahead once no lane is missing data from the broker; any
// other once no lane is to be waited for either.
func (m *merger) ready(d decision) bool {
	switch d.best.classify(m.aheadBy) {
	case classRejected:
		return true
	case classAhead:
		return !d.mustWait
	}
	return !d.mustWait && d.until.IsZero()
}

// exhausted reports whether every lane is closed and drained: a bounded
// read (replay) is over.
func (m *merger) exhausted() bool {
	for _, l := range m.lanes {
		if l.hasHead() || !l.closed {
			return false
		}
	}
	return true
}

// pendingDeadline is when the earliest wait for advertised data gives up.
func (m *merger) pendingDeadline() time.Time {
	var dl time.Time
	for _, l := range m.lanes {
		if !l.waitingFor.IsZero() && !l.full() {
			if t := l.waitingFor.Add(m.pendingTimeout); dl.IsZero() || t.Before(dl) {
				dl = t
			}
		}
	}
	return dl
}

// wait blocks until a lane with room receives something, the idle
// deadline or the pending re-check passes, or ctx ends. It reports false
// when ctx ended.
func (m *merger) wait(ctx context.Context, d decision) bool {
	var timer <-chan time.Time
	var deadline time.Time
	if !d.until.IsZero() {
		deadline = d.until
	}
	if d.mustWait {
		if recheck := m.pendingDeadline(); deadline.IsZero() || recheck.Before(deadline) {
			deadline = recheck
		}
	}
	if !deadline.IsZero() {
		t := time.NewTimer(deadline.Sub(m.now()) + time.Millisecond)
		defer t.Stop()
		timer = t.C
	}
	cases, lanes := m.waitCases()
	cases = append(cases, reflect.SelectCase{Dir: reflect.SelectRecv, Chan: reflect.ValueOf(ctx.Done())})
	if timer != nil {
		cases = append(cases, reflect.SelectCase{Dir: reflect.SelectRecv, Chan: reflect.ValueOf(timer)})
	}
	chosen, v, ok := reflect.Select(cases)
	switch {
	case chosen < len(lanes) && ok:
		lanes[chosen].take(v.Interface().(record))
	case chosen < len(lanes):
		lanes[chosen].closed = true
	case chosen == len(lanes):
		return false // ctx ended
	}
	return true
}

// waitCases returns a receive case for every open lane that has room for
// a record, and those lanes in the same order.
func (m *merger) waitCases() ([]reflect.SelectCase, []*lane) {
	cases := make([]reflect.SelectCase, 0, len(m.lanes)+2)
	lanes := make([]*lane, 0, len(m.lanes))
	for _, l := range m.lanes {
		if !l.full() && !l.closed {
			cases = append(cases, reflect.SelectCase{Dir: reflect.SelectRecv, Chan: reflect.ValueOf(l.ch)})
			lanes = append(lanes, l)
		}
	}
	return cases, lanes
}
