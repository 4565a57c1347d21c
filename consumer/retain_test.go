package consumer

import (
	"context"
	"log/slog"
	"testing"

	"github.com/segmentio/kafka-go"
	"github.com/sessiond/sessiond/internal/kclient"
)

// retainedWith returns a retained state of n visitors.
func retainedWith(t *testing.T, n int) retained {
	red := newReducer(t)
	for i := range n {
		apply(t, red, actionEvent(string(rune('a'+i)), "e", 1000))
	}
	return retained{red: red, clock: newStreamClock(DefaultMaxClockSkew, DefaultSweepGrace)}
}

// keepOnly drops the states of the partitions no longer owned and says how
// many partitions and snapshots it released; the owned ones stay.
func TestRetainedStatesKeepOnly(t *testing.T) {
	var r retainedStates
	r.put(0, retainedWith(t, 2))
	r.put(1, retainedWith(t, 1))
	r.put(2, retainedWith(t, 3))
	if parts, snaps := r.keepOnly([]int{1, 5}); parts != 2 || snaps != 5 {
		t.Errorf("keepOnly released %d partitions, %d snapshots; want 2, 5", parts, snaps)
	}
	if _, ok := r.take(1); !ok {
		t.Error("the state of partition 1, still owned, was dropped")
	}
	for _, p := range []int{0, 2} {
		if _, ok := r.take(p); ok {
			t.Errorf("the state of partition %d, no longer owned, was kept", p)
		}
	}
	if parts, snaps := r.keepOnly(nil); parts != 0 || snaps != 0 {
		t.Errorf("keepOnly of an empty set released %d, %d", parts, snaps)
	}
}

// A generation in which this member owns none of the partitions it kept
// state for (a scale-out moved them) releases that state when it starts,
// instead of keeping it until the partitions come back.
func TestGenerationReleasesStateOfPartitionsNoLongerOwned(t *testing.T) {
	p := &Processor{cfg: Config{Pipeline: Pipeline{Logger: slog.New(slog.DiscardHandler)}, Status: NewStatus(), Metrics: NewMetrics()}}
	p.retained.put(0, retainedWith(t, 2))
	p.retained.put(3, retainedWith(t, 1))
	ctx, cancel := context.WithCancel(context.Background())
	cancel() // the generation ends as soon as it has started
	p.runGeneration(ctx, &kclient.Generation{ID: 2, MemberID: "m", Assignments: map[string][]kafka.PartitionAssignment{}})
	for _, n := range []int{0, 3} {
		if _, ok := p.retained.take(n); ok {
			t.Errorf("partition %d's state is still retained by a member that no longer owns it", n)
		}
	}
}
