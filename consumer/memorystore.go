package consumer

import (
	"context"
	"time"

	"github.com/sessiond/sessiond/reducer"
)

// memoryStore is the state of a replay's partition: in memory only, from
// an empty reducer. Nothing is written, committed or kept; the idle
// visitors are still swept from memory after every batch.
type memoryStore struct {
	cfg        reducer.Config
	maxSkew    time.Duration
	sweepGrace time.Duration
	metrics    *partitionMetrics
	red        *reducer.Reducer
	clock      *streamClock
}

func (s *memoryStore) load(context.Context) (*reducer.Reducer, *streamClock, error) {
	red, err := reducer.New(s.cfg)
	if err != nil {
		return nil, nil, err
	}
	s.red, s.clock = red, newStreamClock(s.maxSkew, s.sweepGrace)
	return s.red, s.clock, nil
}

func (s *memoryStore) open(context.Context) {}

// stage frees the memory of the visitors idle beyond the TTL.
func (s *memoryStore) stage(*batch) { sweepIdle(s.red, s.clock, s.cfg.SessionTTL, s.metrics) }

func (s *memoryStore) due() (time.Time, bool) { return time.Time{}, false }

func (s *memoryStore) handOff(context.Context) error { return nil }

func (s *memoryStore) drain(context.Context, bool) bool { return true }
