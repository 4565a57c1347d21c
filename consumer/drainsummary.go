package consumer

import (
	"context"
	"time"
)

// DrainSummary is what the drain at the end of Run did, from the moment
// Run's context ended (SIGTERM) to Run's return (the group left).
type DrainSummary struct {
	Drained          bool          // Run's context ended: the rest is set
	Partitions       []int         // the partitions owned then, whose last batches were flushed and committed
	Events, Updates  int64         // events and updates flushed during the drain
	SnapshotsWritten int64         // changelog records written during the drain
	OffsetsCommitted int64         // topic-partition offsets committed during the drain
	Took             time.Duration // how long the drain took
}

// runTotals are the processor's counts that a drain is measured by.
type runTotals struct{ events, updates, snapshots, offsets int64 }

func (p *Processor) totals() runTotals {
	return runTotals{events: p.counts.events.Load(), updates: p.counts.updates.Load(),
		snapshots: p.counts.snapshots.Load(), offsets: p.counts.offsets.Load()}
}

// drainWatch notes the time, the counts and the owned partitions when a
// context ends, to measure the drain that follows.
type drainWatch struct {
	p     *Processor
	stop  func() bool
	done  chan struct{} // closed once begin has run
	begin time.Time
	base  runTotals
	parts []int
}

// watchDrain starts watching ctx.
func (p *Processor) watchDrain(ctx context.Context) *drainWatch {
	w := &drainWatch{p: p, done: make(chan struct{})}
	w.stop = context.AfterFunc(ctx, func() {
		defer close(w.done)
		w.begin, w.base, w.parts = time.Now(), p.totals(), p.cfg.Status.Owned()
	})
	return w
}

// end returns the drain's summary; Drained is false if the context has
// not ended (Run failed).
func (w *drainWatch) end() DrainSummary {
	if w.stop() {
		return DrainSummary{}
	}
	<-w.done
	now := w.p.totals()
	return DrainSummary{Drained: true, Partitions: w.parts,
		Events: now.events - w.base.events, Updates: now.updates - w.base.updates,
		SnapshotsWritten: now.snapshots - w.base.snapshots, OffsetsCommitted: now.offsets - w.base.offsets,
		Took: time.Since(w.begin)}
}

// LastDrain is the summary of the drain at the end of the last Run.
func (p *Processor) LastDrain() DrainSummary {
	p.drainMu.Lock()
	defer p.drainMu.Unlock()
	return p.lastDrain
}
