package consumer

import (
	"time"

	"github.com/segmentio/kafka-go"
	"github.com/sessiond/sessiond/reducer"
)

// batch is what a task has processed since its last flush. Flushing writes
// it out in the order that makes a crash at any point lose nothing: updates
// and dead letters first, then the changelog, then the offsets. Each step
// records that it is done, so a flush that was interrupted resumes where it
// stopped.
type batch struct {
	events  int
	started time.Time
	updates []*reducer.Update
	sentAt  []time.Time // Kafka timestamp of each update's action record
	dead    []kafka.Message
	dirty   map[string]struct{}
	next    [3]int64 // offset after the last record taken, per source; -1 none
	// outcomes counts events per source and outcome, for the metrics.
	outcomes [3][numOutcomes]int

	sinkDone, deadDone, changelogDone bool
	changelog                         []kafka.Message
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
	b.next = [3]int64{-1, -1, -1}
	b.outcomes = [3][numOutcomes]int{}
	b.sinkDone, b.deadDone, b.changelogDone = false, false, false
	b.changelog = nil
}

func (b *batch) empty() bool { return b.events == 0 }

// flushing reports whether a flush has begun writing the batch out.
func (b *batch) flushing() bool { return b.sinkDone || b.deadDone || b.changelogDone }
