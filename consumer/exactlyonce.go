package consumer

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/segmentio/kafka-go"
	"github.com/sessiond/sessiond/emitter"
	"github.com/sessiond/sessiond/internal/kclient"
)

// Exactly once (Config.ProcessingGuarantee = ExactlyOnce). Each partition
// task has a transactional producer with the id "<group>-task-<n>". The
// updates to the Kafka sink, the dead letters and the changelog records of
// one commit interval, and the task's input offsets (TxnOffsetCommit with
// the generation and member id), commit in one transaction; the next
// interval's writes open the next.
//
// Why one id per partition, not per member: the id outlives its owner. A
// new owner of partition n (after a rebalance, a restart, a scale-out)
// initialises the same id before it reads the committed offsets and
// restores the changelog; that bumps the id's epoch, which fences the old
// owner (a zombie paused past the session timeout can write and commit
// nothing more) and makes the coordinator end the transaction the old owner
// left open. So the offsets and changelog it then reads are the last
// committed ones, with nothing half-done in flight, whatever the number of
// members. The generation-fenced offset commit refuses a member that left
// the generation as a second guard.
//
// A transaction that cannot commit (a write failed past its delivery
// timeout, the commit refused) is aborted, and the task starts again from
// the committed state: a new epoch, the committed offsets, the changelog
// read read_committed. Sinks that cannot take part (Nosto) receive the
// updates outside the transaction, so those may be sent again after an
// abort; their Idempotency-Key is the update_id.

// txnID is partition n's transactional id.
func txnID(group string, n int) string { return fmt.Sprintf("%s-task-%d", group, n) }

// txnTask is a task's side of its transactions.
type txnTask struct {
	tp       *kclient.TxnProducer
	group    string
	gen      *kclient.Generation // the committing member's generation and id
	metrics  *Metrics
	log      *slog.Logger
	openedAt time.Time // first write of the open transaction (zero: none)
}

// init fences the partition's previous owners and waits until the
// transaction they left open has ended.
func (x *txnTask) init(ctx context.Context) error {
	if err := x.tp.Init(ctx); err != nil {
		return fmt.Errorf("init transactions of %s: %w", x.tp.ID(), err)
	}
	x.openedAt = time.Time{}
	return nil
}

// opened notes the first write of a transaction.
func (x *txnTask) opened() {
	if x.openedAt.IsZero() {
		x.openedAt = time.Now()
	}
}

// commit commits the open transaction with the input offsets.
func (x *txnTask) commit(ctx context.Context, offsets map[string]map[int]int64) error {
	o := &kclient.TxnOffsets{Group: x.group, Generation: x.gen.ID, Member: x.gen.MemberID, Offsets: offsets}
	if err := x.tp.Commit(ctx, o); err != nil {
		return fmt.Errorf("%w: %w", errTxnCommit, err)
	}
	x.metrics.Transactions.WithLabelValues("committed").Inc()
	if !x.openedAt.IsZero() {
		x.metrics.TxnSeconds.Observe(time.Since(x.openedAt).Seconds())
	}
	x.openedAt = time.Time{}
	return nil
}

// abort aborts the open transaction; it reports whether the task should
// start again from the committed state. It should not when the producer
// was fenced (the partition has another owner) or the group refused the
// member's commit (its generation is over: the member rejoins, and a new
// task starts in the next generation; starting one now would initialise
// the transactional id again and fence the partition's new owner).
func (x *txnTask) abort(ctx context.Context, why error) bool {
	x.metrics.Transactions.WithLabelValues("aborted").Inc()
	x.openedAt = time.Time{}
	if isFencedTxn(why) {
		x.metrics.ProducerFenced.Inc()
		x.log.Warn("transactional producer fenced: another member owns the partition now; this task stops", "error", why)
		return false
	}
	err := x.tp.Abort(ctx)
	if isFencedTxn(err) {
		x.metrics.ProducerFenced.Inc()
		x.log.Warn("transactional producer fenced while aborting: another member owns the partition now; this task stops", "error", why)
		return false
	}
	if err != nil {
		x.log.Warn("abort failed; the next initialisation of the transactional id aborts the transaction instead", "error", err)
	}
	if kclient.IsFenced(why) {
		x.log.Warn("transaction aborted: the group refused this member's commit (its generation is over); the partition waits for the next generation", "error", why)
		return false
	}
	x.log.Warn("transaction aborted; the partition starts again from its last commit", "error", why)
	return true
}

// isTxnFailure reports an error after which the open transaction cannot
// commit.
func isTxnFailure(err error) bool {
	return errors.Is(err, kclient.ErrTxnAbortable) || errors.Is(err, kclient.ErrProducerFenced) || errors.Is(err, errTxnCommit)
}

// errTxnCommit marks a failed commit (its cause wrapped beside it).
var errTxnCommit = errors.New("transaction not committed")

func isFencedTxn(err error) bool { return errors.Is(err, kclient.ErrProducerFenced) }

// committedOffsets reads the group's committed offsets of partition n of
// topics (after init, so no open transaction can still move them).
func committedOffsets(ctx context.Context, client *kafka.Client, group string, topics [numKinds]string, n int) (map[string]int64, error) {
	req := &kafka.OffsetFetchRequest{GroupID: group, Topics: map[string][]int{}}
	for _, t := range topics {
		req.Topics[t] = []int{n}
	}
	res, err := client.OffsetFetch(ctx, req)
	if err != nil {
		return nil, fmt.Errorf("fetch committed offsets: %w", err)
	}
	if res.Error != nil {
		return nil, fmt.Errorf("fetch committed offsets: %w", res.Error)
	}
	out := map[string]int64{}
	for topic, parts := range res.Topics {
		for _, p := range parts {
			if p.Error != nil {
				return nil, fmt.Errorf("fetch committed offset of %s/%d: %w", topic, p.Partition, p.Error)
			}
			if p.Partition == n && p.CommittedOffset >= 0 {
				out[topic] = p.CommittedOffset
			}
		}
	}
	return out, nil
}

// inTxn returns outputs that write the Kafka sink and the dead letters
// through tp; the other sinks are written as they are.
func (o *outputs) inTxn(tp *kclient.TxnProducer, deadLetterTopic string) *outputs {
	c := *o
	c.sinks = make([]Sink, len(o.sinks))
	for i, s := range o.sinks {
		if ts, ok := s.(emitter.TxnSink); ok {
			c.sinks[i] = ts.InTxn(tp)
		} else {
			c.sinks[i] = s
		}
	}
	c.deadLetters = tp.Writer(deadLetterTopic, &kafka.Murmur2Balancer{})
	return &c
}
