package consumer

import (
	"context"
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

// retain keeps the task's state after a clean drain (everything in memory
// is in the changelog).
func (t *task) retain(ctx context.Context) {
	if t.retained == nil || t.changelog == nil {
		return
	}
	end, err := t.changelog.end(ctx, t.partition)
	if err != nil {
		return
	}
	t.retained.put(t.partition, retained{red: t.red, end: end, clock: t.clock})
}

// reuse installs the retained state if the changelog has not moved since.
func (t *task) reuse(ctx context.Context) bool {
	if t.retained == nil || t.changelog == nil {
		return false
	}
	st, ok := t.retained.take(t.partition)
	if !ok {
		return false
	}
	end, err := t.changelog.end(ctx, t.partition)
	if err != nil || end != st.end {
		return false
	}
	t.red, t.clock = st.red, st.clock
	t.metrics.snapshots.Set(float64(t.red.Len()))
	t.log.Info("kept state from the previous generation", "snapshots", t.red.Len())
	return true
}
