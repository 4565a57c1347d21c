package consumer

import (
	"context"
	"fmt"
	"log/slog"
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
	src int // index of its source in the task
	msg kafka.Message
	ev  *reducer.Event // nil when err is set
	err error          // why the record is rejected
}

// source reads one input topic-partition in its own goroutine, decodes each
// record and hands it over in offset order.
type source struct {
	topic  string
	kind   reducer.Kind
	index  int
	reader *kafka.Reader
	ch     chan record
	log    *slog.Logger
}

const sourceBuffer = 2048

func newSource(brokers []string, topic string, partition int, kind reducer.Kind, index int, log *slog.Logger) *source {
	r := kafka.NewReader(kafka.ReaderConfig{
		Brokers:   brokers,
		Topic:     topic,
		Partition: partition,
		MinBytes:  1,
		MaxBytes:  1 << 20,
		MaxWait:   500 * time.Millisecond,
		ErrorLogger: kafka.LoggerFunc(func(msg string, args ...any) {
			log.Debug("kafka reader", "topic", topic, "detail", fmt.Sprintf(msg, args...))
		}),
	})
	return &source{topic: topic, kind: kind, index: index, reader: r, ch: make(chan record, sourceBuffer), log: log}
}

// start positions the reader at offset and fetches until ctx ends, then
// closes the reader and the channel.
func (s *source) start(ctx context.Context, offset int64, dec Decoder) error {
	if err := s.reader.SetOffset(offset); err != nil {
		return err
	}
	go s.fetch(ctx, dec)
	return nil
}

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
			case <-time.After(200 * time.Millisecond):
			}
			continue
		}
		rec := record{src: s.index, msg: msg}
		rec.ev, rec.err = dec.DecodeEvent(s.kind, msg.Value)
		select {
		case s.ch <- rec:
		case <-ctx.Done():
			return
		}
	}
}
