package consumer

import (
	"context"
	"time"
)

// drainContext returns a context for a task's writes: it stays alive after
// ctx ends, for at most grace, so that a write in flight when the
// generation ends (SIGTERM, rebalance) finishes instead of being cancelled
// and sent again, and the last batch is flushed and committed. cancel
// releases it early.
func drainContext(ctx context.Context, grace time.Duration) (context.Context, context.CancelFunc) {
	wctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	stop := context.AfterFunc(ctx, func() { time.AfterFunc(grace, cancel) })
	return wctx, func() { stop(); cancel() }
}
