package consumer

import (
	"context"
	"fmt"
	"time"

	"github.com/sessiond/sessiond/reducer"
)

// restoreLogEvery is how often a long restore logs its progress.
const restoreLogEvery = 5 * time.Second

// restore gives the task its partition's snapshots: the state kept from
// the previous generation when it is still current, else the changelog's,
// else (no changelog) an empty reducer.
func (t *task) restore(ctx context.Context) error {
	if t.reuse(ctx) {
		return nil
	}
	red, err := reducer.New(t.reducer)
	if err != nil {
		return fmt.Errorf("partition %d: %w", t.partition, err)
	}
	t.red, t.clock = red, newStreamClock(t.maxClockSkew)
	if t.changelog == nil {
		return nil
	}
	begin := time.Now()
	res, err := t.changelog.restore(ctx, t.partition, t.red, t.clock.restored, t.restoreProgress(begin))
	if err != nil {
		return fmt.Errorf("restore partition %d: %w", t.partition, err)
	}
	t.clock.swept = t.clock.now
	t.metrics.shared.RestoreTime.Observe(time.Since(begin).Seconds())
	t.metrics.snapshots.Set(float64(t.red.Len()))
	t.log.Info("restored", "records", res.records, "snapshots", res.snapshots,
		"corrupt", res.corrupt, "seconds", time.Since(begin).Seconds())
	return nil
}

// restoreProgress returns the changelog reader's progress callback: it
// updates the restore metrics and logs every restoreLogEvery.
func (t *task) restoreProgress(begin time.Time) func(read, left int64) {
	var last int64
	lastLog := begin
	return func(read, left int64) {
		t.metrics.restored.Add(float64(read - last))
		t.metrics.restoreLeft.Set(float64(left))
		t.status.setRestoreLeft(t.partition, left)
		last = read
		if time.Since(lastLog) >= restoreLogEvery {
			lastLog = time.Now()
			t.log.Info("restoring", "read", read, "left", left)
		}
	}
}
