package kclient

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"time"

	"github.com/cenkalti/backoff/v4"
	"github.com/segmentio/kafka-go"
	"github.com/segmentio/kafka-go/protocol"
	produceAPI "github.com/segmentio/kafka-go/protocol/produce"
	"github.com/segmentio/kafka-go/protocol/rawproduce"
)

// pendingBatch is a partition's batch from the moment it is made until it
// is acknowledged or fails: on a transient failure it is sent again as it
// is (same records, same sequence).
type pendingBatch struct {
	refs      []recordRef
	msgs      []kafka.Message
	seq       sequence // its producer id, epoch and first sequence
	raw       []byte   // the encoded records field; nil: encode again
	first     time.Time
	notBefore time.Time       // a retry waits until then
	backoff   backoff.BackOff // of its retries
	resets    int             // times its sequence was reset
	lastErr   error
}

// abandoned reports whether every writer of b has given up.
func (b *pendingBatch) abandoned() bool {
	for _, r := range b.refs {
		if r.call.ctx.Err() == nil {
			return false
		}
	}
	return true
}

// schedule runs until nothing is waiting, in flight or to be retried:
// each pass sends one request to every leader that has none in flight and
// has partitions with something to send.
func (p *Producer) schedule() {
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for {
		keys, wait, idle := p.sendable()
		if idle {
			return
		}
		if len(keys) > 0 {
			if again := p.dispatch(keys); again > 0 {
				wait = min(wait, again)
			}
		}
		if !timer.Stop() {
			select {
			case <-timer.C:
			default:
			}
		}
		timer.Reset(wait)
		select {
		case <-p.wake:
		case <-timer.C:
		case <-p.life.ctx.Done():
			p.closeAll()
			return
		}
	}
}

// sendable returns the partitions with something to send now, how long
// until a waiting retry is due, and whether the producer is idle (then it
// marks itself not running). Records whose writers gave up, or that follow
// a failed record of their call, get their outcome here.
func (p *Producer) sendable() (keys []partitionKey, wait time.Duration, idle bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	now := time.Now()
	wait = time.Hour
	active := false
	for _, k := range p.order {
		q := p.parts[k]
		q.dropGone()
		if q.sending {
			active = true
			continue
		}
		switch {
		case q.batch != nil && now.Before(q.batch.notBefore):
			active = true
			wait = min(wait, q.batch.notBefore.Sub(now))
		case q.batch != nil || len(q.waiting) > 0:
			active = true
			keys = append(keys, k)
		}
	}
	if !active {
		p.running = false
		return nil, 0, true
	}
	return keys, wait, false
}

// dropGone finishes the waiting records that will not be sent: their
// writer gave up, or an earlier record of their call for this partition
// failed.
func (q *partitionQueue) dropGone() {
	kept := q.waiting[:0]
	for _, r := range q.waiting {
		switch {
		case r.call.failed[q.key]:
			r.call.finish(r.i, fmt.Errorf("produce to %s/%d: %w", q.key.topic, q.key.partition, ErrNotSent))
		case r.call.ctx.Err() != nil:
			r.call.finish(r.i, r.call.ctx.Err())
		default:
			kept = append(kept, r)
		}
	}
	clear(q.waiting[len(kept):])
	q.waiting = kept
}

// closeAll fails everything waiting with ErrClosed (the Conn closed);
// requests in flight fail on their own.
func (p *Producer) closeAll() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, q := range p.parts {
		for _, r := range q.waiting {
			r.call.finish(r.i, ErrClosed)
		}
		q.waiting = nil
		if q.batch != nil && !q.sending {
			q.fail(ErrClosed)
		}
	}
	p.running = false
}

// dispatch groups keys by leader and starts a request for every leader
// without one in flight. If it could not get that far (no producer id, no
// metadata: records may be waiting with no batch made, so nothing else
// would wake the scheduler), it returns how long to wait before the next
// try; else 0.
func (p *Producer) dispatch(keys []partitionKey) (again time.Duration) {
	ctx, cancel := context.WithTimeout(p.life.ctx, p.timeout)
	defer cancel()
	if err := p.ident.ensure(ctx, p); err != nil {
		p.settle(keys, errorsFor(keys, fmt.Errorf("init producer id: %w", err)))
		return p.stalled()
	}
	if err := p.txn.usable(); err != nil {
		p.failUnsent(keys, err)
		return 0
	}
	if err := p.txn.addPartitions(ctx, p, keys); err != nil {
		p.settle(keys, errorsFor(keys, err))
		if err := p.txn.usable(); err != nil {
			p.failUnsent(keys, err)
			return 0
		}
		return p.stalled()
	}
	groups, leaders, err := byLeaderID(ctx, p.rt, p.addr, keys)
	if err != nil {
		p.settle(keys, errorsFor(keys, err))
		if staleMetadata(err) && p.refresh != nil {
			p.refresh()
		}
		return p.stalled()
	}
	p.unstalled()
	for g, group := range groups {
		leader := leaders[g]
		batches := p.take(leader, group)
		if len(batches) == 0 {
			continue
		}
		if !p.life.goRun(func() { p.request(leader, group, batches) }) {
			p.settle(group, errorsFor(group, ErrClosed))
		}
	}
	return 0
}

// failUnsent fails the records of keys that are not in a request: the
// transaction can no longer commit them (it must abort, or the producer
// was fenced), so they must not wait for a dispatch that will never come;
// their writers get err and abort the transaction.
func (p *Producer) failUnsent(keys []partitionKey, err error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, k := range keys {
		q := p.parts[k]
		for _, r := range q.waiting {
			r.call.finish(r.i, fmt.Errorf("produce to %s/%d: %w", k.topic, k.partition, err))
		}
		clear(q.waiting)
		q.waiting = q.waiting[:0]
		if q.batch != nil && !q.sending {
			q.fail(err)
		}
	}
}

// stalled returns the wait before dispatch's next try after a failure
// that came before any request: the producer's retry backoff, growing
// until a dispatch gets through.
func (p *Producer) stalled() time.Duration {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.stall == nil {
		p.stall = p.retry.backOff(context.Background())
	}
	d := p.stall.NextBackOff()
	if d <= 0 { // backoff.Stop: the policy has no limit here, but never spin
		d = p.retry.Max
	}
	return d
}

// unstalled resets stalled's backoff.
func (p *Producer) unstalled() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.stall = nil
}

// take marks leader busy and the partitions' batches in flight, making a
// batch from the waiting records where there is none; nil if the leader
// already has a request in flight. Unknown leaders (-1) are never busy:
// their requests fail at once.
func (p *Producer) take(leader int32, keys []partitionKey) map[partitionKey]*pendingBatch {
	p.mu.Lock()
	defer p.mu.Unlock()
	if leader >= 0 && p.busy[leader] {
		return nil
	}
	out := map[partitionKey]*pendingBatch{}
	for _, k := range keys {
		q := p.parts[k]
		if q.sending {
			continue
		}
		if q.batch == nil {
			q.batch = p.makeBatch(q)
			if q.batch == nil {
				continue
			}
		}
		q.sending = true
		out[k] = q.batch
	}
	if len(out) > 0 && leader >= 0 {
		p.busy[leader] = true
	}
	return out
}

// makeBatch takes q's waiting records, up to a batch's limits, into a new
// batch with the partition's next sequence. The caller holds p.mu.
func (p *Producer) makeBatch(q *partitionQueue) *pendingBatch {
	q.dropGone()
	if len(q.waiting) == 0 {
		return nil
	}
	b := &pendingBatch{first: time.Now()}
	size := 0
	n := 0
	for _, r := range q.waiting {
		m := &r.call.msgs[r.i]
		s := len(m.Key) + len(m.Value) + recordOverhead
		for _, h := range m.Headers {
			s += len(h.Key) + len(h.Value)
		}
		if n > 0 && (size+s > p.roundBytes || n >= p.roundRecords) {
			break
		}
		b.refs = append(b.refs, r)
		b.msgs = append(b.msgs, *m)
		size += s
		n++
	}
	clear(q.waiting[:n])
	q.waiting = q.waiting[n:]
	if p.idempotent && p.ident.ok() {
		b.seq = q.seq.take(&p.ident, n)
	} else {
		b.seq = sequence{id: -1, epoch: -1, next: -1}
	}
	return b
}

// request sends one Produce request with batches (one leader's) and
// settles each partition's outcome.
func (p *Producer) request(leader int32, keys []partitionKey, batches map[partitionKey]*pendingBatch) {
	ctx, cancel := context.WithTimeout(p.life.ctx, p.timeout)
	defer cancel()
	req := &rawproduce.Request{Acks: int16(kafka.RequireAll), Timeout: int32(p.timeout / time.Millisecond)}
	if p.txn != nil {
		req.TransactionalID = p.txn.id
	}
	topicAt := map[string]int{}
	var sent []partitionKey
	for _, k := range keys {
		b := batches[k]
		if b == nil {
			continue
		}
		if b.raw == nil {
			b.raw = encodeBatch(nil, b.msgs, producerIdentity{id: b.seq.id, epoch: b.seq.epoch, seq: b.seq.next}, p.txn != nil)
		}
		i, ok := topicAt[k.topic]
		if !ok {
			i = len(req.Topics)
			topicAt[k.topic] = i
			req.Topics = append(req.Topics, rawproduce.RequestTopic{Topic: k.topic})
		}
		req.Topics[i].Partitions = append(req.Topics[i].Partitions, rawproduce.RequestPartition{
			Partition: k.partition,
			RecordSet: protocol.RawRecordSet{Reader: bytesReaderOf(b.raw)},
		})
		sent = append(sent, k)
		p.records.Add(int64(len(b.msgs)))
	}
	p.requests.Add(1)
	watched, stop := watchLeader(ctx, p.rt, p.addr, sent, leader, p.refresh)
	out := produceOutcomes(watched, p.rt, p.addr, req, sent)
	stop()
	p.mu.Lock()
	if leader >= 0 {
		delete(p.busy, leader)
	}
	p.mu.Unlock()
	p.settle(sent, out)
	p.poke()
}

// errorsFor gives every key the same error.
func errorsFor(keys []partitionKey, err error) map[partitionKey]error {
	out := make(map[partitionKey]error, len(keys))
	for _, k := range keys {
		out[k] = err
	}
	return out
}

// settle records each partition's outcome: the batch is acknowledged,
// waits to be sent again, is sent again from a reset sequence, or fails.
func (p *Producer) settle(keys []partitionKey, outcome map[partitionKey]error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	refresh := false
	now := time.Now()
	for _, k := range keys {
		q := p.parts[k]
		q.sending = false
		b := q.batch
		if b == nil {
			continue
		}
		err := p.life.closedErr(outcome[k])
		class := classifyProduce(err)
		if p.txn != nil && p.txn.settle(q, class, err, p.identity()) {
			continue
		}
		switch {
		case class == produceOK:
			q.missingSince = time.Time{}
			q.fail(nil)
		case errors.Is(err, ErrClosed):
			q.fail(err)
		case class == producePermanent:
			q.fail(err)
			p.afterFail(q, err)
		case class == produceResequence || class == produceNewID:
			b.resets++
			if b.resets > 5 || b.abandoned() {
				q.fail(err)
				q.seq.bump(&p.ident, &p.bumps)
				break
			}
			if class == produceNewID {
				p.ident.invalidate(q.seq.id)
			}
			q.seq.bump(&p.ident, &p.bumps)
			b.seq = q.seq.take(&p.ident, len(b.msgs))
			b.raw = nil
			b.notBefore = now
			p.resent.Add(1)
		default: // transient
			b.lastErr = err
			if staleMetadata(err) {
				refresh = true
			}
			missing := errors.Is(err, protocol.ErrNoPartition) || errors.Is(err, protocol.ErrNoTopic)
			if missing && q.missingSince.IsZero() {
				q.missingSince = now
			}
			if b.abandoned() || now.Sub(b.first) > p.deliveryTimeout ||
				(missing && now.Sub(q.missingSince) > p.metadataWait) {
				q.fail(err)
				p.afterFail(q, err) // it may have been written: never reuse its sequence
				break
			}
			if b.backoff == nil {
				b.backoff = p.retry.backOff(context.Background())
			}
			b.notBefore = now.Add(b.backoff.NextBackOff())
			p.resent.Add(1)
		}
	}
	if refresh && p.refresh != nil {
		p.refresh()
	}
}

// afterFail keeps a failed batch's sequence from being reused: a new
// epoch for the partition, or, in a transaction, the transaction marked
// for abort (only the coordinator moves a transactional producer's
// epoch). The caller holds p.mu.
func (p *Producer) afterFail(q *partitionQueue, err error) {
	if p.txn != nil {
		if id := p.identity(); q.seq.id == id.id && q.seq.epoch == id.epoch {
			p.txn.mustAbort(err) // not for a batch of an earlier epoch
		}
		return
	}
	q.seq.bump(&p.ident, &p.bumps)
}

// fail gives every record of q's batch the outcome err (nil: written) and
// clears the batch. The caller holds p.mu.
func (q *partitionQueue) fail(err error) {
	b := q.batch
	q.batch = nil
	if b == nil {
		return
	}
	for _, r := range b.refs {
		if err != nil {
			r.call.finish(r.i, fmt.Errorf("produce to %s/%d: %w", q.key.topic, q.key.partition, err))
		} else {
			r.call.finish(r.i, nil)
		}
	}
}

// produceOutcomes sends req and returns each partition's outcome (nil:
// written).
func produceOutcomes(ctx context.Context, rt kafka.RoundTripper, addr net.Addr, req *rawproduce.Request, keys []partitionKey) map[partitionKey]error {
	m, err := rt.RoundTrip(ctx, addr, req)
	if err != nil {
		return errorsFor(keys, fmt.Errorf("produce: %w", movedErr(ctx, err)))
	}
	out := make(map[partitionKey]error, len(keys))
	answered := map[partitionKey]bool{}
	for _, t := range m.(*produceAPI.Response).Topics {
		for _, part := range t.Partitions {
			k := partitionKey{t.Topic, part.Partition}
			answered[k] = true
			if part.ErrorCode != 0 {
				out[k] = kafka.Error(part.ErrorCode)
			}
		}
	}
	for _, k := range keys {
		if !answered[k] {
			out[k] = errNoAnswer
		}
	}
	return out
}

// errNoAnswer: the response left a partition of the request out.
var errNoAnswer = errors.New("the broker's response does not mention the partition")

// bytesReaderOf reads b.
func bytesReaderOf(b []byte) *bytes.Reader { return bytes.NewReader(b) }
