package consumer

import (
	"context"
	"sync"

	"github.com/sessiond/sessiond/internal/kafkautil"
	"github.com/sessiond/sessiond/reducer"
)

// retained is a partition's state kept in memory between two generations,
// with the changelog end offset it matches. When the member is given the
// partition again and nobody has written to its changelog since, the state
// is reused instead of restored: a rebalance that leaves a partition where
// it was costs no restore (as Kafka Streams' local state does).
type retained struct {
	red              *reducer.Reducer
	end              int64
	watermark, swept int64
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

// changelogEnd returns the end offset of the partition's changelog.
func (t *task) changelogEnd(ctx context.Context) (int64, error) {
	offs, err := kafkautil.Offsets(ctx, t.p.client, t.p.cfg.ChangelogTopic, t.partition)
	if err != nil {
		return 0, err
	}
	return offs[t.partition].End, nil
}

// retain keeps the task's state after a clean drain (everything in memory
// is in the changelog).
func (t *task) retain(ctx context.Context) {
	end, err := t.changelogEnd(ctx)
	if err != nil {
		return
	}
	t.p.retained.put(t.partition, retained{red: t.red, end: end, watermark: t.watermark, swept: t.swept})
}

// reuse installs the retained state if the changelog has not moved since.
func (t *task) reuse(ctx context.Context) bool {
	st, ok := t.p.retained.take(t.partition)
	if !ok {
		return false
	}
	end, err := t.changelogEnd(ctx)
	if err != nil || end != st.end {
		return false
	}
	t.red, t.watermark, t.swept = st.red, st.watermark, st.swept
	t.p.cfg.Metrics.Snapshots.WithLabelValues(t.label).Set(float64(t.red.Len()))
	t.log.Info("kept state from the previous generation", "snapshots", t.red.Len())
	return true
}
