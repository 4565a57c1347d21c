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
	detail   statusDetail
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

// What the status page shows (StatusReport), kept up to date by the tasks.

// PartitionState is one owned partition on the status page.
type PartitionState struct {
	Partition   int
	Restored    bool
	Lag         int64 // records on the broker not yet processed, all three inputs
	RestoreLeft int64 // changelog records still to read while restoring
}

// Rejection is a recently dead-lettered record: where it was and why,
// never its value.
type Rejection struct {
	At                  time.Time
	Topic               string
	Partition           int
	Offset              int64
	Reason, Error, Hint string
}

// StatusReport is a consistent copy of the member's state.
type StatusReport struct {
	Member     string
	Generation int32
	Ready      bool
	Why        string
	Partitions []PartitionState
	Events     int64 // events processed since start
	Updates    int64 // updates delivered since start
	Rejected   int64 // records dead-lettered since start
	Rejections []Rejection
	Contact    time.Time // the brokers' last answer
	Warnings   []string  // what the operator should fix (Status.Warn)
}

// recentRejections is how many rejections the status page lists.
const recentRejections = 10

// statusDetail is the part of Status that only the status page reads.
type statusDetail struct {
	member     string
	generation int32
	lag        map[int]int64
	left       map[int]int64
	events     int64
	updates    int64
	rejected   int64
	rejections []Rejection // newest last
	warnings   []string
}

// Warn adds a standing warning to the status page (a topic without
// replicas on a cluster that has them, say). It does not affect readiness.
func (s *Status) Warn(msg string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.detail.warnings = append(s.detail.warnings, msg)
}

func (s *Status) joinedAs(generation int32, member string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.detail.generation, s.detail.member = generation, member
}

func (s *Status) setLag(p int, lag int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.detail.lag == nil {
		s.detail.lag = map[int]int64{}
	}
	s.detail.lag[p] = lag
}

func (s *Status) setRestoreLeft(p int, left int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.detail.left == nil {
		s.detail.left = map[int]int64{}
	}
	s.detail.left[p] = left
}

func (s *Status) count(events, updates, rejected int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.detail.events += events
	s.detail.updates += updates
	s.detail.rejected += rejected
}

func (s *Status) noteRejection(r Rejection) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.detail.rejections = append(s.detail.rejections, r)
	if n := len(s.detail.rejections); n > recentRejections {
		s.detail.rejections = append([]Rejection(nil), s.detail.rejections[n-recentRejections:]...)
	}
}

// Report returns a copy of the member's state for the status page.
func (s *Status) Report() StatusReport {
	ready, why := s.Readiness()
	s.mu.Lock()
	defer s.mu.Unlock()
	d := &s.detail
	r := StatusReport{Member: d.member, Generation: d.generation, Ready: ready, Why: why,
		Events: d.events, Updates: d.updates, Rejected: d.rejected,
		Rejections: append([]Rejection(nil), d.rejections...), Contact: time.Unix(0, s.contact.Load()),
		Warnings: append([]string(nil), d.warnings...)}
	for p, restored := range s.owned {
		r.Partitions = append(r.Partitions, PartitionState{Partition: p, Restored: restored, Lag: d.lag[p], RestoreLeft: d.left[p]})
	}
	sort.Slice(r.Partitions, func(i, j int) bool { return r.Partitions[i].Partition < r.Partitions[j].Partition })
	return r
}
