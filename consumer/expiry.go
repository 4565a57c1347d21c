package consumer

import (
	"time"

	"github.com/sessiond/sessiond/reducer"
)

// Housekeeping: visitors idle for longer than the session TTL (plus the
// clock-skew allowance) are dropped from memory and tombstoned in the
// changelog. Expiry itself is per visitor and happens in the reducer, on
// the visitor's own next event; this sweep only frees memory, and under the
// conditions in streamtime.go it changes no update.

// sweepFraction: the sweep runs each time stream time has moved by this
// fraction of the TTL (at least sweepMinEvery milliseconds).
const (
	sweepFraction = 24
	sweepMinEvery = 1000
)

// sweepEvery is the event time between two expiry sweeps, in ms.
func sweepEvery(ttl time.Duration) int64 {
	return max(ttl.Milliseconds()/sweepFraction, sweepMinEvery)
}

// sweepIdle drops the snapshots idle beyond the TTL (by the stream clock's
// rules, streamtime.go) when it is time to, counts them, and returns their
// visitor ids.
func sweepIdle(red *reducer.Reducer, clock *streamClock, ttl time.Duration, m *partitionMetrics) []string {
	if !clock.due(sweepEvery(ttl)) {
		return nil
	}
	gone := clock.sweep(red)
	m.shared.Swept.Add(float64(len(gone)))
	return gone
}
