package reducer

import "math"

// Snapshot returns the visitor's snapshot, or nil if there is none. The
// caller must not modify it. A snapshot restored encoded is decoded now.
func (r *Reducer) Snapshot(visitorID string) *Snapshot {
	if s, ok := r.visitors[visitorID]; ok {
		return s
	}
	return r.thaw(visitorID)
}

// Restore installs a snapshot read back from durable state, replacing any
// the visitor had. A nil snapshot removes the visitor (a tombstone).
func (r *Reducer) Restore(visitorID string, s *Snapshot) {
	delete(r.encoded, visitorID)
	if s == nil {
		delete(r.visitors, visitorID)
		return
	}
	r.visitors[visitorID] = s
}

// ExpireBefore discards the snapshots of visitors whose latest event is more
// than the session TTL before watermark (the newest event time seen on the
// input they come from) and returns their ids, in no particular order.
//
// When events arrive in event-time order this changes no update: any later
// event for such a visitor would find the snapshot expired anyway. It exists
// to bound memory and to tombstone durable state.
func (r *Reducer) ExpireBefore(watermark int64) []string {
	return r.ExpireIdle(watermark, math.MaxInt64)
}

// ExpireIdle is ExpireBefore for the visitors that were also last touched
// (Snapshot.Touched) before touchedBefore: idle in event time and in the
// caller's time. A visitor is kept while either clock says it may be back.
func (r *Reducer) ExpireIdle(watermark, touchedBefore int64) []string {
	var gone []string
	for id, s := range r.visitors {
		if watermark-s.LastSeen > r.ttl && s.Touched < touchedBefore {
			delete(r.visitors, id)
			gone = append(gone, id)
		}
	}
	for id, e := range r.encoded {
		if watermark-e.lastSeen > r.ttl && e.touched < touchedBefore {
			delete(r.encoded, id)
			gone = append(gone, id)
		}
	}
	return gone
}

// Touched returns the visitor's Snapshot.Touched (0 without a snapshot),
// without decoding a snapshot restored encoded.
func (r *Reducer) Touched(visitorID string) int64 {
	if s, ok := r.visitors[visitorID]; ok {
		return s.Touched
	}
	return r.encoded[visitorID].touched
}

// TTL returns the session TTL in milliseconds.
func (r *Reducer) TTL() int64 { return r.ttl }
