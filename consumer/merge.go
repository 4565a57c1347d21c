package consumer

import (
	"context"
	"reflect"
	"sync/atomic"
	"time"

	"github.com/sessiond/sessiond/reducer"
)

// mergePendingTimeout is how long the merger waits for records a lane's
// high watermark promised before it treats the lane as caught up.
const mergePendingTimeout = 30 * time.Second

// lane is the merger's view of one source.
type lane struct {
	ch         <-chan record
	busy       *atomic.Bool // the source is decoding a record (nil: never)
	head       record
	hasHead    bool
	closed     bool
	next       int64     // offset after the last record taken
	hwm        int64     // newest high watermark known
	emptySince time.Time // when the lane was last found empty and caught up
	waitingFor time.Time // when the merger started waiting for pending data
	newest     int64     // the largest occurred_at the lane has delivered
	delivered  bool      // newest is set
}

// pending reports whether the broker holds records the lane has not
// delivered yet.
func (l *lane) pending() bool { return !l.closed && l.next < l.hwm }

// take receives r from the lane's channel: a record becomes the head; a
// progress note (skipped transaction markers or aborted records) only
// moves the lane's offset.
func (l *lane) take(r record) {
	if r.msg.HighWaterMark > l.hwm {
		l.hwm = r.msg.HighWaterMark
	}
	if r.skipTo > 0 { // progress: restart the wait for pending data, not the idle clock
		l.next = max(l.next, r.skipTo)
		l.waitingFor = time.Time{}
		return
	}
	l.head, l.hasHead = r, true
	l.emptySince, l.waitingFor = time.Time{}, time.Time{}
	if r.ev != nil && (!l.delivered || r.ev.OccurredAt > l.newest) {
		l.newest, l.delivered = r.ev.OccurredAt, true
	}
}

// merger interleaves the records of a task's sources in event-time order
// (docs/design.md §2): smallest occurred_at first, ties by kind (the lane order:
// cart, customer, action), then offset. Records that failed to decode have
// no time and go out as soon as they reach the head of their lane. A lane
// with data still on the broker is always waited for; a caught-up lane is
// waited for at most maxIdle from when it ran dry.
type merger struct {
	lanes          []*lane
	maxIdle        time.Duration
	pendingTimeout time.Duration // give up on a lane whose advertised data never comes
	now            func() time.Time
}

// less orders two heads.
func less(a, b *record) bool {
	if (a.err != nil) != (b.err != nil) {
		return a.err != nil
	}
	if a.err == nil {
		switch {
		case reducer.Before(a.ev, b.ev):
			return true
		case reducer.Before(b.ev, a.ev):
			return false
		}
	}
	if a.src != b.src {
		return a.src < b.src
	}
	return a.msg.Offset < b.msg.Offset
}

// fill moves waiting records into empty heads without blocking.
func (m *merger) fill() {
	for _, l := range m.lanes {
		m.fillLane(l)
	}
}

// fillLane receives from l until it has a head, is closed or is empty.
func (m *merger) fillLane(l *lane) {
	for !l.hasHead && !l.closed {
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
		if l.hasHead && (d.best == nil || less(&l.head, &d.best.head)) {
			d.best = l
		}
	}
	for i, l := range m.lanes {
		switch {
		case l.hasHead || l.closed:
		case l.busy != nil && l.busy.Load():
			d.mustWait = true // a record is in hand, however long its decoding takes
		case l.pending():
			if l.waitingFor.IsZero() {
				l.waitingFor = now
			}
			if now.Sub(l.waitingFor) < m.pendingTimeout {
				d.mustWait = true
			} else {
				l.hwm = l.next // the advertised data never came: treat as caught up
			}
		case d.best != nil && l.cannotPrecede(i, &d.best.head):
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

// cannotPrecede reports whether no later record of lane i (its kind) can
// come before head in the merge order, given that the lane's records come
// in event-time order: its newest delivered time is after head's, or equal
// with a kind that sorts after head's.
func (l *lane) cannotPrecede(i int, head *record) bool {
	if !l.delivered || head.err != nil {
		return false
	}
	at := head.ev.OccurredAt
	return l.newest > at || l.newest == at && i > int(head.ev.Kind)
}

// pop removes and returns the best head.
func (m *merger) pop(l *lane) record {
	r := l.head
	l.head, l.hasHead = record{}, false
	l.next = r.msg.Offset + 1
	return r
}

// next returns the next record in merge order. With block false it returns
// false instead of waiting; with block true it waits until a record can be
// returned or ctx ends.
func (m *merger) next(ctx context.Context, block bool) (record, bool) {
	for {
		m.fill()
		d := m.decide(m.now())
		if d.best != nil && (d.best.head.err != nil || !d.mustWait && d.until.IsZero()) {
			return m.pop(d.best), true
		}
		if !block || ctx.Err() != nil || m.exhausted() {
			return record{}, false
		}
		if !m.wait(ctx, d) {
			return record{}, false
		}
	}
}

// exhausted reports whether every lane is closed and drained: a bounded
// read (replay) is over.
func (m *merger) exhausted() bool {
	for _, l := range m.lanes {
		if l.hasHead || !l.closed {
			return false
		}
	}
	return true
}

// pendingDeadline is when the earliest wait for advertised data gives up.
func (m *merger) pendingDeadline() time.Time {
	var dl time.Time
	for _, l := range m.lanes {
		if !l.waitingFor.IsZero() && !l.hasHead {
			if t := l.waitingFor.Add(m.pendingTimeout); dl.IsZero() || t.Before(dl) {
				dl = t
			}
		}
	}
	return dl
}

// wait blocks until a lane without a head receives something, the idle
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

// waitCases returns a receive case for every open lane without a head,
// and those lanes in the same order.
func (m *merger) waitCases() ([]reflect.SelectCase, []*lane) {
	cases := make([]reflect.SelectCase, 0, len(m.lanes)+2)
	lanes := make([]*lane, 0, len(m.lanes))
	for _, l := range m.lanes {
		if !l.hasHead && !l.closed {
			cases = append(cases, reflect.SelectCase{Dir: reflect.SelectRecv, Chan: reflect.ValueOf(l.ch)})
			lanes = append(lanes, l)
		}
	}
	return cases, lanes
}
