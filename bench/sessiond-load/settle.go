package main

import (
	"context"
	"log/slog"
	"time"
)

// Settling: before a timed throughput phase the machine is given time to
// finish what the previous phase left running (the broker deleting a
// previous application's topics, its JIT, a JVM exiting), so that each
// contender starts on a quiet machine and the order of the phases does not
// decide the figures.
const (
	settleQuiet   = 0.25 // busy cores below which the machine is quiet
	settleWindow  = time.Second
	settleTimeout = 60 * time.Second
)

// settle waits until one settleWindow of the machine's busy CPU is below
// settleQuiet cores, or settleTimeout has passed, and returns how long it
// waited.
func settle(ctx context.Context, before string, log *slog.Logger) time.Duration {
	begin := time.Now()
	for {
		m := startCPU(0)
		select {
		case <-ctx.Done():
			return time.Since(begin)
		case <-time.After(settleWindow):
		}
		busy := m.stop().Machine
		if busy < settleQuiet || time.Since(begin) >= settleTimeout {
			waited := time.Since(begin)
			if waited > 2*settleWindow {
				log.Info("waited for the machine to settle", "before", before, "seconds", round(waited.Seconds(), 1), "busy_cores", round(busy, 2))
			}
			return waited
		}
	}
}
