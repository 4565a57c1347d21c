package consumer

import (
	"context"
	"sync/atomic"
	"time"

	"github.com/segmentio/kafka-go"
)

// stateWrite is one batch's changelog records and the input offsets they
// cover.
type stateWrite struct {
	msgs    []kafka.Message
	offsets map[string]map[int]int64
}

// statePipe writes a task's changelog batches in order, off the task's
// path, and hands each batch's offsets to the committer once its changelog
// is acknowledged. The task may meanwhile process and emit the next batch:
// a crash then replays both from the last commit, which is still behind
// both changelogs. If a write fails for good (only when a drain runs out of
// time) every later batch is dropped too, so that the changelog never skips
// a batch and the offsets never pass one.
type statePipe struct {
	ch     chan stateWrite
	done   chan struct{}
	failed atomic.Bool
	ctx    context.Context
	cancel context.CancelFunc
}

// stateDepth is how many batches' changelogs may be in flight per task.
const stateDepth = 2

func (t *task) startStatePipe() {
	ctx, cancel := context.WithCancel(context.Background())
	t.pipe = &statePipe{ch: make(chan stateWrite, stateDepth), done: make(chan struct{}), ctx: ctx, cancel: cancel}
	go t.writeState()
}

func (t *task) writeState() {
	p := t.pipe
	defer close(p.done)
	for w := range p.ch {
		if p.failed.Load() {
			continue
		}
		if err := t.write(p.ctx, "changelog", t.p.changelog.writer, w.msgs); err != nil {
			p.failed.Store(true)
			t.log.Warn("changelog write abandoned; the partition replays from the last commit", "error", err)
			continue
		}
		if len(w.offsets) > 0 {
			t.commits.mark(w.offsets)
		}
	}
}

// handOff queues a batch's changelog; it waits while stateDepth batches are
// in flight, or until ctx ends (false).
func (p *statePipe) handOff(ctx context.Context, w stateWrite) bool {
	select {
	case p.ch <- w:
		return true
	case <-ctx.Done():
		return false
	}
}

// drain closes the pipe and waits for the queued writes until ctx ends,
// then abandons them. It reports whether everything was written.
func (p *statePipe) drain(ctx context.Context) bool {
	close(p.ch)
	select {
	case <-p.done:
	case <-ctx.Done():
		p.cancel()
		select {
		case <-p.done:
		case <-time.After(5 * time.Second):
		}
	}
	p.cancel()
	return !p.failed.Load() && ctx.Err() == nil
}
