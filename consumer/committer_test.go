package consumer

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"
)

// recordingCommits is a commitFunc that records every call and answers
// with the errors queued in fail, in order.
type recordingCommits struct {
	mu    sync.Mutex
	calls []map[string]map[int]int64
	fail  []error
}

func (r *recordingCommits) commit(offsets map[string]map[int]int64) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.calls = append(r.calls, cloneOffsets(offsets))
	if len(r.fail) > 0 {
		err := r.fail[0]
		r.fail = r.fail[1:]
		return err
	}
	return nil
}

func (r *recordingCommits) snapshot() []map[string]map[int]int64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]map[string]map[int]int64(nil), r.calls...)
}

func cloneOffsets(in map[string]map[int]int64) map[string]map[int]int64 {
	out := map[string]map[int]int64{}
	for t, ps := range in {
		out[t] = map[int]int64{}
		for p, o := range ps {
			out[t][p] = o
		}
	}
	return out
}

func newTestCommitter(r *recordingCommits) *committer {
	return newCommitter(r.commit, slog.New(slog.DiscardHandler), NewMetrics())
}

// Marks that arrive between two commits merge, per topic-partition, into
// the largest offset: a commit never moves an offset backwards.
func TestCommitterMergesForward(t *testing.T) {
	rc := &recordingCommits{}
	c := newTestCommitter(rc)
	c.mark(map[string]map[int]int64{"a": {0: 10, 1: 5}})
	c.mark(map[string]map[int]int64{"a": {0: 7}, "b": {0: 3}})
	c.mark(map[string]map[int]int64{"a": {1: 9}})
	if !c.commitPending() {
		t.Fatal("commitPending failed")
	}
	calls := rc.snapshot()
	if len(calls) != 1 {
		t.Fatalf("%d commits, want 1", len(calls))
	}
	want := map[string]map[int]int64{"a": {0: 10, 1: 9}, "b": {0: 3}}
	if !equalOffsets(calls[0], want) {
		t.Errorf("committed %v, want %v", calls[0], want)
	}
	if !c.commitPending() || len(rc.snapshot()) != 1 {
		t.Error("a second commit with nothing marked reached the broker")
	}
}

// A commit refused because the generation ended is dropped, not retried:
// the next owner replays from the previous commit.
func TestCommitterDropsFencedCommits(t *testing.T) {
	rc := &recordingCommits{fail: []error{kafka.IllegalGeneration}}
	c := newTestCommitter(rc)
	c.mark(map[string]map[int]int64{"a": {0: 10}})
	if !c.commitPending() {
		t.Error("a fenced commit reported a passing failure")
	}
	if c.commitPending(); len(rc.snapshot()) != 1 {
		t.Errorf("%d commits, want the fenced one only", len(rc.snapshot()))
	}
}

// A passing failure puts the offsets back; marks made meanwhile merge with
// them, still forward only.
func TestCommitterRetriesPassingFailures(t *testing.T) {
	rc := &recordingCommits{fail: []error{errors.New("connection reset")}}
	c := newTestCommitter(rc)
	c.mark(map[string]map[int]int64{"a": {0: 10}})
	if c.commitPending() {
		t.Fatal("a failed commit reported success")
	}
	c.mark(map[string]map[int]int64{"a": {0: 8, 1: 4}})
	if !c.commitPending() {
		t.Fatal("retry failed")
	}
	calls := rc.snapshot()
	want := map[string]map[int]int64{"a": {0: 10, 1: 4}}
	if len(calls) != 2 || !equalOffsets(calls[1], want) {
		t.Errorf("commits %v, want the second to be %v", calls, want)
	}
}

// run commits what is marked while it runs and, when stopped, what was
// marked last.
func TestCommitterRunCommitsLastMarkOnStop(t *testing.T) {
	rc := &recordingCommits{}
	c := newTestCommitter(rc)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); c.run(ctx) }()
	c.mark(map[string]map[int]int64{"a": {0: 1}})
	waitFor(t, func() bool { return len(rc.snapshot()) >= 1 })
	cancel()
	<-done
	// The last mark before stop is committed by the final commit.
	rc2 := &recordingCommits{}
	c2 := newTestCommitter(rc2)
	ctx2, cancel2 := context.WithCancel(context.Background())
	cancel2()
	c2.mark(map[string]map[int]int64{"a": {0: 5}})
	c2.run(ctx2)
	calls := rc2.snapshot()
	if len(calls) == 0 || !equalOffsets(calls[len(calls)-1], map[string]map[int]int64{"a": {0: 5}}) {
		t.Errorf("commits after stop %v, want the last to be a/0=5", calls)
	}
}

func equalOffsets(a, b map[string]map[int]int64) bool {
	if len(a) != len(b) {
		return false
	}
	for t, ps := range a {
		if len(ps) != len(b[t]) {
			return false
		}
		for p, o := range ps {
			if bo, ok := b[t][p]; !ok || bo != o {
				return false
			}
		}
	}
	return true
}

// waitFor polls cond until it holds or the guard passes.
func waitFor(t testing.TB, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(guard)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met before the guard timeout")
		}
		time.Sleep(time.Millisecond)
	}
}
