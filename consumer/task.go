package consumer

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"time"

	"github.com/segmentio/kafka-go"
	"github.com/sessiond/sessiond/internal/kafkautil"
	"github.com/sessiond/sessiond/reducer"
)

// drainTimeout bounds the final flush after a task's generation ends.
const drainTimeout = 15 * time.Second

// task owns input partition number `partition` of the three input topics
// for one generation: it restores the partition's snapshots, merges its
// sources in event-time order, reduces, and flushes batches.
type task struct {
	p         *Processor
	partition int
	commits   *committer
	log       *slog.Logger

	red       *reducer.Reducer
	sources   []*source
	merger    *merger
	batch     *batch
	pipe      *statePipe
	watermark int64 // newest occurred_at applied
	swept     int64 // watermark at the last expiry sweep
	label     string
}

func (p *Processor) newTask(partition int, commits *committer) (*task, error) {
	red, err := reducer.New(reducer.Config{SessionTTL: p.cfg.SessionTTL})
	if err != nil {
		return nil, err
	}
	return &task{
		p: p, partition: partition, commits: commits, red: red, batch: newBatch(),
		log:   p.cfg.Logger.With("partition", partition),
		label: strconv.Itoa(partition),
	}, nil
}

// run is the body of the task's goroutine in the generation. It returns
// only when ctx ends: in kafka-go a function that returns ends the
// generation for the whole group.
func (t *task) run(ctx context.Context, starts map[string]int64) {
	defer t.commits.tasks.Done()
	defer t.p.cfg.Metrics.Snapshots.DeleteLabelValues(t.label)
	if err := t.retry(ctx, "restore", func() error { return t.restore(ctx) }); err != nil {
		return
	}
	if err := t.retry(ctx, "start", func() error { return t.start(ctx, starts) }); err != nil {
		return
	}
	t.p.cfg.Status.restored(t.partition)
	t.startStatePipe()
	t.loop(ctx)
	dctx, cancel := context.WithTimeout(context.Background(), drainTimeout)
	defer cancel()
	clean := true
	if !t.batch.empty() {
		if err := t.flush(dctx); err != nil {
			t.log.Warn("final flush incomplete; the batch will be replayed", "error", err)
			clean = false
		}
	}
	if t.pipe.drain(dctx) && clean {
		t.retain(dctx)
	}
}

// retry runs op until it succeeds or ctx ends.
func (t *task) retry(ctx context.Context, what string, op func() error) error {
	return t.p.cfg.Retry.Retry(ctx, op, func(err error, wait time.Duration) {
		t.log.Warn(what+" failed, retrying", "error", err, "wait", wait)
	})
}

func (t *task) restore(ctx context.Context) error {
	if t.reuse(ctx) {
		return nil
	}
	m := t.p.cfg.Metrics
	begin := time.Now()
	t.red, _ = reducer.New(reducer.Config{SessionTTL: t.p.cfg.SessionTTL})
	var last int64
	lastLog := begin
	res, err := t.p.changelog.restore(ctx, t.partition, t.red, func(read, left int64) {
		m.Restored.WithLabelValues(t.label).Add(float64(read - last))
		m.RestoreLeft.WithLabelValues(t.label).Set(float64(left))
		last = read
		if time.Since(lastLog) >= 5*time.Second {
			lastLog = time.Now()
			t.log.Info("restoring", "read", read, "left", left)
		}
	})
	if err != nil {
		return fmt.Errorf("restore partition %d: %w", t.partition, err)
	}
	t.watermark, t.swept = res.watermark, res.watermark
	m.RestoreTime.Observe(time.Since(begin).Seconds())
	m.Snapshots.WithLabelValues(t.label).Set(float64(t.red.Len()))
	t.log.Info("restored", "records", res.records, "snapshots", res.snapshots,
		"corrupt", res.corrupt, "seconds", time.Since(begin).Seconds())
	return nil
}

// start resolves the starting offsets and starts one source per input.
func (t *task) start(ctx context.Context, starts map[string]int64) error {
	cfg := &t.p.cfg
	lanes := make([]*lane, 0, 3)
	t.sources = t.sources[:0]
	for i, topic := range cfg.inputTopics() {
		offs, err := kafkautil.Offsets(ctx, t.p.client, topic, t.partition)
		if err != nil {
			return err
		}
		rng := offs[t.partition]
		off, ok := starts[topic]
		if !ok || off < rng.First {
			off = rng.First // never committed, or deleted by retention
		}
		if off > rng.End {
			off = rng.End
		}
		src := newSource(cfg.Brokers, topic, t.partition, reducer.Kind(i), i, t.log)
		if err := src.start(ctx, off, cfg.Decoder); err != nil {
			return err
		}
		t.sources = append(t.sources, src)
		lanes = append(lanes, &lane{ch: src.ch, next: off, hwm: rng.End})
	}
	t.merger = &merger{lanes: lanes, maxIdle: cfg.MaxIdle, pendingTimeout: 30 * time.Second, now: time.Now}
	return nil
}

// loop processes records until ctx ends, flushing full, old or idle batches.
// A batch being flushed is never added to: a flush that did not finish
// (ctx ended) ends the loop, and run's final flush resumes it.
func (t *task) loop(ctx context.Context) {
	cfg := &t.p.cfg
	for {
		rec, ok := t.merger.next(ctx, false)
		if !ok {
			if !t.batch.empty() {
				if !t.flushed(ctx) {
					return
				}
				continue
			}
			if rec, ok = t.merger.next(ctx, true); !ok {
				return
			}
		}
		t.process(rec)
		if t.batch.events >= cfg.MaxBatch || time.Since(t.batch.started) >= cfg.MaxBatchAge {
			if !t.flushed(ctx) {
				return
			}
		}
	}
}

// flushed flushes the batch, retrying failures that are not the context's
// (an update the sink refuses for good stalls the partition rather than be
// dropped), and reports whether the batch is out.
func (t *task) flushed(ctx context.Context) bool {
	err := t.retry(ctx, "flush", func() error { return t.flush(ctx) })
	return err == nil
}

// process applies one record to the batch.
func (t *task) process(rec record) {
	b, m := t.batch, t.p.cfg.Metrics
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
	res, err := t.red.Apply(rec.ev)
	if err != nil {
		t.reject(rec, err)
		return
	}
	b.dirty[rec.ev.VisitorID] = struct{}{}
	if rec.ev.OccurredAt > t.watermark {
		t.watermark = rec.ev.OccurredAt
	}
	switch {
	case res.Late:
		b.outcomes[rec.src][outcomeLate]++
	case res.Duplicate:
		b.outcomes[rec.src][outcomeDuplicate]++
	default:
		b.outcomes[rec.src][outcomeApplied]++
	}
	if res.Expired {
		m.Expired.Inc()
	}
	if res.Update != nil {
		b.updates = append(b.updates, res.Update)
		b.sentAt = append(b.sentAt, rec.msg.Time)
	}
}

func (t *task) reject(rec record, err error) {
	t.batch.dead = append(t.batch.dead, deadLetter(rec.msg, err))
	t.batch.outcomes[rec.src][outcomeRejected]++
	t.p.cfg.Metrics.DeadLetters.WithLabelValues(rec.msg.Topic, reason(err)).Inc()
	t.log.Debug("dead-lettered", "topic", rec.msg.Topic, "offset", rec.msg.Offset, "error", err)
}

// sweepEvery is the event time between two expiry sweeps.
func (t *task) sweepEvery() int64 {
	e := t.p.cfg.SessionTTL.Milliseconds() / 24
	if e < 1000 {
		e = 1000
	}
	return e
}

// flush writes the batch out: updates and dead letters, acknowledged, then
// the touched snapshots, encoded now and handed to the state pipe, which
// writes them and then releases the offsets to the committer. It returns
// once the sink has the updates and the changelog is queued, or ctx ends.
func (t *task) flush(ctx context.Context) error {
	b, m := t.batch, t.p.cfg.Metrics
	begin := time.Now()
	if err := t.writeOutputs(ctx); err != nil {
		return err
	}
	if !b.changelogDone {
		if b.changelog == nil {
			var gone []string
			if t.watermark-t.swept >= t.sweepEvery() {
				gone = t.red.ExpireBefore(t.watermark)
				t.swept = t.watermark
				for _, id := range gone {
					delete(b.dirty, id)
				}
				m.Expired.Add(float64(len(gone)))
			}
			msgs, err := t.p.changelog.messages(t.red, t.partition, b.dirty, gone)
			if err != nil {
				return err
			}
			b.changelog = msgs
		}
		if !t.pipe.handOff(ctx, stateWrite{msgs: b.changelog, offsets: t.nextOffsets()}) {
			return ctx.Err()
		}
		b.changelogDone = true
	}
	t.countOutcomes()
	m.BatchSeconds.Observe(time.Since(begin).Seconds())
	m.BatchEvents.Observe(float64(b.events))
	m.Snapshots.WithLabelValues(t.label).Set(float64(t.red.Len()))
	t.reportLag()
	b.reset()
	return nil
}

// writeOutputs writes the updates to the sink and the dead letters to
// their topic, concurrently.
func (t *task) writeOutputs(ctx context.Context) error {
	b, m := t.batch, t.p.cfg.Metrics
	deadErr := make(chan error, 1)
	go func() {
		if b.deadDone || len(b.dead) == 0 {
			deadErr <- nil
			return
		}
		deadErr <- t.write(ctx, "dlq", t.p.deadLetters, b.dead)
	}()
	if !b.sinkDone && len(b.updates) > 0 {
		err := t.retry(ctx, "sink write", func() error { return t.p.cfg.Sink.Write(ctx, b.updates) })
		if err != nil {
			<-deadErr
			return fmt.Errorf("sink: %w", err)
		}
		now := time.Now()
		var byType [16]int
		for i, u := range b.updates {
			byType[u.Action.Type&15]++
			if !b.sentAt[i].IsZero() {
				m.EndToEnd.Observe(now.Sub(b.sentAt[i]).Seconds())
			}
		}
		for typ, n := range byType {
			if n > 0 {
				m.Updates.WithLabelValues(reducer.ActionType(typ).String()).Add(float64(n))
			}
		}
	}
	b.sinkDone = true
	if err := <-deadErr; err != nil {
		return fmt.Errorf("dead letters: %w", err)
	}
	b.deadDone = true
	return nil
}

func (t *task) write(ctx context.Context, target string, w *kafka.Writer, msgs []kafka.Message) error {
	return kafkautil.Write(ctx, w, msgs, t.p.cfg.Retry, func(err error, wait time.Duration) {
		t.p.cfg.Metrics.WriteRetries.WithLabelValues(target).Inc()
		t.log.Warn("write failed, retrying", "target", target, "error", err, "wait", wait)
	})
}

// nextOffsets returns the batch's next offset per input topic.
func (t *task) nextOffsets() map[string]map[int]int64 {
	offsets := map[string]map[int]int64{}
	for i, src := range t.sources {
		if n := t.batch.next[i]; n >= 0 {
			offsets[src.topic] = map[int]int64{t.partition: n}
		}
	}
	return offsets
}

// isFenced reports errors meaning this member no longer owns the partition.
func isFenced(err error) bool {
	return errors.Is(err, kafka.RebalanceInProgress) || errors.Is(err, kafka.IllegalGeneration) ||
		errors.Is(err, kafka.UnknownMemberId) || errors.Is(err, kafka.FencedInstanceID)
}

func (t *task) reportLag() {
	for i, l := range t.merger.lanes {
		lag := l.hwm - l.next
		if lag < 0 {
			lag = 0
		}
		t.p.cfg.Metrics.Lag.WithLabelValues(t.sources[i].topic, t.label).Set(float64(lag))
	}
}

// Event outcomes, counted per batch and added to sessiond_events_total when
// the batch is out.
const (
	outcomeApplied = iota
	outcomeLate
	outcomeDuplicate
	outcomeRejected
	numOutcomes
)

var outcomeNames = [numOutcomes]string{"applied", "late", "duplicate", "rejected"}

func (t *task) countOutcomes() {
	for src, counts := range t.batch.outcomes {
		for o, n := range counts {
			if n > 0 {
				t.p.cfg.Metrics.Events.WithLabelValues(t.sources[src].kind.String(), outcomeNames[o]).Add(float64(n))
			}
		}
	}
}
