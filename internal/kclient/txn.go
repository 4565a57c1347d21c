package kclient

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/cenkalti/backoff/v4"
	"github.com/segmentio/kafka-go"
)

// TxnProducer is a transactional producer (Kafka's classic transaction
// protocol, KIP-98, with KIP-447's generation-fenced offset commit): the
// records written through its writers between two Commits, and the input
// offsets handed to Commit, become visible to read_committed readers
// together or not at all.
//
// One transactional id has one live producer: Init (InitProducerId with the
// id) bumps the id's epoch, which fences every earlier producer of the id
// (its next write, AddPartitionsToTxn or EndTxn is refused with
// PRODUCER_FENCED or INVALID_PRODUCER_EPOCH: ErrProducerFenced) and makes
// the coordinator abort the transaction that producer left open, or finish
// the commit it had begun, before Init returns.
//
// A batch that fails (past DeliveryTimeout, or refused) leaves the
// transaction unable to commit — it may or may not hold the batch — so the
// producer refuses further writes with ErrTxnAbortable until Abort. Abort
// ends the open transaction and starts the producer again with a new epoch.
// It is not safe for concurrent Commit/Abort/Init calls; writes may come
// from several goroutines between them.
type TxnProducer struct {
	p      *Producer
	client *kafka.Client
	retry  RetryPolicy
}

// TxnOffsets are the input offsets a transaction commits for a group: the
// next offset to read per topic and partition. Generation and Member are
// the committing member's (KIP-447): the group coordinator refuses the
// commit of a member that is no longer in the generation.
type TxnOffsets struct {
	Group      string
	Generation int
	Member     string
	Offsets    map[string]map[int]int64
}

// ErrProducerFenced: another producer initialised the same transactional
// id (a new owner of the partition); this one can write nothing more.
var ErrProducerFenced = errors.New("transactional producer fenced: another producer took its transactional id")

// ErrTxnAbortable: a write of the open transaction failed, so it cannot
// commit; Abort it.
var ErrTxnAbortable = errors.New("the open transaction must be aborted: one of its writes failed")

// txnRetry is the pause between tries of a coordinator request (a
// coordinator that moves or is loading, the previous transaction still
// completing): 20 ms doubling to 1 s, until the caller's context ends.
var txnRetry = RetryPolicy{Initial: 20 * time.Millisecond, Max: time.Second}

// TxnProducer returns a new transactional producer for id, whose
// transactions the coordinator aborts when open longer than timeout
// (transaction.timeout.ms). It writes nothing until Init.
func (c *Conn) TxnProducer(id string, timeout time.Duration) *TxnProducer {
	p := c.newProducer()
	p.txn = &txnState{id: id, timeout: timeout, added: map[partitionKey]bool{}}
	return &TxnProducer{p: p, client: c.Client(), retry: txnRetry}
}

// ID is the transactional id.
func (t *TxnProducer) ID() string { return t.p.txn.id }

// Writer returns a writer of topic into the producer's transactions.
func (t *TxnProducer) Writer(topic string, balancer kafka.Balancer) *TopicWriter {
	return t.p.Writer(topic, balancer)
}

// Stats returns the counts of the producer's records and requests.
func (t *TxnProducer) Stats() ProducerStats { return t.p.Stats() }

// Init fences every earlier producer of the id and waits until the
// transaction it left open has ended, then takes the new epoch; every
// partition's sequence starts again at 0. Call it with no write in flight.
func (t *TxnProducer) Init(ctx context.Context) error {
	if err := t.p.awaitIdle(ctx); err != nil {
		return fmt.Errorf("init producer id: %w", err)
	}
	var pid, epoch int
	err := t.coordinate(ctx, "init producer id", func() error {
		res, err := t.client.InitProducerID(ctx, &kafka.InitProducerIDRequest{
			TransactionalID: t.p.txn.id, TransactionTimeoutMs: int(t.p.txn.timeout / time.Millisecond),
			ProducerID: -1, ProducerEpoch: -1,
		})
		if err != nil {
			return err
		}
		if res.Error != nil {
			return res.Error
		}
		pid, epoch = res.Producer.ProducerID, res.Producer.ProducerEpoch
		return nil
	})
	if err != nil {
		return err
	}
	p := t.p
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, q := range p.parts {
		q.seq = sequence{}
	}
	p.ident.mu.Lock()
	p.ident.have, p.ident.id, p.ident.epoch = true, int64(pid), int16(epoch)
	p.ident.mu.Unlock()
	p.txn.restart()
	return nil
}

// Commit commits the open transaction: the records written since the last
// Commit or Abort (every write must have returned) and, if offsets has
// any, the group's input offsets. With nothing written and no offsets it
// does nothing. An error leaves the transaction to Abort; a Commit whose
// EndTxn was not answered is tried again, so a commit the coordinator had
// already taken is not reported as failed.
func (t *TxnProducer) Commit(ctx context.Context, offsets *TxnOffsets) error {
	x := t.p.txn
	if err := x.usable(); err != nil {
		return err
	}
	if err := t.p.idle(); err != nil {
		return err
	}
	if offsets != nil && len(offsets.Offsets) > 0 {
		if err := t.commitOffsets(ctx, offsets); err != nil {
			return x.failed(err)
		}
	}
	if !x.isOpen() {
		return nil
	}
	if err := t.endTxn(ctx, true); err != nil {
		return x.failed(err)
	}
	x.reset()
	return nil
}

// Abort ends the open transaction without committing it (the coordinator
// writes abort markers: read_committed readers skip its records). The
// producer writes nothing more until the next Init, which takes a new
// epoch. A fenced producer returns ErrProducerFenced and stays fenced. If
// the coordinator cannot be reached, the next Init (this producer's or the
// partition's next owner's) aborts the transaction instead.
func (t *TxnProducer) Abort(ctx context.Context) error {
	x := t.p.txn
	if x.isFenced() {
		return ErrProducerFenced
	}
	x.mustAbort(errors.New("aborted"))
	if !x.isOpen() {
		return nil
	}
	err := t.endTxn(ctx, false)
	if err == nil {
		x.clearAdded()
	}
	return err
}

// commitOffsets adds the group to the transaction and commits its offsets
// in it.
func (t *TxnProducer) commitOffsets(ctx context.Context, o *TxnOffsets) error {
	id, epoch := t.p.ident.current()
	if !t.p.txn.hasGroup(o.Group) {
		err := t.coordinate(ctx, "add offsets to txn", func() error {
			res, err := t.client.AddOffsetsToTxn(ctx, &kafka.AddOffsetsToTxnRequest{
				TransactionalID: t.p.txn.id, ProducerID: int(id), ProducerEpoch: int(epoch), GroupID: o.Group,
			})
			if err != nil {
				return err
			}
			return res.Error
		})
		if err != nil {
			return err
		}
		t.p.txn.addGroup(o.Group)
	}
	topics := map[string][]kafka.TxnOffsetCommit{}
	for topic, parts := range o.Offsets {
		for part, off := range parts {
			topics[topic] = append(topics[topic], kafka.TxnOffsetCommit{Partition: part, Offset: off})
		}
	}
	return t.coordinate(ctx, "txn offset commit", func() error {
		res, err := t.client.TxnOffsetCommit(ctx, &kafka.TxnOffsetCommitRequest{
			TransactionalID: t.p.txn.id, GroupID: o.Group, ProducerID: int(id), ProducerEpoch: int(epoch),
			GenerationID: o.Generation, MemberID: o.Member, Topics: topics,
		})
		if err != nil {
			return err
		}
		for _, parts := range res.Topics {
			for _, p := range parts {
				if p.Error != nil {
					return p.Error
				}
			}
		}
		return nil
	})
}

// endTxn sends EndTxn until the coordinator answers it.
func (t *TxnProducer) endTxn(ctx context.Context, commit bool) error {
	id, epoch := t.p.ident.current()
	return t.coordinate(ctx, "end txn", func() error {
		res, err := t.client.EndTxn(ctx, &kafka.EndTxnRequest{
			TransactionalID: t.p.txn.id, ProducerID: int(id), ProducerEpoch: int(epoch), Committed: commit,
		})
		if err != nil {
			return err
		}
		return res.Error
	})
}

// coordinate runs op, one request to the transaction or group
// coordinator, until it succeeds, fails for good or ctx ends. Retried: the
// coordinator moving or loading, the previous transaction still completing
// (CONCURRENT_TRANSACTIONS), the network. A fencing error comes back as
// ErrProducerFenced (and fences the producer); a group's refusal of the
// member (IsFenced) as it is.
func (t *TxnProducer) coordinate(ctx context.Context, what string, op func() error) error {
	var last error
	err := backoff.Retry(func() error {
		err := op()
		switch {
		case err == nil:
			return nil
		case txnFenced(err):
			t.p.txn.fence()
			return backoff.Permanent(fmt.Errorf("%s: %w (%w)", what, ErrProducerFenced, err))
		case IsFenced(err) || !txnRetriable(err):
			return backoff.Permanent(fmt.Errorf("%s: %w", what, err))
		}
		last = err
		return err
	}, t.retry.backOff(ctx))
	if err != nil && ctx.Err() != nil && last != nil {
		return fmt.Errorf("%s: %w (last error: %w)", what, ctx.Err(), last)
	}
	return err
}

// txnFenced reports an answer that means another producer holds the
// transactional id now.
func txnFenced(err error) bool {
	return errors.Is(err, kafka.ProducerFenced) || errors.Is(err, kafka.InvalidProducerEpoch) ||
		errors.Is(err, kafka.TransactionCoordinatorFenced) || errors.Is(err, kafka.InvalidProducerIDMapping)
}

// txnRetriable reports a coordinator answer that a later try may not get.
// BROKER_NOT_AVAILABLE is kafka-go's own, for a coordinator its cached
// metadata does not know yet (just after a broker restart).
func txnRetriable(err error) bool {
	return errors.Is(err, kafka.ConcurrentTransactions) || errors.Is(err, kafka.GroupLoadInProgress) ||
		errors.Is(err, kafka.GroupCoordinatorNotAvailable) || errors.Is(err, kafka.NotCoordinatorForGroup) ||
		errors.Is(err, kafka.RequestTimedOut) || errors.Is(err, kafka.NetworkException) ||
		errors.Is(err, kafka.RebalanceInProgress) || errors.Is(err, kafka.BrokerNotAvailable) ||
		staleMetadata(err) || isTemporary(err)
}

// isTemporary reports a kafka-go error that says it is temporary.
func isTemporary(err error) bool {
	var kerr kafka.Error
	return errors.As(err, &kerr) && kerr.Temporary()
}

// txnState is a transactional Producer's side of its transaction: the
// partitions and groups added to the open one, and whether it must abort
// or the producer was fenced. Its methods work on a nil *txnState (a
// producer that is not transactional) and then do nothing.
type txnState struct {
	id      string
	timeout time.Duration

	mu     sync.Mutex
	added  map[partitionKey]bool
	groups map[string]bool
	abort  error // the open transaction cannot commit
	fenced error
}

// usable returns why no write may be made now (nil: it may).
func (x *txnState) usable() error {
	if x == nil {
		return nil
	}
	x.mu.Lock()
	defer x.mu.Unlock()
	switch {
	case x.fenced != nil:
		return fmt.Errorf("%w (%w)", ErrProducerFenced, x.fenced)
	case x.abort != nil:
		return fmt.Errorf("%w: %w", ErrTxnAbortable, x.abort)
	}
	return nil
}

// mustAbort marks the open transaction as unable to commit.
func (x *txnState) mustAbort(err error) {
	x.mu.Lock()
	defer x.mu.Unlock()
	if x.abort == nil {
		x.abort = err
	}
}

// failed marks the transaction for abort after err and returns err.
func (x *txnState) failed(err error) error {
	x.mustAbort(err)
	return err
}

func (x *txnState) fence() {
	x.mu.Lock()
	defer x.mu.Unlock()
	if x.fenced == nil {
		x.fenced = ErrProducerFenced
	}
}

func (x *txnState) isFenced() bool {
	x.mu.Lock()
	defer x.mu.Unlock()
	return x.fenced != nil
}

// isOpen reports whether the transaction holds a partition or a group.
func (x *txnState) isOpen() bool {
	x.mu.Lock()
	defer x.mu.Unlock()
	return len(x.added) > 0 || len(x.groups) > 0
}

func (x *txnState) hasGroup(g string) bool {
	x.mu.Lock()
	defer x.mu.Unlock()
	return x.groups[g]
}

func (x *txnState) addGroup(g string) {
	x.mu.Lock()
	defer x.mu.Unlock()
	if x.groups == nil {
		x.groups = map[string]bool{}
	}
	x.groups[g] = true
}

// clearAdded forgets the partitions and groups of an ended transaction.
func (x *txnState) clearAdded() {
	x.mu.Lock()
	defer x.mu.Unlock()
	clear(x.added)
	clear(x.groups)
}

// restart is reset after Init: the new epoch is not fenced either.
func (x *txnState) restart() {
	x.reset()
	x.mu.Lock()
	defer x.mu.Unlock()
	x.fenced = nil
}

// reset starts the next transaction: nothing added, nothing to abort.
func (x *txnState) reset() {
	x.mu.Lock()
	defer x.mu.Unlock()
	clear(x.added)
	clear(x.groups)
	x.abort = nil
}

// initialised is the transactional producer's idempotence.ensure: its id
// comes from Init only.
func (x *txnState) initialised(id *idempotence) error {
	id.mu.Lock()
	defer id.mu.Unlock()
	if !id.have {
		return errors.New("transactional producer not initialised (Init)")
	}
	return nil
}

// addPartitions adds to the open transaction the partitions among keys it
// does not hold yet (AddPartitionsToTxn), before their first batch.
func (x *txnState) addPartitions(ctx context.Context, p *Producer, keys []partitionKey) error {
	if x == nil {
		return nil
	}
	if err := x.usable(); err != nil {
		return err
	}
	topics := map[string][]kafka.AddPartitionToTxn{}
	var fresh []partitionKey
	x.mu.Lock()
	for _, k := range keys {
		if !x.added[k] {
			fresh = append(fresh, k)
			topics[k.topic] = append(topics[k.topic], kafka.AddPartitionToTxn{Partition: int(k.partition)})
		}
	}
	x.mu.Unlock()
	if len(fresh) == 0 {
		return nil
	}
	id, epoch := p.ident.current()
	t := &TxnProducer{p: p, client: &kafka.Client{Addr: p.addr, Transport: p.rt, Timeout: p.timeout}, retry: txnRetry}
	err := t.coordinate(ctx, "add partitions to txn", func() error {
		res, err := t.client.AddPartitionsToTxn(ctx, &kafka.AddPartitionsToTxnRequest{
			TransactionalID: x.id, ProducerID: int(id), ProducerEpoch: int(epoch), Topics: topics,
		})
		if err != nil {
			return err
		}
		for _, parts := range res.Topics {
			for _, part := range parts {
				if part.Error != nil {
					return part.Error
				}
			}
		}
		return nil
	})
	if err != nil {
		if !errors.Is(err, ErrProducerFenced) && ctx.Err() == nil {
			x.mustAbort(err)
		}
		return err
	}
	x.mu.Lock()
	for _, k := range fresh {
		x.added[k] = true
	}
	x.mu.Unlock()
	return nil
}

// settle is the transactional side of Producer.settle for one partition's
// outcome (the caller holds p.mu); true: it is settled here. A broker that
// lost the producer's sequence, or refuses the epoch, cannot be answered
// with a local epoch bump as an idempotent producer's can: the batch fails
// and the transaction must abort (Abort takes a new epoch from the
// coordinator).
//
// A batch of an earlier epoch (sent before the last Init) only fails: its
// refusal says nothing about the current epoch.
func (x *txnState) settle(q *partitionQueue, class produceClass, err error, current sequence) bool {
	if class == produceOK || class == produceTransient {
		return false
	}
	if b := q.batch; b == nil || b.seq.id == current.id && b.seq.epoch == current.epoch {
		if txnFenced(err) {
			x.fence()
		} else {
			x.mustAbort(err)
		}
	}
	q.fail(err)
	return true
}
