package consumer

import (
	"context"
	"sync/atomic"

	"github.com/segmentio/kafka-go"
)

// stateWrite is one batch's changelog records and the input offsets they
// cover.
type stateWrite struct {
	msgs    []kafka.Message
	offsets map[string]map[int]int64
}

// statePipe writes a task's changelog batches in order, off the task's
// path, and hands each batch's offsets on (to the committer) once its
// changelog is acknowledged. The task may meanwhile process and emit the
// next batch: a crash then replays both from the last commit, which is
// still behind both changelogs. If a write fails for good (its context
// ended) every later batch is dropped too, so that the changelog never
// skips a batch and the offsets never pass one.
//
// The task starts the pipe and owns it: drain closes it and waits for its
// goroutine.
type statePipe struct {
	write  func(ctx context.Context, msgs []kafka.Message) error
	then   func(offsets map[string]map[int]int64)
	ch     chan stateWrite
	done   chan struct{}
	failed atomic.Bool
}

// stateDepth is how many batches' changelogs may be in flight per task.
const stateDepth = 2

// startStatePipe starts the pipe's writer; it writes with ctx, which must
// outlive the task's processing by the drain (see drainContext).
func startStatePipe(ctx context.Context, write func(context.Context, []kafka.Message) error,
	then func(map[string]map[int]int64), onFail func(error)) *statePipe {
	p := &statePipe{write: write, then: then, ch: make(chan stateWrite, stateDepth), done: make(chan struct{})}
	go p.run(ctx, onFail)
	return p
}

func (p *statePipe) run(ctx context.Context, onFail func(error)) {
	defer close(p.done)
	for w := range p.ch {
		if p.failed.Load() {
			continue
		}
		if err := p.write(ctx, w.msgs); err != nil {
			p.failed.Store(true)
			onFail(err)
			continue
		}
		if len(w.offsets) > 0 && p.then != nil {
			p.then(w.offsets)
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

// drain closes the pipe and waits for its goroutine, which ends once the
// queued writes are done or abandoned (their context ended). It reports
// whether everything was written.
func (p *statePipe) drain() bool {
	close(p.ch)
	<-p.done
	return !p.failed.Load()
}
