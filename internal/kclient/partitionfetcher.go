package kclient

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"time"

	"github.com/segmentio/kafka-go"
	"github.com/segmentio/kafka-go/protocol"
	fetchAPI "github.com/segmentio/kafka-go/protocol/fetch"
	metadataAPI "github.com/segmentio/kafka-go/protocol/metadata"
)

// Isolation is a fetch's isolation level (Kafka's protocol values).
type Isolation int8

// Isolation levels.
const (
	// ReadUncommitted reads every record up to the high watermark.
	ReadUncommitted Isolation = 0
	// ReadCommitted reads up to the last stable offset and drops the
	// records of aborted transactions.
	ReadCommitted Isolation = 1
)

// Limits of a PartitionFetcher's requests, unless set otherwise.
const (
	DefaultFetchMaxBytes = 256 << 10 // per response: it is held while its records are handed over
	DefaultFetchMaxWait  = 500 * time.Millisecond
)

// PartitionFetcher reads one topic-partition with Fetch requests over a
// Conn's transport. Unlike kafka-go's Reader it understands transactions:
// with ReadCommitted it drops the records of aborted transactions (from the
// response's aborted-transaction list) and skips transaction control
// markers, and it reports the offsets they take, so that a reader never
// waits for a marker as if it were data. It starts no goroutine: Fetch
// runs on its caller's. It is not safe for concurrent use.
type PartitionFetcher struct {
	// MaxBytes caps one response. Default: DefaultFetchMaxBytes.
	MaxBytes int32
	// MaxWait is how long the broker may hold a fetch of a caught-up
	// partition. Default: DefaultFetchMaxWait.
	MaxWait time.Duration

	rt        kafka.RoundTripper
	addr      net.Addr
	topic     string
	partition int
	offset    int64 // next offset to fetch
	isolation Isolation
	// known reports that end holds the partition's end (high watermark, or
	// last stable offset) from the last response.
	known bool
	end   int64
	// leaderEpoch is the partition leader's epoch from the metadata, sent
	// with each fetch (-1: none), so that a broker that is no longer the
	// leader, or a leader the metadata has not caught up with, refuses the
	// fetch (FENCED_LEADER_EPOCH, UNKNOWN_LEADER_EPOCH) instead of serving
	// it; epochKnown is false until it is read, and again after such an
	// error.
	leaderEpoch int32
	epochKnown  bool
	refresh     func() // the Conn's RefreshMetadata
}

// NewPartitionFetcher returns a fetcher of topic/partition from offset
// whose requests go through conn's FetchBatcher, merged with the other
// readers' long polls.
func NewPartitionFetcher(conn *Conn, topic string, partition int, offset int64, isolation Isolation) *PartitionFetcher {
	return newPartitionFetcher(conn.FetchBatcher(), conn, topic, partition, offset, isolation)
}

// NewDirectPartitionFetcher is NewPartitionFetcher with requests sent
// straight to conn's transport, unmerged: for a reader that reads a
// partition to its end on its own (a restore).
func NewDirectPartitionFetcher(conn *Conn, topic string, partition int, offset int64, isolation Isolation) *PartitionFetcher {
	return newPartitionFetcher(conn.Transport(), conn, topic, partition, offset, isolation)
}

func newPartitionFetcher(rt kafka.RoundTripper, conn *Conn, topic string, partition int, offset int64, isolation Isolation) *PartitionFetcher {
	return &PartitionFetcher{MaxBytes: DefaultFetchMaxBytes, MaxWait: DefaultFetchMaxWait, rt: rt,
		addr: kafka.TCP(conn.Brokers()...), topic: topic, partition: partition, offset: offset, isolation: isolation,
		leaderEpoch: -1, refresh: conn.RefreshMetadata}
}

// Offset is the next offset to fetch.
func (f *PartitionFetcher) Offset() int64 { return f.offset }

// SetOffset makes the next fetch start at offset (a reader moved past
// records deleted by retention).
func (f *PartitionFetcher) SetOffset(offset int64) { f.offset = offset }

// wait is the next fetch's MaxWaitTime: none while the broker is known to
// hold records past the offset (the answer comes at once, with data; and a
// fetch that waits for nothing is not merged with other readers' long
// polls, whose large catch-up answers it would otherwise wait behind), and
// maxWait once the partition is caught up, or before its end is known.
func (f *PartitionFetcher) wait() time.Duration {
	if !f.known || f.end > f.offset {
		return 0
	}
	return f.MaxWait
}

// FetchResult is one fetch's positions.
type FetchResult struct {
	// Next is the offset after everything consumed, markers and aborted
	// records included: the next fetch's offset.
	Next int64
	// End is the high watermark; the last stable offset under
	// ReadCommitted.
	End int64
	// Last is the offset of the last record handed over; -1 none.
	Last int64
}

// ErrStopped is Fetch's error when its yield returned false.
var ErrStopped = errors.New("consumer stopped")

// Fetch sends one Fetch request and hands the records it keeps to yield,
// one at a time as they are read from the response (the response's pages
// are all the buffering there is), with the partition's end. yield returns
// false to stop: Fetch then returns ErrStopped, and the next fetch starts
// at the record refused. Fetch waits for the broker only once the
// partition is caught up (see wait).
func (f *PartitionFetcher) Fetch(ctx context.Context, yield func(msg kafka.Message, end int64) bool) (FetchResult, error) {
	out, err := f.fetch(ctx, yield)
	if err != nil && staleMetadata(err) {
		// The leader moved, or is gone: read the metadata again, and the
		// leader's epoch with it, before the caller's next try.
		f.epochKnown = false
		if f.refresh != nil {
			f.refresh()
		}
	}
	return out, err
}

// fetch is Fetch's request and its answer.
func (f *PartitionFetcher) fetch(ctx context.Context, yield func(msg kafka.Message, end int64) bool) (FetchResult, error) {
	if !f.epochKnown {
		f.leaderEpoch, f.epochKnown = partitionLeaderEpoch(ctx, f.rt, f.addr, f.topic, int32(f.partition)), true
	}
	m, err := f.rt.RoundTrip(ctx, f.addr, &fetchAPI.Request{
		ReplicaID:      -1,
		MaxWaitTime:    int32(f.wait() / time.Millisecond),
		MinBytes:       1,
		MaxBytes:       f.MaxBytes,
		IsolationLevel: int8(f.isolation),
		SessionID:      -1,
		SessionEpoch:   -1,
		Topics: []fetchAPI.RequestTopic{{Topic: f.topic, Partitions: []fetchAPI.RequestPartition{{
			Partition: int32(f.partition), CurrentLeaderEpoch: f.leaderEpoch, FetchOffset: f.offset,
			LogStartOffset: -1, PartitionMaxBytes: f.MaxBytes,
		}}}},
	})
	if err != nil {
		return FetchResult{}, fmt.Errorf("fetch %s/%d at %d: %w", f.topic, f.partition, f.offset, err)
	}
	res := m.(*fetchAPI.Response)
	if len(res.Topics) != 1 || len(res.Topics[0].Partitions) != 1 {
		return FetchResult{}, fmt.Errorf("fetch %s/%d: %w", f.topic, f.partition, protocol.ErrNoPartition)
	}
	p := &res.Topics[0].Partitions[0]
	if p.ErrorCode != 0 {
		return FetchResult{}, fmt.Errorf("fetch %s/%d at %d: %w", f.topic, f.partition, f.offset, kafka.Error(p.ErrorCode))
	}
	out := FetchResult{Next: f.offset, End: p.HighWatermark, Last: -1}
	if f.isolation == ReadCommitted && p.LastStableOffset >= 0 {
		out.End = p.LastStableOffset
	}
	err = f.collect(&out, p, yield)
	from := f.offset
	if err == nil && out.Next == from && out.End > from && hasBatches(p) {
		// Batches came back and none of their records is at or after the
		// offset: it lies in a compacted batch's empty tail.
		next, gerr := f.gapEnd(ctx, from, out.End)
		if gerr != nil {
			return out, gerr
		}
		out.Next = next
	}
	f.offset = out.Next
	// An answer that moved nothing counts as caught up, whatever its end
	// says, so that a partition cannot spin on fetches that do not wait.
	f.known, f.end = true, out.End
	if out.Next == from {
		f.end = f.offset
	}
	return out, err
}

// collect reads the response's batches in order, keeping the records at
// or after the fetch offset that are not aborted and not markers.
func (f *PartitionFetcher) collect(out *FetchResult, p *fetchAPI.ResponsePartition, yield func(kafka.Message, int64) bool) error {
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

// hasBatches reports whether the answer carried any batch.
func hasBatches(p *fetchAPI.ResponsePartition) bool {
	stream, ok := p.RecordSet.Records.(*protocol.RecordStream)
	return ok && stream != nil && len(stream.Records) > 0
}

// gapEnd returns where the records after a compacted gap start: from lies
// in a batch whose records all come before it. The log cleaner keeps a
// compacted batch's offset range (and an emptied batch's header, for its
// producer's sequence numbers), and a fetch answer holds one segment's
// batches only, so a fetch at from gets that batch back, alone when it is
// its segment's last, and kafka-go does not decode the batch's last
// offset. Reading records alone, the fetcher then never moved: a
// changelog restore stalled in the middle of the log and went on, after
// its stall timeout, with part of the state (2.4M of 9.2M snapshots in a
// 10M-visitor run). gapEnd finds the first offset past that batch by
// bisection over (from, end], one single-batch fetch per step: a fetch
// there gets the next batch.
func (f *PartitionFetcher) gapEnd(ctx context.Context, from, end int64) (int64, error) {
	lo, hi := from, end // lo lies in the gap's batch; hi past it, or the end
	for hi-lo > 1 {
		mid := lo + (hi-lo)/2
		base, err := f.firstBase(ctx, mid)
		if err != nil {
			return 0, err
		}
		if base >= 0 && base <= from {
			lo = mid
		} else {
			hi = mid
		}
	}
	return hi, nil
}

// firstBase fetches one batch at offset and returns its base offset (-1:
// no batch), reading none of its records.
func (f *PartitionFetcher) firstBase(ctx context.Context, offset int64) (int64, error) {
	m, err := f.rt.RoundTrip(ctx, f.addr, &fetchAPI.Request{
		ReplicaID: -1, MinBytes: 1, MaxBytes: 1, IsolationLevel: int8(f.isolation), SessionID: -1, SessionEpoch: -1,
		Topics: []fetchAPI.RequestTopic{{Topic: f.topic, Partitions: []fetchAPI.RequestPartition{{
			Partition: int32(f.partition), CurrentLeaderEpoch: f.leaderEpoch, FetchOffset: offset,
			LogStartOffset: -1, PartitionMaxBytes: 1,
		}}}},
	})
	if err != nil {
		return 0, fmt.Errorf("fetch %s/%d at %d past a compacted gap: %w", f.topic, f.partition, offset, err)
	}
	res := m.(*fetchAPI.Response)
	if len(res.Topics) != 1 || len(res.Topics[0].Partitions) != 1 {
		return 0, fmt.Errorf("fetch %s/%d at %d past a compacted gap: %d topics in the answer", f.topic, f.partition, offset, len(res.Topics))
	}
	p := &res.Topics[0].Partitions[0]
	if p.ErrorCode != 0 {
		return 0, fmt.Errorf("fetch %s/%d at %d past a compacted gap: %w", f.topic, f.partition, offset, kafka.Error(p.ErrorCode))
	}
	stream, ok := p.RecordSet.Records.(*protocol.RecordStream)
	if !ok || stream == nil || len(stream.Records) == 0 {
		return -1, nil
	}
	base := batchBase(stream.Records[0])
	for _, rr := range stream.Records {
		for {
			r, err := rr.ReadRecord()
			if err != nil {
				break
			}
			closeRecord(r)
		}
	}
	return base, nil
}

// batchBase is a batch's first offset (-1: unknown).
func batchBase(rr protocol.RecordReader) int64 {
	switch b := rr.(type) {
	case *protocol.RecordBatch:
		return b.BaseOffset
	case *protocol.ControlBatch:
		return b.BaseOffset
	}
	return -1
}

// keep hands over the batch's records at or after the fetch offset.
func (f *PartitionFetcher) keep(out *FetchResult, rr protocol.RecordReader, yield func(kafka.Message, int64) bool) error {
	return f.each(out, rr, func(r *protocol.Record) error {
		msg, err := f.message(r)
		if err != nil {
			return err
		}
		if !yield(msg, out.End) {
			return ErrStopped
		}
		out.Last = r.Offset
		return nil
	})
}

// skip consumes the batch's records without keeping them.
func (f *PartitionFetcher) skip(out *FetchResult, rr protocol.RecordReader) error {
	return f.each(out, rr, func(r *protocol.Record) error { closeRecord(r); return nil })
}

// each calls fn for every record of the batch at or after the fetch
// offset, moving next past it; records before it are closed unread.
func (f *PartitionFetcher) each(out *FetchResult, rr protocol.RecordReader, fn func(*protocol.Record) error) error {
	for {
		r, err := rr.ReadRecord()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("read records of %s/%d: %w", f.topic, f.partition, err)
		}
		if r.Offset < out.Next { // a batch can start before the offset asked for
			closeRecord(r)
			continue
		}
		off := r.Offset
		if err := fn(r); err != nil {
			return err
		}
		out.Next = off + 1
	}
}

func (f *PartitionFetcher) message(r *protocol.Record) (kafka.Message, error) {
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

// partitionLeaderEpoch is the leader epoch of topic/partition in the
// transport's cached metadata, or -1 (no check) if it does not know it.
func partitionLeaderEpoch(ctx context.Context, rt kafka.RoundTripper, addr net.Addr, topic string, partition int32) int32 {
	m, err := rt.RoundTrip(ctx, addr, &metadataAPI.Request{TopicNames: []string{topic}})
	if err != nil {
		return -1
	}
	for _, t := range m.(*metadataAPI.Response).Topics {
		for _, p := range t.Partitions {
			if t.Name == topic && p.PartitionIndex == partition && p.LeaderID >= 0 {
				return p.LeaderEpoch
			}
		}
	}
	return -1
}
