package consumer

import "time"

// staged is what a task's flushed batches left for the changelog and the
// committer and has not handed off yet (flush.go): the visitors they
// touched, each written once however many batches touched it, and the
// offsets after them.
type staged struct {
	dirty   map[string]struct{}
	next    [numKinds]int64 // offset after the last record staged, per source; -1 none
	since   time.Time       // when the first batch was staged
	write   *stateWrite     // encoded and waiting for the state pipe (a retry resends it)
	written bool            // exactly once: write's records are in the open transaction
	has     bool
}

func newStaged() *staged {
	s := &staged{dirty: map[string]struct{}{}}
	s.reset()
	return s
}

func (s *staged) reset() {
	clear(s.dirty)
	for k := range s.next {
		s.next[k] = -1
	}
	s.write, s.written, s.has = nil, false, false
}

func (s *staged) empty() bool { return !s.has }

// add stages a flushed batch.
func (s *staged) add(b *batch) {
	if !s.has {
		s.since, s.has = time.Now(), true
	}
	for id := range b.dirty {
		s.dirty[id] = struct{}{}
	}
	for k, n := range b.next {
		if n >= 0 {
			s.next[k] = n
		}
	}
}

// offsets returns the staged next offset per input topic.
func (s *staged) offsets(topics [numKinds]string, partition int) map[string]map[int]int64 {
	offsets := map[string]map[int]int64{}
	for k, topic := range topics {
		if n := s.next[k]; n >= 0 {
			offsets[topic] = map[int]int64{partition: n}
		}
	}
	return offsets
}
