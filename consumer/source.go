package consumer

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/segmentio/kafka-go"
	"github.com/sessiond/sessiond/reducer"
)

// Decoder turns a record value into a valid event of the given kind, or an
// error (which sends the record to the dead-letter topic).
type Decoder interface {
	DecodeEvent(kind reducer.Kind, data []byte) (*reducer.Event, error)
}

// record is one fetched input record, decoded.
type record struct {
	src int // index of its source in the task: its reducer.Kind
	msg kafka.Message
	ev  *reducer.Event // nil when err is set
	err error          // why the record is rejected
}

// source reads one input topic-partition in its own goroutine, decodes each
// record and hands it over in offset order.
type source struct {
	topic  string
	kind   reducer.Kind
	reader *kafka.Reader
	ch     chan record
	log    *slog.Logger
}

// Reader settings of the sources.
const (
	sourceBuffer     = 2048    // decoded records buffered per source
	sourceMaxBytes   = 1 << 20 // per fetch; kfake times out on larger ones
	sourceMaxWait    = 500 * time.Millisecond
	fetchRetryPeriod = 200 * time.Millisecond
)

func newSource(brokers []string, topic string, partition int, kind reducer.Kind, log *slog.Logger) *source {
	r := kafka.NewReader(kafka.ReaderConfig{
		Brokers:   brokers,
		Topic:     topic,
		Partition: partition,
		MinBytes:  1,
		MaxBytes:  sourceMaxBytes,
		MaxWait:   sourceMaxWait,
		ErrorLogger: kafka.LoggerFunc(func(msg string, args ...any) {
			log.Debug("kafka reader", "topic", topic, "detail", fmt.Sprintf(msg, args...))
		}),
	})
	return &source{topic: topic, kind: kind, reader: r, ch: make(chan record, sourceBuffer), log: log}
}

// fetch reads until ctx ends, then closes the reader and the channel.
func (s *source) fetch(ctx context.Context, dec Decoder) {
	defer close(s.ch)
	defer s.reader.Close()
	for {
		msg, err := s.reader.FetchMessage(ctx)
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			s.log.Warn("fetch failed, retrying", "topic", s.topic, "error", err)
			select {
			case <-ctx.Done():
				return
			case <-time.After(fetchRetryPeriod):
			}
			continue
		}
		rec := record{src: int(s.kind), msg: msg}
		rec.ev, rec.err = dec.DecodeEvent(s.kind, msg.Value)
		select {
		case s.ch <- rec:
		case <-ctx.Done():
			return
		}
	}
}

// sourceSet is a task's running sources. The task starts it and stops it;
// stop cancels the fetches and waits until every reader is closed.
type sourceSet struct {
	list   [numKinds]*source
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

// startSources positions one source per input topic at its offset and
// starts their fetches. If one cannot start, those started are stopped.
func startSources(ctx context.Context, brokers []string, topics [numKinds]string, partition int,
	offsets [numKinds]int64, dec Decoder, log *slog.Logger) (*sourceSet, error) {
	ctx, cancel := context.WithCancel(ctx)
	set := &sourceSet{cancel: cancel}
	for k, topic := range topics {
		src := newSource(brokers, topic, partition, reducer.Kind(k), log)
		if err := src.reader.SetOffset(offsets[k]); err != nil {
			src.reader.Close()
			set.stop()
			return nil, fmt.Errorf("position %s/%d at %d: %w", topic, partition, offsets[k], err)
		}
		set.list[k] = src
		set.wg.Add(1)
		go func() {
			defer set.wg.Done()
			src.fetch(ctx, dec)
		}()
	}
	return set, nil
}

func (s *sourceSet) stop() {
	s.cancel()
	s.wg.Wait()
}
