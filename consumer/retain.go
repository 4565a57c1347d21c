package consumer

import (
	"context"
	"slices"
	"sync"

	"github.com/sessiond/sessiond/reducer"
)

// retained is a partition's state kept in memory between two generations,
// with the changelog end offset it matches. When the member is given the
// partition again and nobody has written to its changelog since, the state
// is reused instead of restored: a rebalance that leaves a partition where
// it was costs no restore (as Kafka Streams' local state does).
type retained struct {
	red   *reducer.Reducer
	end   int64
	clock *streamClock
}

// retainedStates holds the states of partitions this member owned last.
type retainedStates struct {
	mu sync.Mutex
	m  map[int]retained
}

func (r *retainedStates) put(p int, st retained) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.m == nil {
		r.m = map[int]retained{}
	}
	r.m[p] = st
}

func (r *retainedStates) take(p int) (retained, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	st, ok := r.m[p]
	delete(r.m, p)
	return st, ok
}

// keepOnly drops the states of the partitions not in owned and returns
// how many partitions and snapshots it released. Without it a member kept
// full state, invisibly, for every partition a scale-out took away.
func (r *retainedStates) keepOnly(owned []int) (partitions, snapshots int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for p, st := range r.m {
		if !slices.Contains(owned, p) {
			partitions++
			snapshots += st.red.Len()
			delete(r.m, p)
		}
	}
	return partitions, snapshots
}

// retain keeps the state for the partition's next generation, with the
// changelog's end offset it matches.
func (s *changelogStore) retain(ctx context.Context) {
	end, err := s.changelog.end(ctx, s.partition)
	if err != nil {
		return
	}
	s.retained.put(s.partition, retained{red: s.red, end: end, clock: s.clock})
}

// reuse installs the retained state if the changelog has not moved since.
func (s *changelogStore) reuse(ctx context.Context) bool {
	st, ok := s.retained.take(s.partition)
	if !ok {
		return false
	}
	end, err := s.changelog.end(ctx, s.partition)
	if err != nil || end != st.end {
		return false
	}
	s.red, s.clock = st.red, st.clock
	s.metrics.snapshots.Set(float64(s.red.Len()))
	s.log.Info("kept state from the previous generation", "snapshots", s.red.Len())
	return true
}
