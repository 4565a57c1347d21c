package consumer

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"sort"
	"time"

	"github.com/segmentio/kafka-go"
	"github.com/segmentio/kafka-go/protocol"
	fetchAPI "github.com/segmentio/kafka-go/protocol/fetch"
)

// Isolation levels of the fetch requests (Kafka's protocol values).
const (
	readUncommitted int8 = 0
	readCommitted   int8 = 1
)

// fetcher reads one topic-partition with Fetch requests over the
// connection's transport. Unlike kafka-go's Reader it understands
// transactions: with read_committed it drops the records of aborted
// transactions (from the response's aborted-transaction list) and skips
// transaction control markers, and it reports the offsets they take, so
// that a lane never waits for a marker as if it were data.
type fetcher struct {
	rt        kafka.RoundTripper
	addr      net.Addr
	topic     string
	partition int
	offset    int64 // next offset to fetch
	isolation int8
	maxBytes  int32
	maxWait   time.Duration
	// known reports that end holds the partition's end (high watermark, or
	// last stable offset) from the last response.
	known bool
	end   int64
}

// wait is the next fetch's MaxWaitTime: none while the broker is known to
// hold records past the offset (the answer comes at once, with data; and a
// fetch that waits for nothing is not merged with other readers' long
// polls, whose large catch-up answers it would otherwise wait behind), and
// maxWait once the partition is caught up, or before its end is known.
func (f *fetcher) wait() time.Duration {
	if !f.known || f.end > f.offset {
		return 0
	}
	return f.maxWait
}

// fetchResult is one fetch's positions.
type fetchResult struct {
	next int64 // offset after everything consumed, markers and aborted records included
	end  int64 // the high watermark; the last stable offset under read_committed
	// last is the offset of the last record handed over; -1 none.
	last int64
}

// errStopped reports that the fetch's consumer stopped taking records.
var errStopped = errors.New("consumer stopped")

// fetch sends one Fetch request and hands the records it keeps to yield,
// one at a time as they are read from the response (the response's pages
// are all the buffering there is). yield returns false to stop.
func (f *fetcher) fetch(ctx context.Context, yield func(msg kafka.Message, end int64) bool) (fetchResult, error) {
	m, err := f.rt.RoundTrip(ctx, f.addr, &fetchAPI.Request{
		ReplicaID:      -1,
		MaxWaitTime:    int32(f.wait() / time.Millisecond),
		MinBytes:       1,
		MaxBytes:       f.maxBytes,
		IsolationLevel: f.isolation,
		SessionID:      -1,
		SessionEpoch:   -1,
		Topics: []fetchAPI.RequestTopic{{Topic: f.topic, Partitions: []fetchAPI.RequestPartition{{
			Partition: int32(f.partition), CurrentLeaderEpoch: -1, FetchOffset: f.offset,
			LogStartOffset: -1, PartitionMaxBytes: f.maxBytes,
		}}}},
	})
	if err != nil {
		return fetchResult{}, fmt.Errorf("fetch %s/%d at %d: %w", f.topic, f.partition, f.offset, err)
	}
	res := m.(*fetchAPI.Response)
	if len(res.Topics) != 1 || len(res.Topics[0].Partitions) != 1 {
		return fetchResult{}, fmt.Errorf("fetch %s/%d: %w", f.topic, f.partition, protocol.ErrNoPartition)
	}
	p := &res.Topics[0].Partitions[0]
	if p.ErrorCode != 0 {
		return fetchResult{}, fmt.Errorf("fetch %s/%d at %d: %w", f.topic, f.partition, f.offset, kafka.Error(p.ErrorCode))
	}
	out := fetchResult{next: f.offset, end: p.HighWatermark, last: -1}
	if f.isolation == readCommitted && p.LastStableOffset >= 0 {
		out.end = p.LastStableOffset
	}
	err = f.collect(&out, p, yield)
	from := f.offset
	f.offset = out.next
	// An answer that moved nothing counts as caught up, whatever its end
	// says, so that a partition cannot spin on fetches that do not wait.
	f.known, f.end = true, out.end
	if out.next == from {
		f.end = f.offset
	}
	return out, err
}

// collect reads the response's batches in order, keeping the records at
// or after the fetch offset that are not aborted and not markers.
func (f *fetcher) collect(out *fetchResult, p *fetchAPI.ResponsePartition, yield func(kafka.Message, int64) bool) error {
	stream, ok := p.RecordSet.Records.(*protocol.RecordStream)
	if !ok || stream == nil {
		return nil
	}
	ab := newAbortedSet(p.AbortedTransactions)
	for _, rr := range stream.Records {
		switch b := rr.(type) {
		case *protocol.ControlBatch:
			ab.end(b.ProducerID)
			if err := f.skip(out, b); err != nil {
				return err
			}
		case *protocol.RecordBatch:
			if b.Attributes.Transactional() && ab.aborted(b.ProducerID, b.BaseOffset) {
				if err := f.skip(out, b); err != nil {
					return err
				}
				continue
			}
			if err := f.keep(out, b, yield); err != nil {
				return err
			}
		default:
			if err := f.keep(out, rr, yield); err != nil {
				return err
			}
		}
	}
	return nil
}

// keep hands over the batch's records at or after the fetch offset.
func (f *fetcher) keep(out *fetchResult, rr protocol.RecordReader, yield func(kafka.Message, int64) bool) error {
	return f.each(out, rr, func(r *protocol.Record) error {
		msg, err := f.message(r)
		if err != nil {
			return err
		}
		if !yield(msg, out.end) {
			return errStopped
		}
		out.last = r.Offset
		return nil
	})
}

// skip consumes the batch's records without keeping them.
func (f *fetcher) skip(out *fetchResult, rr protocol.RecordReader) error {
	return f.each(out, rr, func(r *protocol.Record) error { closeRecord(r); return nil })
}

// each calls fn for every record of the batch at or after the fetch
// offset, moving next past it; records before it are closed unread.
func (f *fetcher) each(out *fetchResult, rr protocol.RecordReader, fn func(*protocol.Record) error) error {
	for {
		r, err := rr.ReadRecord()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("read records of %s/%d: %w", f.topic, f.partition, err)
		}
		if r.Offset < out.next { // a batch can start before the offset asked for
			closeRecord(r)
			continue
		}
		off := r.Offset
		if err := fn(r); err != nil {
			return err
		}
		out.next = off + 1
	}
}

func (f *fetcher) message(r *protocol.Record) (kafka.Message, error) {
	defer closeRecord(r)
	key, err := protocol.ReadAll(r.Key)
	if err != nil {
		return kafka.Message{}, err
	}
	value, err := protocol.ReadAll(r.Value)
	if err != nil {
		return kafka.Message{}, err
	}
	msg := kafka.Message{Topic: f.topic, Partition: f.partition, Offset: r.Offset, Key: key, Value: value, Time: r.Time}
	if len(r.Headers) > 0 {
		msg.Headers = make([]kafka.Header, len(r.Headers))
		for i, h := range r.Headers {
			msg.Headers[i] = kafka.Header{Key: h.Key, Value: h.Value}
		}
	}
	return msg, nil
}

func closeRecord(r *protocol.Record) {
	if r.Key != nil {
		r.Key.Close()
	}
	if r.Value != nil {
		r.Value.Close()
	}
}

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
