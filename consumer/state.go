package consumer

import (
	"context"
	"time"

	"github.com/sessiond/sessiond/reducer"
)

// partitionState is a partition's state for one task in one generation:
// where the reducer and the stream clock come from, and where a flushed
// batch's state goes (flush.go's steps (2) and (3)). The task keeps the
// record path and calls it from its own goroutine only.
//
// changelogStore (the pipeline) restores from and writes to the changelog
// and commits through the committer; memoryStore (replay) keeps the state
// in memory only.
type partitionState interface {
	// load returns the partition's reducer and stream clock: the state
	// kept from the previous generation if it is still current, else the
	// changelog's, else empty. A failed load may be retried.
	load(ctx context.Context) (*reducer.Reducer, *streamClock, error)
	// open starts the state's writes, which run with wctx (the drain
	// context). It is called once, after load; drain ends them.
	open(wctx context.Context)
	// stage notes a batch whose outputs are acknowledged.
	stage(b *batch)
	// due returns when the staged batches are to be handed off, and false
	// when nothing is staged.
	due() (at time.Time, staged bool)
	// handOff queues the staged batches' changelog and offsets; it waits
	// while the writes are behind, or until ctx ends. A retry after an
	// error resends the same records.
	handOff(ctx context.Context) error
	// drain waits for the writes that were handed off and reports whether
	// all were written. If so and keep, the state is kept for the
	// partition's next generation on this member.
	drain(ctx context.Context, keep bool) bool
}
