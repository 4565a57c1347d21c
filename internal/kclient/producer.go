package kclient

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cenkalti/backoff/v4"
	"github.com/segmentio/kafka-go"
	metadataAPI "github.com/segmentio/kafka-go/protocol/metadata"
)

// Producer sends the records of every writer that shares it in as few
// Produce requests as it can, and, like every Java producer since Kafka 3.0,
// idempotently: no retry of it ever writes a record twice or out of order.
//
// Batching: each partition has a queue. A leader gets one request at a
// time, carrying a batch for each of its partitions that has records
// waiting; while it is in flight, what writers hand the producer for those
// partitions waits for the next request (natural batching: no linger at low
// rates, larger requests as the rate grows). A leader that is slow or gone
// holds back its own partitions only: the others' requests go on.
//
// Idempotence (idempotence.go): a producer id from InitProducerId, and per
// partition an epoch and the sequence number of the next record, written
// into every batch (recordbatch.go). A batch whose request failed in a way
// that may be transient (a timeout, a lost connection, a leader that moved,
// too few in-sync replicas) is sent again as it was, same sequence, after
// a backoff and, where the error says the metadata is stale, a metadata
// refresh: if its first try was written after all, the broker answers
// DUPLICATE_SEQUENCE_NUMBER or the original offset, and nothing is written
// twice. Only one batch per partition is in flight, so a retry can never
// overtake or fall behind another. OUT_OF_ORDER_SEQUENCE_NUMBER and
// UNKNOWN_PRODUCER_ID (the broker lost the producer's state) bump the
// partition's epoch and send the batch again from sequence 0, as the Java
// client does; INVALID_PRODUCER_EPOCH fetches a new producer id. A batch
// still failing after DeliveryTimeout (2 minutes, Java's
// delivery.timeout.ms), or whose writers have all given up, fails its
// records and bumps the epoch: only then can a later write of the same
// records (by Write's retry) duplicate them. A cluster that refuses
// InitProducerId (no IDEMPOTENT_WRITE permission, a broker older than
// 0.11) gets plain batches instead; Idempotent says which.
//
// A Producer needs no goroutine of its own while idle: the first write that
// finds nothing running starts one, which schedules requests until nothing
// is left. That goroutine and the requests are the Conn's: they run on its
// lifetime, and Conn.Close cancels them and waits. A record that fails is
// reported in its call's kafka.WriteErrors; the call's later records for
// the same partition are then not sent (ErrNotSent), so that Write's retry
// resends them after it, in order. It is safe for concurrent use.
type Producer struct {
	life    *lifetime // its Conn's: the requests' context, and Close's wait
	rt      kafka.RoundTripper
	addr    net.Addr
	refresh func()        // asks for fresh metadata (Conn.RefreshMetadata)
	timeout time.Duration // of one request, and the brokers' ack timeout
	// roundBytes and roundRecords bound one partition's batch:
	// roundPartitionBytes and roundPartitionRecords (tests lower them).
	roundBytes, roundRecords int
	// idempotent: batches carry a producer id and sequence numbers.
	idempotent bool
	// retry is how long a failed batch waits before it is sent again.
	retry RetryPolicy
	// deliveryTimeout bounds how long a batch is retried; metadataWait how
	// long a partition the metadata does not show is waited for.
	deliveryTimeout, metadataWait time.Duration

	mu      sync.Mutex
	parts   map[partitionKey]*partitionQueue
	order   []partitionKey // every partition written, in first-write order
	busy    map[int32]bool // leaders with a request in flight
	running bool           // the scheduler goroutine runs
	wake    chan struct{}  // tells the scheduler something changed
	ident   idempotence
	txn     *txnState       // nil: not transactional (txn.go)
	stall   backoff.BackOff // between dispatches that failed before any request

	writes, requests, records, resent, bumps atomic.Int64 // for Stats
}

// ProducerStats are a Producer's counts since it was made: the writes it
// was handed, the Produce requests it sent for them, the records, the
// batches it sent again after a failure, and the epoch bumps that reset a
// partition's sequence.
type ProducerStats struct{ Writes, Requests, Records, Resent, EpochBumps int64 }

// Stats returns the counts so far.
func (p *Producer) Stats() ProducerStats {
	return ProducerStats{Writes: p.writes.Load(), Requests: p.requests.Load(), Records: p.records.Load(),
		Resent: p.resent.Load(), EpochBumps: p.bumps.Load()}
}

// Limits of one batch: the brokers refuse a record batch larger than the
// topic's max.message.bytes (1 MiB by default), so a partition's batch
// stays below that; what does not fit waits for the next request.
const (
	roundPartitionBytes   = 768 << 10
	roundPartitionRecords = 4096
	recordOverhead        = 70 // bytes per record in a v2 batch, roughly, beyond key, value and headers
	produceTimeout        = 30 * time.Second
	// DeliveryTimeout is how long a batch is retried before its records
	// fail (Java's delivery.timeout.ms).
	DeliveryTimeout = 2 * time.Minute
	// metadataWait is how long a partition missing from the metadata is
	// waited for before its records fail (Java's max.block.ms is 60 s; a
	// write to a partition that does not exist should not hang that long).
	metadataWait = 10 * time.Second
)

// Producer returns the connection's Producer, shared by everything that
// writes through the Conn: one per process, as the Java client has one
// per member.
func (c *Conn) Producer() *Producer {
	c.producerOnce.Do(func() { c.producer = c.newProducer() })
	return c.producer
}

// newProducer returns an idempotent Producer over the connection.
func (c *Conn) newProducer() *Producer {
	return &Producer{life: c.life, rt: c.transport, addr: kafka.TCP(c.brokers...), refresh: c.RefreshMetadata,
		timeout: produceTimeout, roundBytes: roundPartitionBytes, roundRecords: roundPartitionRecords,
		idempotent: true, retry: RetryPolicy{Initial: 50 * time.Millisecond, Max: time.Second},
		deliveryTimeout: DeliveryTimeout, metadataWait: metadataWait,
		parts: map[partitionKey]*partitionQueue{}, busy: map[int32]bool{}, wake: make(chan struct{}, 1)}
}

// identity is the producer id and epoch batches are made with now.
func (p *Producer) identity() sequence {
	id, epoch := p.ident.current()
	return sequence{id: id, epoch: epoch}
}

// awaitIdle waits until no record is waiting or unacknowledged (records
// whose writers gave up are failed as soon as the scheduler sees them;
// a request in flight ends within its timeout), or ctx ends.
func (p *Producer) awaitIdle(ctx context.Context) error {
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for {
		err := p.idle()
		if err == nil {
			return nil
		}
		p.poke()
		select {
		case <-ctx.Done():
			return fmt.Errorf("%w (%w)", ctx.Err(), err)
		case <-tick.C:
		}
	}
}

// idle returns an error if a record is waiting or unacknowledged.
func (p *Producer) idle() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, q := range p.parts {
		if q.batch != nil || len(q.waiting) > 0 || q.sending {
			return fmt.Errorf("kclient: %s/%d has writes in flight", q.key.topic, q.key.partition)
		}
	}
	return nil
}

// BatchWriter returns a writer of topic through the connection's shared
// Producer; balancer picks each message's partition.
func (c *Conn) BatchWriter(topic string, balancer kafka.Balancer) *TopicWriter {
	return c.Producer().Writer(topic, balancer)
}

// produceCall is one WriteMessages call: its records and their outcomes.
type produceCall struct {
	ctx  context.Context
	msgs []kafka.Message
	errs []error // by record
	left int     // records without an outcome yet
	done chan struct{}
	// failed holds the partitions for which a record of the call failed:
	// the call's later records for them are not sent.
	failed map[partitionKey]bool
}

// ErrNotSent is the outcome of a record that was not sent because an
// earlier record of its call for the same partition failed: sending it
// would put it before that record's retry. Write resends both, in order.
var ErrNotSent = errors.New("not sent: an earlier record of its partition failed")

// finish records the outcome of record i; the call is done when every
// record has one. The caller holds p.mu.
func (c *produceCall) finish(i int, err error) {
	c.errs[i] = err
	if err != nil {
		m := &c.msgs[i]
		if c.failed == nil {
			c.failed = map[partitionKey]bool{}
		}
		c.failed[partitionKey{m.Topic, int32(m.Partition)}] = true
	}
	c.left--
	if c.left == 0 {
		close(c.done)
	}
}

// send queues msgs (Topic and Partition set) and waits for their outcome:
// nil, or kafka.WriteErrors with one entry per record. When ctx ends first
// it returns ctx's error; records already in flight may still be written.
// After the Conn's Close it returns ErrClosed.
func (p *Producer) send(ctx context.Context, msgs []kafka.Message) error {
	if len(msgs) == 0 {
		return nil
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	if p.life.isClosed() {
		return ErrClosed
	}
	if err := p.txn.usable(); err != nil {
		return err
	}
	now := time.Now()
	for i := range msgs {
		if msgs[i].Time.IsZero() {
			msgs[i].Time = now
		}
	}
	p.writes.Add(1)
	c := &produceCall{ctx: ctx, msgs: msgs, errs: make([]error, len(msgs)), left: len(msgs), done: make(chan struct{})}
	p.mu.Lock()
	if !p.running {
		if !p.life.goRun(p.schedule) {
			p.mu.Unlock()
			return ErrClosed
		}
		p.running = true
	}
	for i := range msgs {
		q := p.queue(partitionKey{msgs[i].Topic, int32(msgs[i].Partition)})
		q.waiting = append(q.waiting, recordRef{c, i})
	}
	p.mu.Unlock()
	p.poke()
	select {
	case <-c.done:
	case <-ctx.Done():
		return ctx.Err()
	}
	for _, err := range c.errs {
		if err != nil {
			return kafka.WriteErrors(c.errs)
		}
	}
	return nil
}

// poke wakes the scheduler.
func (p *Producer) poke() {
	select {
	case p.wake <- struct{}{}:
	default:
	}
}

// recordRef points at one record of a call.
type recordRef struct {
	call *produceCall
	i    int
}

// partitionQueue is one partition's records waiting, its batch in flight
// or waiting to be sent again, and its idempotence state.
type partitionQueue struct {
	key     partitionKey
	waiting []recordRef
	batch   *pendingBatch // nil: nothing unacknowledged
	sending bool          // batch is in a request now
	seq     sequence      // the next batch's producer id, epoch and sequence
	// missingSince is when the metadata first did not show the partition
	// (zero while it does).
	missingSince time.Time
}

// queue returns k's queue, making it. The caller holds p.mu.
func (p *Producer) queue(k partitionKey) *partitionQueue {
	q := p.parts[k]
	if q == nil {
		q = &partitionQueue{key: k}
		p.parts[k] = q
		p.order = append(p.order, k)
	}
	return q
}

// TopicWriter writes one topic's messages through a shared Producer,
// partitioned by its balancer. Its WriteMessages behaves as kafka-go
// Writer's does for Write: nil, or kafka.WriteErrors by message.
type TopicWriter struct {
	p        *Producer
	topic    string
	balancer kafka.Balancer
}

// Writer returns a writer of topic through p; balancer picks each
// message's partition (PartitionBalancer keeps the one set). With topic
// "", every message names its own.
func (p *Producer) Writer(topic string, balancer kafka.Balancer) *TopicWriter {
	return &TopicWriter{p: p, topic: topic, balancer: balancer}
}

// Topic is the topic written ("" when the messages name theirs).
func (w *TopicWriter) Topic() string { return w.topic }

// WriteMessages partitions msgs and sends them. msgs may be modified.
func (w *TopicWriter) WriteMessages(ctx context.Context, msgs ...kafka.Message) error {
	_, keep := w.balancer.(PartitionBalancer)
	var parts map[string][]int
	for i := range msgs {
		m := &msgs[i]
		if w.topic != "" {
			m.Topic = w.topic
		} else if m.Topic == "" {
			return errors.New("kclient: a message names no topic")
		}
		if keep {
			continue
		}
		list, ok := parts[m.Topic]
		if !ok {
			n, err := w.p.partitions(ctx, m.Topic)
			if err != nil {
				return err
			}
			list = make([]int, n)
			for j := range list {
				list[j] = j
			}
			if parts == nil {
				parts = map[string][]int{}
			}
			parts[m.Topic] = list
		}
		m.Partition = w.balancer.Balance(*m, list...)
	}
	return w.p.send(ctx, msgs)
}

// partitions returns topic's partition count from the transport's cached
// metadata.
func (p *Producer) partitions(ctx context.Context, topic string) (int, error) {
	m, err := p.rt.RoundTrip(ctx, p.addr, &metadataAPI.Request{TopicNames: []string{topic}})
	if err != nil {
		return 0, fmt.Errorf("metadata of %s: %w", topic, err)
	}
	for _, t := range m.(*metadataAPI.Response).Topics {
		if t.Name == topic {
			if t.ErrorCode != 0 {
				return 0, fmt.Errorf("metadata of %s: %w", topic, kafka.Error(t.ErrorCode))
			}
			if len(t.Partitions) == 0 {
				return 0, fmt.Errorf("metadata of %s: %w", topic, kafka.UnknownTopicOrPartition)
			}
			return len(t.Partitions), nil
		}
	}
	return 0, fmt.Errorf("metadata of %s: %w", topic, kafka.UnknownTopicOrPartition)
}

// Close does nothing: the Producer has nothing to release. It is there so
// that a TopicWriter can stand where a kafka.Writer did.
func (w *TopicWriter) Close() error { return nil }
