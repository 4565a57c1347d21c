package kclient

import (
	"sort"

	fetchAPI "github.com/segmentio/kafka-go/protocol/fetch"
)

// abortedSet tracks, as batches are read in offset order, which producers
// are inside an aborted transaction: a producer's transaction starting at
// FirstOffset is aborted from there until its abort marker.
type abortedSet struct {
	pending []fetchAPI.ResponseTransaction // by FirstOffset, not yet reached
	active  map[int64]bool
}

func newAbortedSet(txns []fetchAPI.ResponseTransaction) *abortedSet {
	s := &abortedSet{pending: append([]fetchAPI.ResponseTransaction(nil), txns...), active: map[int64]bool{}}
	sort.Slice(s.pending, func(i, j int) bool { return s.pending[i].FirstOffset < s.pending[j].FirstOffset })
	return s
}

// aborted reports whether a transactional batch of producer at offset
// belongs to an aborted transaction.
func (s *abortedSet) aborted(producer, offset int64) bool {
	for len(s.pending) > 0 && s.pending[0].FirstOffset <= offset {
		s.active[s.pending[0].ProducerID] = true
		s.pending = s.pending[1:]
	}
	return s.active[producer]
}

// end closes producer's transaction at its control marker.
func (s *abortedSet) end(producer int64) { delete(s.active, producer) }
