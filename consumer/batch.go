package consumer

import (
	"sync/atomic"
	"time"

	"github.com/segmentio/kafka-go"
	"github.com/sessiond/sessiond/reducer"
)

// batch is what a task has processed since its last flush. Flushing writes
// it out in the order that makes a crash at any point lose nothing: updates
// (to every sink) and dead letters first, then the changelog, then the
// offsets. Each step records that it is done, so a flush that was
// interrupted resumes where it stopped.
type batch struct {
	events  int
	started time.Time
	updates []*reducer.Update
	sentAt  []time.Time // Kafka timestamp of each update's action record
	dead    []kafka.Message
	dirty   map[string]struct{}
	next    [numKinds]int64 // offset after the last record taken, per source; -1 none
	// outcomes counts events per source and outcome, for the metrics.
	outcomes [numKinds][numOutcomes]int
	// skewed counts accepted events by clock skew (streamtime.go).
	skewed [3]int

	sinksDone uint64 // bit i: sink i has the updates
	// deadDone: the dead letters are written; changelogDone: the batch is
	// staged for the changelog and the committer (staged.go).
	deadDone, changelogDone bool
	counted                 bool // updates added to the metrics
}

func newBatch() *batch {
	b := &batch{dirty: map[string]struct{}{}}
	b.reset()
	return b
}

func (b *batch) reset() {
	b.events = 0
	b.updates = b.updates[:0]
	b.sentAt = b.sentAt[:0]
	b.dead = b.dead[:0]
	clear(b.dirty)
	for k := range b.next {
		b.next[k] = -1
	}
	b.outcomes = [numKinds][numOutcomes]int{}
	b.skewed = [3]int{}
	b.sinksDone, b.deadDone, b.changelogDone, b.counted = 0, false, false, false
}

func (b *batch) empty() bool { return b.events == 0 }

func (b *batch) sinkDone(i int) bool { return atomic.LoadUint64(&b.sinksDone)&(1<<i) != 0 }

// markSink records that sink i acknowledged the updates. Sinks of one batch
// are written concurrently, so the bit is set under the outputs' errgroup
// and read only after it returns.
func (b *batch) markSink(i int) { atomic.OrUint64(&b.sinksDone, 1<<i) }

// flushing reports whether a flush has begun writing the batch out.
func (b *batch) flushing() bool {
	return atomic.LoadUint64(&b.sinksDone) != 0 || b.deadDone || b.changelogDone
}
