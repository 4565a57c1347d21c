package reducer

import "github.com/cespare/xxhash/v2"

// RecentActions is how many action ids per visitor are remembered for
// duplicate suppression.
const RecentActions = 32

// Snapshot is one visitor's session state. A nil Cart or Customer is
// unknown (never set, or expired) — Nosto reads that as "leave as is"; a
// non-nil one is known, possibly empty.
//
// The fields are exported so that the pipeline can persist and restore
// snapshots; only the reducer mutates them.
type Snapshot struct {
	LastSeen   int64 // latest occurred_at of any accepted event, ms
	CartAt     int64 // occurred_at of the cart mutation applied, ms
	CustomerAt int64 // occurred_at of the customer mutation applied, ms
	Cart       *Cart
	Customer   *Customer
	// Recent holds hashes (xxhash64) of the last RecentActions action ids,
	// oldest first.
	Recent []uint64
	// Touched is the caller's time of the newest accepted event (ApplyAt;
	// in the pipeline, broker time: the record's Kafka timestamp, ms). It
	// is housekeeping, not session state: only ExpireIdle reads it, no
	// update depends on it, and snapshot encodings leave it out.
	Touched int64
}

// HashEventID is the hash under which an action id is remembered.
func HashEventID(id string) uint64 { return xxhash.Sum64String(id) }

func (s *Snapshot) seen(h uint64) bool {
	for _, r := range s.Recent {
		if r == h {
			return true
		}
	}
	return false
}

func (s *Snapshot) remember(h uint64) {
	if len(s.Recent) < RecentActions {
		if s.Recent == nil {
			s.Recent = make([]uint64, 0, 4)
		}
		s.Recent = append(s.Recent, h)
		return
	}
	copy(s.Recent, s.Recent[1:])
	s.Recent[len(s.Recent)-1] = h
}
