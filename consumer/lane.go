package consumer

import (
	"sync/atomic"
	"time"
)

// lookAhead is how many records behind its head a lane holds, so that the
// merger can tell a head that is far ahead of the records that follow it
// (docs/design.md §2, "Merge order").
const lookAhead = 7

// lane is the merger's view of one source: the head and up to lookAhead
// records behind it, in offset order.
type lane struct {
	ch         <-chan record
	busy       *atomic.Bool // the source is decoding a record (nil: never)
	q          []record     // q[0] is the head
	class      headClass    // of q[0]; classUnknown whenever q changes
	closed     bool
	next       int64     // offset after the last record taken or skipped: the lag
	recvd      int64     // offset after the last record or progress note received
	skipped    int64     // newest progress note, applied to next once q is empty
	hwm        int64     // newest high watermark known
	emptySince time.Time // when the lane was last found empty and caught up
	waitingFor time.Time // when the merger started waiting for pending data
	newest     int64     // the largest occurred_at taken that was not ahead
	delivered  bool      // newest is set
}

// newLane returns the lane of a source read from offset next, with hwm
// the high watermark known at its start.
func newLane(ch <-chan record, busy *atomic.Bool, next, hwm int64) *lane {
	return &lane{ch: ch, busy: busy, q: make([]record, 0, lookAhead+1), next: next, recvd: next, hwm: hwm}
}

// headClass is where a head goes in the merge.
type headClass uint8

const (
	classUnknown  headClass = iota
	classRejected           // failed to decode: goes out as soon as it is the head
	classAhead              // far ahead of its lane: merged where it stands
	classTimed              // merged by its occurred_at
)

func (l *lane) hasHead() bool { return len(l.q) > 0 }

func (l *lane) head() *record { return &l.q[0] }

// full reports whether the lane holds its head and the whole look-ahead.
func (l *lane) full() bool { return len(l.q) > lookAhead }

// pending reports whether the broker holds records the lane has not
// received yet.
func (l *lane) pending() bool { return !l.closed && l.recvd < l.hwm }

// wantsMore reports whether the lane is missing records the broker holds:
// its head, or the look-ahead that decides where its head goes.
func (l *lane) wantsMore() bool { return !l.full() && l.pending() }

// take receives r from the lane's channel: a record joins the queue; a
// progress note (skipped transaction markers or aborted records) only
// moves the lane's offsets.
func (l *lane) take(r record) {
	if r.msg.HighWaterMark > l.hwm {
		l.hwm = r.msg.HighWaterMark
	}
	l.waitingFor = time.Time{}
	if r.skipTo > 0 { // progress: restart the wait for pending data, not the idle clock
		l.recvd = max(l.recvd, r.skipTo)
		l.skipped = max(l.skipped, r.skipTo)
		if len(l.q) == 0 {
			l.next = max(l.next, r.skipTo)
		}
		return
	}
	l.recvd = max(l.recvd, r.msg.Offset+1)
	l.q = append(l.q, r)
	l.class = classUnknown
	l.emptySince = time.Time{}
}

// pop removes and returns the head.
func (l *lane) pop() record {
	r := l.q[0]
	ahead := l.class == classAhead
	copy(l.q, l.q[1:])
	l.q[len(l.q)-1] = record{}
	l.q = l.q[:len(l.q)-1]
	l.class = classUnknown
	l.next = r.msg.Offset + 1
	if len(l.q) == 0 {
		l.next = max(l.next, l.skipped)
	}
	if r.ev != nil && !ahead && (!l.delivered || r.ev.OccurredAt > l.newest) {
		l.newest, l.delivered = r.ev.OccurredAt, true
	}
	return r
}

// classify returns where the head goes, given aheadBy (ms, the
// --max-clock-skew). A head is ahead when its occurred_at is more than
// aheadBy past its own Kafka timestamp, or past the median occurred_at of
// its neighbours: the records behind it (of the look-ahead, those that
// decoded; at least one) and the newest record taken from the lane before
// it that was not ahead itself. The median ignores a few stray records
// either way: one late record next to a head does not make it ahead, and
// up to lookAhead/2+1 future-dated records in a row are all ahead. While
// the look-ahead is incomplete and the broker holds more, the class is
// provisional: the merger waits for it then.
func (l *lane) classify(aheadBy int64) headClass {
	if l.class != classUnknown {
		return l.class
	}
	h := l.head()
	switch {
	case h.err != nil:
		l.class = classRejected
	case !h.msg.Time.IsZero() && h.ev.OccurredAt-aheadBy > h.msg.Time.UnixMilli(),
		l.neighboursBefore(h.ev.OccurredAt - aheadBy):
		l.class = classAhead
	default:
		l.class = classTimed
	}
	return l.class
}

// neighboursBefore reports whether the median occurred_at of the head's
// neighbours is before t. With an even count the later of the two middle
// ones counts, so one late record never decides. Without a decoded record
// behind the head there is no evidence (a lane that just caught up after a
// quiet spell), and the answer is no.
func (l *lane) neighboursBefore(t int64) bool {
	var at [lookAhead + 1]int64
	n := 0
	for i := 1; i < len(l.q); i++ {
		if ev := l.q[i].ev; ev != nil {
			at[n] = ev.OccurredAt
			n++
		}
	}
	if n == 0 {
		return false
	}
	if l.delivered {
		at[n] = l.newest
		n++
	}
	s := at[:n]
	for i := 1; i < n; i++ { // insertion sort of a handful
		for j := i; j > 0 && s[j] < s[j-1]; j-- {
			s[j], s[j-1] = s[j-1], s[j]
		}
	}
	return s[n/2] < t
}

// cannotPrecede reports whether no later record of lane i (its kind) can
// come before head in the merge order, given that the lane's records come
// in event-time order: its newest time taken is after head's, or equal
// with a kind that sorts after head's.
func (l *lane) cannotPrecede(i int, head *record) bool {
	if !l.delivered || head.err != nil {
		return false
	}
	at := head.ev.OccurredAt
	return l.newest > at || l.newest == at && i > int(head.ev.Kind)
}
