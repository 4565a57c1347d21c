package consumer

import (
	"context"
	"fmt"
	"time"

	"github.com/sessiond/sessiond/reducer"
)

// restoreLogEvery is how often a long restore logs its progress.
const restoreLogEvery = 5 * time.Second

// load gives the partition its snapshots: the state kept from the
// previous generation when it is still current, else the changelog's.
func (s *changelogStore) load(ctx context.Context) (*reducer.Reducer, *streamClock, error) {
	if s.reuse(ctx) {
		return s.red, s.clock, nil
	}
	if err := s.restore(ctx); err != nil {
		return nil, nil, err
	}
	return s.red, s.clock, nil
}

// restore reads the partition's changelog into a new reducer and stream
// clock.
func (s *changelogStore) restore(ctx context.Context) error {
	cfg := s.cfg
	cfg.Decode = s.decodeSnapshot
	red, err := reducer.New(cfg)
	if err != nil {
		return fmt.Errorf("partition %d: %w", s.partition, err)
	}
	s.red, s.clock = red, newStreamClock(s.maxSkew, s.sweepGrace)
	begin := time.Now()
	res, err := s.changelog.restore(ctx, s.partition, restoreInto{s.red, s.clock}, s.restoreProgress(begin))
	if err != nil {
		return fmt.Errorf("restore partition %d: %w", s.partition, err)
	}
	s.clock.swept = s.clock.now
	s.metrics.shared.RestoreTime.Observe(time.Since(begin).Seconds())
	s.metrics.snapshots.Set(float64(s.red.Len()))
	s.metrics.shared.Corrupt.Add(float64(res.corrupt))
	s.log.Info("restored", "records", res.records, "snapshots", res.snapshots,
		"encoded", s.red.Encoded(), "corrupt", res.corrupt, "seconds", time.Since(begin).Seconds())
	return nil
}

// restoreInto installs a restore's snapshots into a partition's reducer
// and stream clock.
type restoreInto struct {
	red   *reducer.Reducer
	clock *streamClock
}

func (r restoreInto) decoded(id string, s *reducer.Snapshot, ts int64) {
	r.red.Restore(id, s)
	r.clock.restored(id, s.LastSeen, ts)
}

func (r restoreInto) encoded(id string, lastSeen, touched int64, data []byte, ts int64) bool {
	if !r.red.RestoreEncoded(id, lastSeen, touched, data) {
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
func (s *changelogStore) decodeSnapshot(data []byte) (*reducer.Snapshot, error) {
	snap, err := s.changelog.codec.DecodeSnapshot(data)
	if err != nil {
		s.metrics.shared.Corrupt.Inc()
		// Not the error: it may quote the record's bytes, which hold
		// shoppers' e-mails and names.
		s.log.Warn("a restored snapshot does not decode; the visitor starts afresh")
	}
	return snap, err
}

// restoreProgress returns the changelog reader's progress callback: it
// updates the restore metrics and logs every restoreLogEvery.
func (s *changelogStore) restoreProgress(begin time.Time) func(read, left int64) {
	var last int64
	lastLog := begin
	return func(read, left int64) {
		s.metrics.restored.Add(float64(read - last))
		s.metrics.restoreLeft.Set(float64(left))
		s.status.setRestoreLeft(s.partition, left)
		last = read
		if time.Since(lastLog) >= restoreLogEvery {
			lastLog = time.Now()
			s.log.Info("restoring", "read", read, "left", left)
		}
	}
}
