package consumer

import (
	"sort"
	"sync"
)

// Status tracks what this member owns and whether it is ready: it is ready
// when it has joined a generation and every partition it owns is restored
// and consuming. It is safe for concurrent use.
type Status struct {
	mu       sync.Mutex
	joined   bool
	owned    map[int]bool // partition number -> restored
	lastSeen []int        // partitions of the latest generation, for stickiness
}

// NewStatus returns a Status that is not ready.
func NewStatus() *Status { return &Status{owned: map[int]bool{}} }

// Ready reports whether the member is joined and fully restored.
func (s *Status) Ready() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.joined {
		return false
	}
	for _, restored := range s.owned {
		if !restored {
			return false
		}
	}
	return true
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
