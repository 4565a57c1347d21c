package consumer

import (
	"fmt"
	"sort"
	"sync"
	"sync/atomic"
	"time"
)

// Status tracks what this member owns and whether it is ready. Ready means
// all of: it has joined a consumer-group generation; it owns at least one
// input partition; every partition it owns is restored and consuming; and
// the brokers answered one of its requests within BrokerSilence. It is
// safe for concurrent use.
type Status struct {
	mu       sync.Mutex
	joined   bool
	owned    map[int]bool // partition number -> restored
	lastSeen []int        // partitions of the latest generation, for stickiness
	contact  atomic.Int64 // unix nanoseconds of the brokers' last answer
	now      func() time.Time
}

// BrokerSilence is how long the brokers may not answer before the member
// is no longer ready. Idle partitions still answer (empty fetches every
// 500 ms), so silence means the brokers are gone or unreachable.
const BrokerSilence = 30 * time.Second

// NewStatus returns a Status that is not ready.
func NewStatus() *Status { return &Status{owned: map[int]bool{}, now: time.Now} }

// Touch records an answer from the brokers.
func (s *Status) Touch() { s.contact.Store(s.now().UnixNano()) }

// Ready reports whether the member is ready (see Status).
func (s *Status) Ready() bool {
	ok, _ := s.Readiness()
	return ok
}

// Readiness reports whether the member is ready and, if not, why.
func (s *Status) Readiness() (bool, string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.joined {
		return false, "not in a consumer-group generation (joining, rebalancing or leaving)"
	}
	if len(s.owned) == 0 {
		return false, "owns no input partition (more replicas than partitions, or the group is being rebuilt)"
	}
	var restoring []int
	for p, restored := range s.owned {
		if !restored {
			restoring = append(restoring, p)
		}
	}
	if len(restoring) > 0 {
		sort.Ints(restoring)
		return false, fmt.Sprintf("restoring partitions %v", restoring)
	}
	if silent := s.now().Sub(time.Unix(0, s.contact.Load())); silent > BrokerSilence {
		return false, fmt.Sprintf("no answer from the brokers for %s", silent.Round(time.Second))
	}
	return true, "ok"
}

// Owned returns the partition numbers of the latest generation, sorted.
func (s *Status) Owned() []int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]int(nil), s.lastSeen...)
}

func (s *Status) generation(partitions []int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.joined = true
	s.owned = map[int]bool{}
	for _, p := range partitions {
		s.owned[p] = false
	}
	s.lastSeen = append([]int(nil), partitions...)
	sort.Ints(s.lastSeen)
}

func (s *Status) restored(p int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.owned[p]; ok {
		s.owned[p] = true
	}
}

func (s *Status) left() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.joined = false
}
