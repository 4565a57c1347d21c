package main

import (
	"fmt"
	"runtime"
	"sync"
	"time"

	"github.com/segmentio/kafka-go"
	"github.com/sessiond/sessiond/internal/gen"
	"github.com/sessiond/sessiond/reducer"
	"github.com/sessiond/sessiond/schemas"
)

// stream is the generated shopper stream and its encoding into records. The
// latency phase continues the preload's stream, so its visitors have state.
type stream struct {
	g      *gen.Generator
	codecs *schemas.Codecs
	encode func(*reducer.Event) ([]byte, error) // the run's wire format
	topics [3]string
}

func newStream(cfg *config, codecs *schemas.Codecs, t *topics) (*stream, error) {
	gc := gen.Config{Seed: cfg.seed, Visitors: cfg.visitors}
	if cfg.meanGap > 0 { // the preload's event time ends now: a live stream, not history
		gc.MeanGap = cfg.meanGap
		gc.Start = time.Now().Add(-time.Duration(cfg.events) * cfg.meanGap)
	}
	g, err := gen.New(gc)
	if err != nil {
		return nil, fmt.Errorf("generator: %w", err)
	}
	return &stream{g: g, codecs: codecs, topics: t.input}, nil
}

// actions is the number of fresh actions generated so far: one update each.
func (s *stream) actions() int64 { return int64(s.g.Stats().Kinds[reducer.KindAction]) }

// message encodes ev as its input record, keyed by visitor.
func (s *stream) message(ev *reducer.Event) (kafka.Message, error) {
	v, err := s.encode(ev)
	if err != nil {
		return kafka.Message{}, fmt.Errorf("encode event %s: %w", ev.EventID, err)
	}
	return kafka.Message{Topic: s.topics[ev.Kind], Key: []byte(ev.VisitorID), Value: v}, nil
}

// next returns the stream's next n events and their records, encoded on
// this goroutine (the rate-driven phases write a few at a time).
func (s *stream) next(n int) ([]*reducer.Event, []kafka.Message, error) {
	evs := s.g.Take(n)
	msgs := make([]kafka.Message, len(evs))
	for i, ev := range evs {
		m, err := s.message(ev)
		if err != nil {
			return nil, nil, err
		}
		msgs[i] = m
	}
	return evs, msgs, nil
}

// generate returns the next n events as records, generated on one
// goroutine (the generator is sequential) and encoded on all cores.
func (s *stream) generate(n int) ([]kafka.Message, error) {
	const chunk = 4096
	msgs := make([]kafka.Message, n)
	type job struct {
		at  int
		evs []*reducer.Event
	}
	jobs := make(chan job, 2*runtime.GOMAXPROCS(0))
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		first error
	)
	for range runtime.GOMAXPROCS(0) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range jobs {
				for i, ev := range j.evs {
					m, err := s.message(ev)
					if err != nil {
						mu.Lock()
						first = cmpErr(first, err)
						mu.Unlock()
					}
					msgs[j.at+i] = m
				}
			}
		}()
	}
	for at := 0; at < n; at += chunk {
		jobs <- job{at: at, evs: s.g.Take(min(chunk, n-at))}
	}
	close(jobs)
	wg.Wait()
	return msgs, first
}

// cmpErr keeps the first error.
func cmpErr(first, err error) error {
	if first != nil {
		return first
	}
	return err
}
