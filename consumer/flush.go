package consumer

import (
	"context"
	"time"
)

// The flush protocol, written once for every way the pipeline is put
// together: (1) the updates to every sink and the rejected records to the
// dead-letter topic, acknowledged; (2) the touched snapshots and expiry
// tombstones to the changelog, in batch order, by the state pipe; (3) the
// input offsets to the committer, once (2) is acknowledged. The task does
// (1) and hands the batch to its partitionState (state.go), which does (2)
// and (3); replay's memoryStore does neither.
//
// With a commit interval, (2) and (3) are coalesced: every batch does (1)
// and is then staged (its touched visitors and its offsets noted); once per
// interval, and at the drain, the staged visitors' snapshots are encoded
// as they stand and handed to the state pipe with the newest offsets. The
// offsets committed never pass a changelog write that covers them, so a
// crash at any point replays from a commit whose state is in the changelog.

// flushed flushes the batch, retrying failures until ctx ends (an update a
// sink refuses for good stalls the partition rather than be dropped; a
// bounded task gives up instead), and returns the error if the batch is
// not out.
func (t *task) flushed(ctx context.Context) error {
	return t.retryOp(ctx, "flush", func() error { return t.flush(ctx) })
}

// flush writes the batch out. It returns once the sinks have the updates
// and the batch is staged (its changelog, when due, queued behind the
// previous batches'), or ctx ends.
func (t *task) flush(ctx context.Context) error {
	b := t.batch
	begin := time.Now()
	if err := t.outputs.write(ctx, b); err != nil {
		return err
	}
	if !b.changelogDone {
		t.state.stage(b)
		b.changelogDone = true
	}
	if t.due() {
		if err := t.state.handOff(ctx); err != nil {
			return err
		}
	}
	t.observeFlush(time.Since(begin))
	t.counts.add(b)
	b.reset()
	return nil
}

// due reports whether the staged batches are to be handed off now: every
// batch without a commit interval, else once the interval has passed.
func (t *task) due() bool {
	at, staged := t.state.due()
	return staged && !time.Now().Before(at)
}

// handedOff hands the staged batches off, retrying until wctx ends.
func (t *task) handedOff(wctx context.Context) error {
	return t.retryOp(wctx, "flush", func() error { return t.state.handOff(wctx) })
}

// observeFlush updates the metrics once a batch is out.
func (t *task) observeFlush(took time.Duration) {
	m := t.metrics
	for k, counts := range t.batch.outcomes {
		for o, n := range counts {
			if n > 0 {
				m.events[k][o].Add(float64(n))
			}
		}
	}
	for _, d := range []int{skewAhead, skewBehind} {
		if n := t.batch.skewed[d]; n > 0 {
			m.skew[d].Add(float64(n))
		}
	}
	m.shared.BatchSeconds.Observe(took.Seconds())
	m.shared.BatchEvents.Observe(float64(t.batch.events))
	m.snapshots.Set(float64(t.red.Len()))
	var lag int64
	for k, l := range t.merger.lanes {
		lag += max(l.hwm-l.next, 0)
		m.lag[k].Set(float64(max(l.hwm-l.next, 0)))
	}
	t.logCatchUp(lag)
	t.status.setLag(t.partition, lag)
	var rejected int
	for k := range t.batch.outcomes {
		rejected += t.batch.outcomes[k][outcomeRejected]
	}
	t.status.count(int64(t.batch.events), int64(len(t.batch.updates)), int64(rejected))
}

// Catch-up progress: a partition behind by more than catchUpLag records
// logs its lag every catchUpLogEvery, so a long catch-up is not silent.
const (
	catchUpLag      = 10_000
	catchUpLogEvery = 10 * time.Second
)

func (t *task) logCatchUp(lag int64) {
	if lag < catchUpLag || time.Since(t.catchUpLogged) < catchUpLogEvery {
		return
	}
	t.catchUpLogged = time.Now()
	t.log.Info("catching up", "lag", lag)
}
