package consumer

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/segmentio/kafka-go"
	"github.com/sessiond/sessiond/internal/kclient"
	"github.com/sessiond/sessiond/reducer"
)

// Decoder turns a record value into a valid event of the given kind, or an
// error (which sends the record to the dead-letter topic). A decoder may
// wait (for a schema registry): when ctx ends first it returns an error
// and the record is not handed over (it is read again after a restart).
type Decoder interface {
	DecodeEvent(ctx context.Context, kind reducer.Kind, data []byte) (*reducer.Event, error)
}

// RawDecoder adapts a decoder of bare Avro, which never waits
// (schemas.Codecs), to Decoder.
func RawDecoder(d interface {
	DecodeEvent(kind reducer.Kind, data []byte) (*reducer.Event, error)
}) Decoder {
	return rawDecoder{d}
}

type rawDecoder struct {
	d interface {
		DecodeEvent(kind reducer.Kind, data []byte) (*reducer.Event, error)
	}
}

func (r rawDecoder) DecodeEvent(_ context.Context, kind reducer.Kind, data []byte) (*reducer.Event, error) {
	return r.d.DecodeEvent(kind, data)
}

// record is one fetched input record, decoded, or a note that the lane's
// offsets before skipTo are consumed (transaction markers, aborted
// records) without a record to hand over.
type record struct {
	src    int // index of its source in the task: its reducer.Kind
	msg    kafka.Message
	ev     *reducer.Event // nil when err is set
	err    error          // why the record is rejected
	skipTo int64          // > 0: a progress note, not a record
}

// source reads one input topic-partition in its own goroutine, decodes each
// record and hands it over in offset order.
type source struct {
	// busy is set while a fetched record is being decoded and handed
	// over: the merger waits for a busy lane whatever the time (a decoder
	// may wait minutes for a schema registry; the partition waits too).
	busy      atomic.Bool
	stopAt    int64  // end offset of a bounded read; -1 reads on
	touch     func() // told of every answer from the brokers (readiness)
	client    *kafka.Client
	topic     string
	partition int
	kind      reducer.Kind
	f         *kclient.PartitionFetcher
	ch        chan record
	log       *slog.Logger
}

// Fetch settings of the sources: their fetchers keep kclient's default
// limits (256 KiB a response, held while its records are handed over; a
// 500ms long poll once caught up).
const (
	sourceBuffer = 2048 // decoded records buffered per source
)

// fetchRetry is how a failed fetch is retried (a leader that moves, a
// broker that restarts): 50ms doubling to 2s, reset by the next answer, and
// the fetcher has asked for fresh metadata by then where the error called
// for it.
var fetchRetry = kclient.RetryPolicy{Initial: 50 * time.Millisecond, Max: 2 * time.Second}

func newSource(conn *kclient.Conn, topic string, partition int, kind reducer.Kind, offset int64, isolation kclient.Isolation, log *slog.Logger) *source {
	f := kclient.NewPartitionFetcher(conn, topic, partition, offset, isolation)
	return &source{stopAt: -1, touch: func() {}, client: conn.Client(), topic: topic, partition: partition, kind: kind, f: f, ch: make(chan record, sourceBuffer), log: log}
}

// fetch reads until ctx ends, then closes the channel.
func (s *source) fetch(ctx context.Context, dec Decoder) {
	defer close(s.ch)
	yield := func(msg kafka.Message, end int64) bool {
		if s.stopAt >= 0 && msg.Offset >= s.stopAt {
			return false // written after a bounded read's end was resolved
		}
		msg.HighWaterMark = end
		rec := record{src: int(s.kind), msg: msg}
		s.busy.Store(true)
		defer s.busy.Store(false) // once the record is in the channel
		rec.ev, rec.err = dec.DecodeEvent(ctx, s.kind, msg.Value)
		if rec.err != nil && ctx.Err() != nil {
			return false // stopped while the decoder waited: not a rejection
		}
		return s.send(ctx, rec)
	}
	retry := fetchRetry.NewBackOff(ctx)
	for ctx.Err() == nil {
		if s.stopAt >= 0 && s.f.Offset() >= s.stopAt {
			return // a bounded read (replay) reached its end offset
		}
		from := s.f.Offset()
		res, err := s.f.Fetch(ctx, yield)
		if err == nil || errors.Is(err, kclient.ErrStopped) {
			s.touch()
			retry.Reset()
		}
		if err != nil {
			if ctx.Err() != nil || errors.Is(err, kclient.ErrStopped) {
				return
			}
			if errors.Is(err, kafka.OffsetOutOfRange) && s.reposition(ctx) {
				continue
			}
			wait := retry.NextBackOff()
			s.log.Warn("fetch failed, retrying", "topic", s.topic, "error", err, "retryable", kclient.IsRetryable(err), "wait", wait.String())
			select {
			case <-ctx.Done():
				return
			case <-time.After(wait):
			}
			continue
		}
		// Markers or aborted records after the last record handed over:
		// tell the merger, so that it does not wait for them as data.
		if res.Next > from && res.Next > res.Last+1 {
			if !s.send(ctx, record{src: int(s.kind), skipTo: res.Next, msg: kafka.Message{HighWaterMark: res.End}}) {
				return
			}
		}
	}
}

// reposition moves a fetch whose offset the broker no longer has (deleted
// by retention while it was consumed) to the log start, or one beyond the
// end to the end, and reports whether it moved.
func (s *source) reposition(ctx context.Context) bool {
	offs, err := kclient.Offsets(ctx, s.client, s.topic, s.partition)
	if err != nil {
		return false
	}
	rng, from := offs[s.partition], s.f.Offset()
	switch {
	case from < rng.First:
		s.f.SetOffset(rng.First)
	case from > rng.End:
		s.f.SetOffset(rng.End)
	default:
		return false
	}
	s.log.Warn("offset out of range: records deleted by retention are skipped", "topic", s.topic,
		"from", from, "to", s.f.Offset())
	return true
}

func (s *source) send(ctx context.Context, rec record) bool {
	select {
	case s.ch <- rec:
		return true
	case <-ctx.Done():
		return false
	}
}

// sourceSet is a task's running sources. The task starts it and stops it;
// stop cancels the fetches and waits until every fetch loop has ended.
type sourceSet struct {
	list   [numKinds]*source
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

// startSources starts one source per input topic at its offset.
// With stops (bounded reads), source k ends at stops[k], closing its
// channel.
func startSources(ctx context.Context, conn *kclient.Conn, topics [numKinds]string, partition int,
	offsets [numKinds]int64, stops *[numKinds]int64, isolation kclient.Isolation, dec Decoder, touch func(), log *slog.Logger) *sourceSet {
	ctx, cancel := context.WithCancel(ctx)
	set := &sourceSet{cancel: cancel}
	for k, topic := range topics {
		src := newSource(conn, topic, partition, reducer.Kind(k), offsets[k], isolation, log)
		if stops != nil {
			src.stopAt = stops[k]
		}
		if touch != nil {
			src.touch = touch
		}
		set.list[k] = src
		set.wg.Add(1)
		go func() {
			defer set.wg.Done()
			src.fetch(ctx, dec)
		}()
	}
	return set
}

func (s *sourceSet) stop() {
	s.cancel()
	s.wg.Wait()
}
