package consumer

// Housekeeping: visitors idle for longer than the session TTL are dropped
// from memory and tombstoned in the changelog. Expiry itself is per
// visitor and happens in the reducer, on the visitor's own next event;
// this sweep only frees memory.

// sweepFraction: the sweep runs each time the watermark has moved by this
// fraction of the TTL (at least sweepMinEvery milliseconds).
const (
	sweepFraction = 24
	sweepMinEvery = 1000
)

// sweepEvery is the event time between two expiry sweeps, in ms.
func (t *task) sweepEvery() int64 {
	return max(t.reducer.SessionTTL.Milliseconds()/sweepFraction, sweepMinEvery)
}

// sweep drops the snapshots idle beyond the TTL when it is time to and
// returns their visitor ids.
func (t *task) sweep() []string {
	if t.watermark-t.swept < t.sweepEvery() {
		return nil
	}
	gone := t.red.ExpireBefore(t.watermark)
	t.swept = t.watermark
	t.metrics.shared.Expired.Add(float64(len(gone)))
	return gone
}
