package consumer

import (
	"context"
	"log/slog"
	"time"

	"github.com/cenkalti/backoff/v4"
	"github.com/segmentio/kafka-go"
	"github.com/sessiond/sessiond/internal/kclient"
	"github.com/sessiond/sessiond/internal/ratelog"
	"github.com/sessiond/sessiond/reducer"
)

// taskDeps is everything a task uses, handed over when it is made. The
// Processor (or Replay) builds it; a task never reaches back into them.
type taskDeps struct {
	partition int
	topics    [numKinds]string // input topics, by reducer.Kind
	conn      *kclient.Conn
	client    *kafka.Client // offset requests
	isolation kclient.Isolation
	decoder   Decoder
	state     partitionState // where the reducer comes from and its state goes
	outputs   *outputs       // sinks and dead letters
	emit      func(*reducer.Update) bool
	counts    *runCounts
	status    *Status
	metrics   *partitionMetrics
	retry     kclient.RetryPolicy
	txn       *txnTask     // exactly once: the task's transactions (nil: at least once)
	group     string       // the consumer group (exactly once reads its offsets)
	bounded   bool         // a batch job (replay): give up on errors instead of stalling
	log       *slog.Logger // with the partition

	maxIdle, maxBatchAge, drainTimeout time.Duration
	maxSkew                            time.Duration // the merge's ahead rule (merger.aheadBy)
	maxBatch                           int
}

// emitAll is the pipeline's emit: every update goes out.
func emitAll(*reducer.Update) bool { return true }

// task owns input partition number `partition` of the three input topics
// for one generation: it loads the partition's state, merges its sources
// in event-time order, reduces, and flushes batches, handing each to the
// state. Everything it starts (sources, the state's writes) it stops and
// waits for before run returns.
type task struct {
	taskDeps
	red     *reducer.Reducer
	clock   *streamClock // housekeeping time
	merger  *merger
	sources *sourceSet
	batch   *batch

	rejectLog     *ratelog.Limiter // the info log of rejected records
	catchUpLogged time.Time        // last catch-up progress log
}

func newTask(d taskDeps) *task {
	return &task{taskDeps: d, batch: newBatch(), rejectLog: ratelog.New(rejectLogEvery)}
}

// run is the body of the task's goroutine in the generation. It returns
// only when ctx ends (in kafka-go a function that returns ends the
// generation for the whole group), after draining: the batch in flight is
// flushed and its offsets handed to the committer, within drainTimeout.
//
// With exactly once, the task first fences the partition's earlier owners
// and reads the committed offsets itself (starts are then not used); run
// reports true when its transaction aborted and the task must start again
// from the committed state.
func (t *task) run(ctx context.Context, starts map[string]int64) (again bool) {
	defer t.metrics.release()
	wctx, cancel := drainContext(ctx, t.drainTimeout)
	defer cancel()
	if t.txn != nil {
		if err := t.retryOp(ctx, "init transactions", func() error { return t.initTxn(ctx, &starts) }); err != nil {
			return false
		}
	}
	if err := t.retryOp(ctx, "restore", func() error { return t.load(ctx) }); err != nil {
		return false
	}
	if err := t.retryOp(ctx, "start", func() error { return t.start(ctx, starts) }); err != nil {
		return false
	}
	defer t.sources.stop()
	t.status.restored(t.partition)
	t.state.open(wctx)
	err := t.finish(wctx, t.loop(ctx, wctx))
	if err != nil {
		t.log.Warn("final flush incomplete; the partition replays from the last commit")
	}
	t.state.drain(wctx, err == nil)
	if t.txn != nil && err != nil && isTxnFailure(err) {
		return t.txn.abort(wctx, err)
	}
	return false
}

// initTxn fences the partition's earlier owners and then reads the
// committed offsets into starts.
func (t *task) initTxn(ctx context.Context, starts *map[string]int64) error {
	if err := t.txn.init(ctx); err != nil {
		return err
	}
	offs, err := committedOffsets(ctx, t.client, t.group, t.topics, t.partition)
	if err != nil {
		return err
	}
	*starts = offs
	return nil
}

// load takes the partition's reducer and stream clock from the state.
func (t *task) load(ctx context.Context) error {
	red, clock, err := t.state.load(ctx)
	if err != nil {
		return err
	}
	t.red, t.clock = red, clock
	return nil
}

// finish flushes the batch in flight and hands the staged batches off,
// after loop returned err (nil: clean).
func (t *task) finish(wctx context.Context, err error) error {
	if err == nil && !t.batch.empty() {
		err = t.flushed(wctx)
	}
	if _, staged := t.state.due(); err == nil && staged {
		err = t.handedOff(wctx)
	}
	return err
}

// retryOp runs op until it succeeds or ctx ends. An error that retrying
// cannot cure (kclient.IsPermanent: a record the broker will never take, refused
// credentials) is retried all the same — dropping the batch would lose
// updates — but logged as an error, so that the stall is seen. A bounded
// task (replay) instead returns such an error at once, and others once its
// policy's MaxElapsed has passed: a batch job must end with the error.
func (t *task) retryOp(ctx context.Context, what string, op func() error) error {
	return t.retry.Retry(ctx, func() error { return t.classify(op()) }, func(err error, wait time.Duration) {
		if _, ok := err.(stalled); ok {
			t.log.Error(what+" failed and cannot succeed until the cause is fixed; the partition waits", "error", err, "wait", wait)
			return
		}
		t.log.Warn(what+" failed, retrying", "error", err, "wait", wait)
	})
}

// classify makes backoff stop on a permanent error in a bounded task (it
// then returns err itself), and retry it in an unbounded one.
func (t *task) classify(err error) error {
	if err != nil && t.txn != nil && isTxnFailure(err) {
		return backoff.Permanent(err) // the transaction aborts: retrying cannot cure it
	}
	if err == nil || !kclient.IsPermanent(err) {
		return err
	}
	if t.bounded {
		return backoff.Permanent(err)
	}
	return stalled{err}
}

// stalled is a permanent error retried all the same. It does not unwrap:
// backoff would find a backoff.Permanent inside and stop.
type stalled struct{ err error }

func (s stalled) Error() string { return s.err.Error() }

// start resolves the starting offsets and starts one source per input.
func (t *task) start(ctx context.Context, starts map[string]int64) error {
	var offsets, ends [numKinds]int64
	for k, topic := range t.topics {
		offs, err := kclient.OffsetsAt(ctx, t.client, kafka.IsolationLevel(t.isolation), topic, t.partition)
		if err != nil {
			return err
		}
		rng := offs[t.partition]
		off, ok := starts[topic]
		if !ok || off < rng.First {
			off = rng.First // never committed, or deleted by retention
		}
		offsets[k], ends[k] = min(off, rng.End), rng.End
	}
	srcs := startSources(ctx, t.conn, t.topics, t.partition, offsets, nil, t.isolation, t.decoder, t.status.Touch, t.log)
	t.sources = srcs
	lanes := make([]*lane, numKinds)
	for k, src := range srcs.list {
		lanes[k] = newLane(src.ch, &src.busy, offsets[k], ends[k])
	}
	t.merger = newMerger(lanes, t.maxIdle, t.maxSkew)
	return nil
}

// loop processes records until ctx ends, flushing full, old or idle batches
// with wctx, so that a flush under way when ctx ends completes. It returns
// the error of a flush that could not complete (wctx ended, or a bounded
// task gave up): the batch is then left to be replayed. A batch being
// flushed is never added to.
func (t *task) loop(ctx, wctx context.Context) error {
	for ctx.Err() == nil {
		rec, ok := t.merger.next(ctx, false)
		if !ok {
			if !t.batch.empty() {
				if err := t.flushed(wctx); err != nil {
					return err
				}
				continue
			}
			if at, staged := t.state.due(); staged { // idle: hand the interval off when it ends
				if !time.Now().Before(at) {
					if err := t.handedOff(wctx); err != nil {
						return err
					}
					continue
				}
				dctx, cancel := context.WithDeadline(ctx, at)
				rec, ok = t.merger.next(dctx, true)
				cancel()
				if !ok {
					continue
				}
			} else if rec, ok = t.merger.next(ctx, true); !ok {
				return nil
			}
		}
		t.process(rec)
		if t.batch.events >= t.maxBatch || time.Since(t.batch.started) >= t.maxBatchAge {
			if err := t.flushed(wctx); err != nil {
				return err
			}
		}
	}
	return nil
}

// process applies one record to the batch.
func (t *task) process(rec record) {
	b := t.batch
	if b.flushing() {
		panic("consumer: record added to a batch that is being flushed")
	}
	if b.events == 0 {
		b.started = time.Now()
	}
	b.events++
	b.next[rec.src] = rec.msg.Offset + 1
	if rec.err != nil {
		t.reject(rec, rec.err)
		return
	}
	ev := rec.ev
	res, skew, err := t.clock.apply(t.red, ev, rec.msg.Time.UnixMilli())
	if err != nil {
		t.reject(rec, err)
		return
	}
	b.dirty[ev.VisitorID] = struct{}{}
	b.skewed[skew]++
	switch {
	case res.Late:
		b.outcomes[rec.src][outcomeLate]++
	case res.Duplicate:
		b.outcomes[rec.src][outcomeDuplicate]++
	default:
		b.outcomes[rec.src][outcomeApplied]++
	}
	if res.Expired {
		t.metrics.shared.Expired.Inc()
	}
	if res.Update != nil && t.emit(res.Update) {
		res.Update.Source = reducer.Source{Topic: rec.msg.Topic, Partition: rec.msg.Partition, Offset: rec.msg.Offset, Time: rec.msg.Time}
		b.updates = append(b.updates, res.Update)
		b.sentAt = append(b.sentAt, rec.msg.Time)
	}
}

func (t *task) reject(rec record, err error) {
	t.batch.dead = append(t.batch.dead, deadLetter(rec.msg, err))
	t.batch.outcomes[rec.src][outcomeRejected]++
	t.metrics.shared.DeadLetters.WithLabelValues(rec.msg.Topic, reason(err)).Inc()
	t.status.noteRejection(Rejection{At: time.Now(), Topic: rec.msg.Topic, Partition: rec.msg.Partition,
		Offset: rec.msg.Offset, Reason: reason(err), Error: err.Error(), Hint: hint(err, rec.msg.Value)})
	t.logRejected(rec, err)
}

// rejectLogEvery rate-limits the info log of rejected records per task.
const rejectLogEvery = time.Second

// logRejected logs a rejected record at info, at most once per
// rejectLogEvery, counting the ones it left out. Never a value: the error
// texts name fields and rules, the hint only the first byte's kind.
func (t *task) logRejected(rec record, err error) {
	held, ok := t.rejectLog.Allow()
	if !ok {
		return
	}
	t.log.Info("dead-lettered", "topic", rec.msg.Topic, "offset", rec.msg.Offset, "reason", reason(err),
		"error", err, "hint", hint(err, rec.msg.Value), "not_logged_since_last", held)
}
