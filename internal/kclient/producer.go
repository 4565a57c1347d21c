package kclient

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/segmentio/kafka-go"
	"github.com/segmentio/kafka-go/protocol"
	metadataAPI "github.com/segmentio/kafka-go/protocol/metadata"
	produceAPI "github.com/segmentio/kafka-go/protocol/produce"
)

// Producer sends the records of every writer that shares it in as few
// Produce requests as it can: one request per partition leader carries
// every partition's records that were waiting when it left, and while a
// round of requests is in flight, what writers hand it meanwhile waits for
// the next round (natural batching: no linger at low rates, larger
// requests as the rate grows). kafka-go's Writer sends one request per
// partition batch instead; with a member's tasks writing updates to every
// output partition, its changelog partitions and the dead-letter topic,
// that was hundreds of small requests a second per member, each costing
// the broker as much as a large one.
//
// A Producer needs no goroutine of its own while idle: the first write that
// finds no round in flight starts one, which runs rounds until nothing is
// left. That goroutine is the Conn's: its rounds run on the Conn's
// lifetime, and Conn.Close cancels them and waits for it. Records of one WriteMessages call go out in their order; a record
// that fails is reported in the call's kafka.WriteErrors, for Write to
// retry, and the call's later records for the same partition are not sent
// (ErrNotSent), so that the retry resends them after it, in order: a call
// split across rounds is never reordered by a partial failure. It is safe
// for concurrent use.
type Producer struct {
	life    *lifetime // its Conn's: the rounds' context, and Close's wait
	rt      kafka.RoundTripper
	addr    net.Addr
	timeout time.Duration // of one round's requests, and the brokers' ack timeout
	// roundBytes and roundRecords bound a partition's share of one round:
	// roundPartitionBytes and roundPartitionRecords (tests lower them).
	roundBytes, roundRecords int

	mu      sync.Mutex
	queue   []*produceCall
	running bool // a goroutine is running rounds

	writes, requests, records atomic.Int64 // for Stats
}

// ProducerStats are a Producer's counts since it was made: the writes it
// was handed, the Produce requests it sent for them and the records.
type ProducerStats struct{ Writes, Requests, Records int64 }

// Stats returns the counts so far.
func (p *Producer) Stats() ProducerStats {
	return ProducerStats{Writes: p.writes.Load(), Requests: p.requests.Load(), Records: p.records.Load()}
}

// Limits of one round, per partition: the brokers refuse a record batch
// larger than the topic's max.message.bytes (1 MiB by default), so a
// partition's share of a round stays below that; what does not fit waits
// for the next round.
const (
	roundPartitionBytes   = 768 << 10
	roundPartitionRecords = 4096
	recordOverhead        = 70 // bytes per record in a v2 batch, roughly, beyond key, value and headers
	produceTimeout        = 30 * time.Second
)

// Producer returns the connection's Producer, shared by everything that
// writes through the Conn: one per process, as the Java client has one
// per member.
func (c *Conn) Producer() *Producer {
	c.producerOnce.Do(func() {
		c.producer = &Producer{life: c.life, rt: c.transport, addr: kafka.TCP(c.brokers...), timeout: produceTimeout,
			roundBytes: roundPartitionBytes, roundRecords: roundPartitionRecords}
	})
	return c.producer
}

// BatchWriter returns a writer of topic through the connection's shared
// Producer; balancer picks each message's partition.
func (c *Conn) BatchWriter(topic string, balancer kafka.Balancer) *TopicWriter {
	return c.Producer().Writer(topic, balancer)
}

// produceCall is one WriteMessages call: its records, how far rounds have
// taken them, and their outcomes.
type produceCall struct {
	ctx  context.Context
	msgs []kafka.Message
	next int     // records before next are taken into rounds
	errs []error // by record
	left int     // records without an outcome yet
	done chan struct{}
	// failed holds the partitions for which a record of the call failed:
	// the call's later records for them are not sent (see take).
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
		if !p.life.goRun(p.drain) {
			p.mu.Unlock()
			return ErrClosed
		}
		p.running = true
	}
	p.queue = append(p.queue, c)
	p.mu.Unlock()
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

// drain runs rounds until the queue is empty.
func (p *Producer) drain() {
	for {
		r := p.take()
		if r == nil {
			return
		}
		p.round(r)
	}
}

// recordRef points at one record of a call.
type recordRef struct {
	call *produceCall
	i    int
}

// partitionBatch is one partition's records in a round.
type partitionBatch struct {
	msgs  []kafka.Message
	refs  []recordRef
	bytes int
}

// round is what one round sends, by partition, in the order taken.
type round struct {
	batches map[partitionKey]*partitionBatch
	order   []partitionKey
}

// take moves the waiting records into a round, in call order, until a
// partition's share is full; it returns nil, and marks the producer idle,
// when nothing waits.
func (p *Producer) take() *round {
	p.mu.Lock()
	defer p.mu.Unlock()
	r := &round{batches: map[partitionKey]*partitionBatch{}}
	taken := 0
	full := false
	for len(p.queue) > 0 && !full {
		c := p.queue[0]
		err := c.ctx.Err() // its writer gave up: send no more of it
		if p.life.isClosed() {
			err = ErrClosed
		}
		if err != nil {
			for i := c.next; i < len(c.msgs); i++ {
				c.finish(i, err)
			}
			c.next = len(c.msgs)
		}
		for c.next < len(c.msgs) {
			m := &c.msgs[c.next]
			k := partitionKey{m.Topic, int32(m.Partition)}
			if c.failed[k] { // rounds run one at a time: an earlier one failed it
				c.finish(c.next, fmt.Errorf("produce to %s/%d: %w", k.topic, k.partition, ErrNotSent))
				c.next++
				continue
			}
			b := r.batches[k]
			if b == nil {
				b = &partitionBatch{}
				r.batches[k] = b
				r.order = append(r.order, k)
			}
			size := len(m.Key) + len(m.Value) + recordOverhead
			for _, h := range m.Headers {
				size += len(h.Key) + len(h.Value)
			}
			if len(b.msgs) > 0 && (b.bytes+size > p.roundBytes || len(b.msgs) >= p.roundRecords) {
				full = true
				break
			}
			b.msgs = append(b.msgs, *m)
			b.refs = append(b.refs, recordRef{c, c.next})
			b.bytes += size
			c.next++
			taken++
		}
		if c.next == len(c.msgs) {
			p.queue[0] = nil
			p.queue = p.queue[1:]
		}
	}
	if taken == 0 {
		p.running = false
		return nil
	}
	return r
}

// round sends r, one request per partition leader, concurrently, and
// records every record's outcome.
func (p *Producer) round(r *round) {
	ctx, cancel := context.WithTimeout(p.life.ctx, p.timeout)
	defer cancel()
	outcome := make(map[partitionKey]error, len(r.order))
	groups, err := byLeader(ctx, p.rt, p.addr, r.order, func(k partitionKey) partitionKey { return k })
	if err != nil {
		for _, k := range r.order {
			outcome[k] = err
		}
	} else {
		var mu sync.Mutex
		var wg sync.WaitGroup
		for _, keys := range groups {
			wg.Add(1)
			go func() {
				defer wg.Done()
				res := p.produce(ctx, r, keys)
				mu.Lock()
				for k, e := range res {
					outcome[k] = e
				}
				mu.Unlock()
			}()
		}
		wg.Wait()
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, k := range r.order {
		for _, ref := range r.batches[k].refs {
			ref.call.finish(ref.i, p.life.closedErr(outcome[k]))
		}
	}
}

// produce sends one request for the partitions keys (one leader) and
// returns each partition's outcome.
func (p *Producer) produce(ctx context.Context, r *round, keys []partitionKey) map[partitionKey]error {
	req := &produceAPI.Request{Acks: int16(kafka.RequireAll), Timeout: int32(p.timeout / time.Millisecond)}
	topicAt := map[string]int{}
	for _, k := range keys {
		i, ok := topicAt[k.topic]
		if !ok {
			i = len(req.Topics)
			topicAt[k.topic] = i
			req.Topics = append(req.Topics, produceAPI.RequestTopic{Topic: k.topic})
		}
		req.Topics[i].Partitions = append(req.Topics[i].Partitions, produceAPI.RequestPartition{
			Partition: k.partition,
			RecordSet: protocol.RecordSet{Records: &messageRecords{msgs: r.batches[k].msgs}},
		})
	}
	out := make(map[partitionKey]error, len(keys))
	p.requests.Add(1)
	for _, k := range keys {
		p.records.Add(int64(len(r.batches[k].msgs)))
	}
	m, err := p.rt.RoundTrip(ctx, p.addr, req)
	if err != nil {
		for _, k := range keys {
			out[k] = fmt.Errorf("produce: %w", err)
		}
		return out
	}
	answered := map[partitionKey]bool{}
	for _, t := range m.(*produceAPI.Response).Topics {
		for _, part := range t.Partitions {
			k := partitionKey{t.Topic, part.Partition}
			answered[k] = true
			if part.ErrorCode != 0 {
				out[k] = fmt.Errorf("produce to %s/%d: %w", k.topic, k.partition, kafka.Error(part.ErrorCode))
			}
		}
	}
	for _, k := range keys {
		if !answered[k] {
			out[k] = fmt.Errorf("produce to %s/%d: %w", k.topic, k.partition, errNoAnswer)
		}
	}
	return out
}

// errNoAnswer: the response left a partition of the request out.
var errNoAnswer = errors.New("the broker's response does not mention the partition")

// messageRecords reads messages as the records of a batch.
type messageRecords struct {
	msgs       []kafka.Message
	i          int
	rec        kafka.Record
	key, value bytesReader
}

func (r *messageRecords) ReadRecord() (*kafka.Record, error) {
	if r.i >= len(r.msgs) {
		return nil, io.EOF
	}
	m := &r.msgs[r.i]
	r.i++
	r.rec = kafka.Record{Time: m.Time, Headers: m.Headers}
	if m.Key != nil {
		r.key.Reset(m.Key)
		r.rec.Key = &r.key
	}
	if m.Value != nil {
		r.value.Reset(m.Value)
		r.rec.Value = &r.value
	}
	return &r.rec, nil
}

type bytesReader struct{ bytes.Reader }

func (*bytesReader) Close() error { return nil }

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
