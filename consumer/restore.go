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
	cfg := t.reducer
	if t.changelog != nil {
		cfg.Decode = t.decodeSnapshot
	}
	red, err := reducer.New(cfg)
	if err != nil {
		return fmt.Errorf("partition %d: %w", t.partition, err)
	}
	t.red, t.clock = red, newStreamClock(t.maxClockSkew)
	if t.changelog == nil {
		return nil
	}
	begin := time.Now()
	res, err := t.changelog.restore(ctx, t.partition, restoreInto{t.red, t.clock}, t.restoreProgress(begin))
	if err != nil {
		return fmt.Errorf("restore partition %d: %w", t.partition, err)
	}
	t.clock.swept = t.clock.now
	t.metrics.shared.RestoreTime.Observe(time.Since(begin).Seconds())
	t.metrics.snapshots.Set(float64(t.red.Len()))
	t.metrics.shared.Corrupt.Add(float64(res.corrupt))
	t.log.Info("restored", "records", res.records, "snapshots", res.snapshots,
		"encoded", t.red.Encoded(), "corrupt", res.corrupt, "seconds", time.Since(begin).Seconds())
	return nil
}

// restoreInto installs a restore's snapshots into a task's reducer and
// stream clock.
type restoreInto struct {
	red   *reducer.Reducer
	clock *streamClock
}

func (r restoreInto) decoded(id string, s *reducer.Snapshot, ts int64) {
	r.red.Restore(id, s)
	r.clock.restored(id, s.LastSeen, ts)
}

func (r restoreInto) encoded(id string, lastSeen int64, data []byte, ts int64) bool {
	if !r.red.RestoreEncoded(id, lastSeen, data) {
		return false
	}
	r.clock.restored(id, lastSeen, ts)
	return true
}

// decodeSnapshot is the reducer's Decode for snapshots restored encoded:
// it runs on a visitor's first event after a restore. A snapshot that
// does not decode is counted and logged; the visitor starts afresh, which
// Nosto reads as "leave as is" (as for one found corrupt during the
// restore).
func (t *task) decodeSnapshot(data []byte) (*reducer.Snapshot, error) {
	s, err := t.changelog.codec.DecodeSnapshot(data)
	if err != nil {
		t.metrics.shared.Corrupt.Inc()
		// Not the error: it may quote the record's bytes, which hold
		// shoppers' e-mails and names.
		t.log.Warn("a restored snapshot does not decode; the visitor starts afresh")
	}
	return s, err
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
