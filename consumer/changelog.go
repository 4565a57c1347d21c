package consumer

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"strconv"
	"sync"
	"time"

	"github.com/segmentio/kafka-go"
	"github.com/sessiond/sessiond/internal/kclient"
	"github.com/sessiond/sessiond/reducer"
)

// SnapshotCodec encodes snapshots for the changelog.
type SnapshotCodec interface {
	EncodeSnapshot(dst []byte, s *reducer.Snapshot) ([]byte, error)
	DecodeSnapshot(data []byte) (*reducer.Snapshot, error)
}

// changelog persists one member's snapshots to the compacted topic whose
// partition N holds the visitors of input partition N.
type changelog struct {
	topic  string
	conn   *kclient.Conn
	client *kafka.Client
	writer *kclient.TopicWriter
	codec  SnapshotCodec
	// isolation of the restore: read_uncommitted at least once (every
	// write is the state), read_committed exactly once (an aborted
	// transaction's snapshots are not).
	isolation kclient.Isolation
}

func newChangelog(topic string, conn *kclient.Conn, client *kafka.Client, codec SnapshotCodec, isolation kclient.Isolation) *changelog {
	return &changelog{
		topic:     topic,
		conn:      conn,
		client:    client,
		writer:    conn.BatchWriter(topic, kclient.PartitionBalancer{}),
		codec:     codec,
		isolation: isolation,
	}
}

// end returns the end offset of the partition's changelog.
func (c *changelog) end(ctx context.Context, partition int) (int64, error) {
	offs, err := kclient.Offsets(ctx, c.client, c.topic, partition)
	if err != nil {
		return 0, err
	}
	return offs[partition].End, nil
}

// messages encodes the dirty snapshots and the tombstones of a batch.
func (c *changelog) messages(red *reducer.Reducer, partition int, dirty map[string]struct{}, gone []string) ([]kafka.Message, error) {
	msgs := make([]kafka.Message, 0, len(dirty)+len(gone))
	for id := range dirty {
		s := red.Snapshot(id)
		if s == nil {
			continue
		}
		v, err := c.codec.EncodeSnapshot(nil, s)
		if err != nil {
			return nil, fmt.Errorf("encode snapshot: %w", err)
		}
		msgs = append(msgs, kafka.Message{Key: []byte(id), Value: v, Partition: partition,
			Headers: snapshotHeaders(s)})
	}
	for _, id := range gone {
		msgs = append(msgs, kafka.Message{Key: []byte(id), Partition: partition})
	}
	return msgs, nil
}

// Restore settings: how long a restore waits for a record it was promised,
// how much one fetch may bring, and how often progress is reported.
const (
	restoreStall       = 15 * time.Second
	restoreMaxBytes    = 4 << 20
	restoreReportEvery = 4096 // records
)

// restoreResult summarises a restore.
type restoreResult struct {
	records, snapshots, corrupt int
}

// latestRecord is the last value of a key in the changelog, the record's
// Kafka timestamp (ms: when the snapshot was written) and the snapshot's
// LastSeen from its header (lastSeenOK false: no usable header).
type latestRecord struct {
	value      []byte // nil: a tombstone
	ts         int64
	touched    int64 // the snapshot's Touched: its header, else ts
	lastSeen   int64
	lastSeenOK bool
}

// HeaderLastSeen is the changelog header that carries a snapshot's
// LastSeen (ms since the epoch, in decimal): with it a restore keeps the
// snapshot encoded and decodes it on the visitor's next event
// (reducer.RestoreEncoded), instead of decoding every snapshot before the
// partition is ready. Records without it (written before the header
// existed) are decoded during the restore.
const HeaderLastSeen = "sessiond.last_seen"

// HeaderTouched is the changelog header that carries a snapshot's
// Touched: the Kafka timestamp of the visitor's last input record (ms, in
// decimal), which the sweep's broker-time grace is counted from
// (streamtime.go). Without it (records written before the header
// existed, or inputs without timestamps) the record's own timestamp
// stands in.
const HeaderTouched = "sessiond.touched"

// snapshotHeaders returns the headers of s's changelog record.
func snapshotHeaders(s *reducer.Snapshot) []kafka.Header {
	hs := make([]kafka.Header, 1, 2)
	hs[0] = kafka.Header{Key: HeaderLastSeen, Value: strconv.AppendInt(nil, s.LastSeen, 10)}
	if s.Touched > 0 {
		hs = append(hs, kafka.Header{Key: HeaderTouched, Value: strconv.AppendInt(nil, s.Touched, 10)})
	}
	return hs
}

// lastSeenOf returns the LastSeen a changelog record's header carries.
func lastSeenOf(headers []kafka.Header) (int64, bool) { return msHeader(headers, HeaderLastSeen) }

// msHeader returns the value of header key as milliseconds.
func msHeader(headers []kafka.Header, key string) (int64, bool) {
	for _, h := range headers {
		if h.Key == key {
			ms, err := strconv.ParseInt(string(h.Value), 10, 64)
			return ms, err == nil
		}
	}
	return 0, false
}

// snapshotSink is where a restore installs what it read: decoded
// snapshots (their Touched set), and snapshots kept encoded with their
// LastSeen and Touched, each with its record's timestamp.
type snapshotSink interface {
	decoded(id string, s *reducer.Snapshot, ts int64)
	encoded(id string, lastSeen, touched int64, data []byte, ts int64) bool
}

// restore reads partition's changelog from its start to the high watermark
// found when it starts and keeps the last value of each key. Values with a
// LastSeen header go to sink encoded, to be decoded on first use; the
// others (and all of them if sink refuses encoded ones) are decoded in
// parallel and go to sink decoded. progress is told how many records
// remain every few thousand records.
func (c *changelog) restore(ctx context.Context, partition int, sink snapshotSink, progress func(read, left int64)) (restoreResult, error) {
	var res restoreResult
	offs, err := kclient.OffsetsAt(ctx, c.client, kafka.IsolationLevel(c.isolation), c.topic, partition)
	if err != nil {
		return res, err
	}
	rng := offs[partition]
	if rng.End <= rng.First {
		return res, nil
	}
	latest, err := c.read(ctx, partition, rng, progress)
	if err != nil {
		return res, err
	}
	res.records = int(rng.End - rng.First)
	for id, rec := range latest {
		if rec.value != nil && rec.lastSeenOK && sink.encoded(id, rec.lastSeen, rec.touched, rec.value, rec.ts) {
			res.snapshots++
			delete(latest, id)
		}
	}
	snaps, corrupt := c.decodeAll(latest)
	res.corrupt = corrupt
	for id, s := range snaps {
		s.Touched = latest[id].touched
		sink.decoded(id, s, latest[id].ts)
		res.snapshots++
	}
	return res, nil
}

// read returns the last value of every key in [rng.First, rng.End); a nil
// value is a tombstone. It reads with the pipeline's own fetcher over the
// connection's transport (large fetches, records taken straight from the
// response), which restores faster than a kafka-go Reader, whose
// per-message channel and goroutine cost a third of the restore's CPU.
func (c *changelog) read(ctx context.Context, partition int, rng kclient.Range, progress func(read, left int64)) (map[string]latestRecord, error) {
	f := kclient.NewDirectPartitionFetcher(c.conn, c.topic, partition, rng.First, c.isolation)
	f.MaxBytes = restoreMaxBytes
	latest := map[string]latestRecord{}
	yield := func(msg kafka.Message, _ int64) bool {
		rec := latestRecord{ts: msg.Time.UnixMilli()}
		if len(msg.Value) > 0 {
			rec.value = msg.Value
			rec.lastSeen, rec.lastSeenOK = lastSeenOf(msg.Headers)
			rec.touched = rec.ts
			if t, ok := msHeader(msg.Headers, HeaderTouched); ok {
				rec.touched = t
			}
		}
		latest[string(msg.Key)] = rec
		if read := msg.Offset + 1 - rng.First; read%restoreReportEvery == 0 {
			progress(read, rng.End-msg.Offset-1)
		}
		return msg.Offset+1 < rng.End
	}
	// If the offset stops moving for restoreStall, the restore fails (and
	// is retried, the partition not ready, its log saying why) rather than
	// go on with part of the state: it used to go on, and a fetcher stuck
	// in a compacted gap (fixed in kclient) cost 6.8M of 9.2M snapshots.
	moved := time.Now()
	retry := fetchRetry.NewBackOff(ctx)
	for f.Offset() < rng.End {
		from := f.Offset()
		_, err := f.Fetch(ctx, yield)
		if err != nil && !errors.Is(err, kclient.ErrStopped) {
			if ctx.Err() != nil {
				return nil, fmt.Errorf("read changelog %s/%d: %w", c.topic, partition, ctx.Err())
			}
			// ctx is live, so a deadline is one request's timeout (a broker
			// frozen or gone): retried like the rest.
			if !kclient.IsRetryable(err) && !errors.Is(err, context.DeadlineExceeded) {
				return nil, fmt.Errorf("read changelog %s/%d: %w", c.topic, partition, err)
			}
			select { // a broker that moves or restarts: try again
			case <-ctx.Done():
				return nil, fmt.Errorf("read changelog %s/%d: %w", c.topic, partition, ctx.Err())
			case <-time.After(retry.NextBackOff()):
			}
			moved = time.Now() // a stall is answers that move nothing, not a broker away
			continue
		}
		retry.Reset()
		switch {
		case f.Offset() > from:
			moved = time.Now()
		case time.Since(moved) >= restoreStall:
			return nil, fmt.Errorf("read changelog %s/%d: no progress at offset %d for %s, %d records before the end %d: not restoring part of the state",
				c.topic, partition, f.Offset(), restoreStall, rng.End-f.Offset(), rng.End)
		}
		if errors.Is(err, kclient.ErrStopped) {
			break
		}
	}
	progress(rng.End-rng.First, 0)
	return latest, nil
}

// decodeAll decodes the latest values on all cores. Tombstoned keys map to
// no snapshot; undecodable values are counted and dropped (the visitor
// starts afresh, which Nosto reads as "leave as is").
func (c *changelog) decodeAll(latest map[string]latestRecord) (map[string]*reducer.Snapshot, int) {
	type kv struct {
		id string
		v  []byte
	}
	work := make(chan kv, 1024)
	out := make(map[string]*reducer.Snapshot, len(latest))
	var mu sync.Mutex
	corrupt := 0
	var wg sync.WaitGroup
	for w := 0; w < runtime.GOMAXPROCS(0); w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			local := map[string]*reducer.Snapshot{}
			bad := 0
			for e := range work {
				s, err := c.codec.DecodeSnapshot(e.v)
				if err != nil {
					bad++
					continue
				}
				local[e.id] = s
			}
			mu.Lock()
			for k, v := range local {
				out[k] = v
			}
			corrupt += bad
			mu.Unlock()
		}()
	}
	for id, rec := range latest {
		if rec.value != nil {
			work <- kv{id, rec.value}
		}
	}
	close(work)
	wg.Wait()
	return out, corrupt
}
