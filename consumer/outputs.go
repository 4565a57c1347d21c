package consumer

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/cenkalti/backoff/v4"
	"github.com/segmentio/kafka-go"
	"github.com/sessiond/sessiond/internal/kclient"
	"github.com/sessiond/sessiond/reducer"
	"golang.org/x/sync/errgroup"
)

// outputs is the first stage of a flush: the batch's updates to every
// sink and its rejected records to the dead-letter topic, concurrently,
// each retried until acknowledged. What one call delivered is marked in
// the batch, so that a flush resumed after a failure sends only the rest.
type outputs struct {
	sinks       []Sink
	deadLetters kclient.MessageWriter // nil: rejected records are counted only (replay)
	retry       kclient.RetryPolicy
	metrics     *Metrics
	log         *slog.Logger
}

// write delivers b's updates and dead letters not yet delivered.
func (o *outputs) write(ctx context.Context, b *batch) error {
	g, gctx := errgroup.WithContext(ctx)
	pending := make([]bool, len(o.sinks)) // decided before any writer runs
	for i := range o.sinks {
		pending[i] = !b.sinkDone(i) && len(b.updates) > 0
	}
	for i, s := range o.sinks {
		if !pending[i] {
			continue
		}
		g.Go(func() error {
			if err := o.writeSink(gctx, s, b.updates); err != nil {
				return fmt.Errorf("sink %s: %w", s.Name(), err)
			}
			b.markSink(i)
			return nil
		})
	}
	if !b.deadDone && len(b.dead) > 0 && o.deadLetters != nil {
		g.Go(func() error {
			if err := o.writeKafka(gctx, "dlq", o.deadLetters, b.dead); err != nil {
				return fmt.Errorf("dead letters: %w", err)
			}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return err
	}
	b.deadDone = true
	o.countUpdates(b)
	return nil
}

// writeSink writes updates to s, retrying failures. A permanent failure
// (IsPermanent) ends the retry and is returned still marked with
// backoff.Permanent — backoff takes the mark off — so that the task
// decides whether to stall or give up.
func (o *outputs) writeSink(ctx context.Context, s Sink, updates []*reducer.Update) error {
	permanent := false
	err := o.retry.Retry(ctx, func() error {
		err := s.Write(ctx, updates)
		permanent = kclient.IsPermanent(err)
		if permanent {
			return backoff.Permanent(err)
		}
		return err
	}, o.notify("sink", "sink", s.Name()))
	if permanent {
		return markPermanent(err)
	}
	return err
}

// markPermanent marks err with backoff.Permanent unless it is already.
func markPermanent(err error) error {
	var perm *backoff.PermanentError
	if errors.As(err, &perm) {
		return err
	}
	return backoff.Permanent(err)
}

// writeKafka writes msgs with w, retrying failed records.
func (o *outputs) writeKafka(ctx context.Context, target string, w kclient.MessageWriter, msgs []kafka.Message) error {
	return kclient.Write(ctx, w, msgs, o.retry, o.notify(target))
}

// notify counts and logs a failed attempt on target before its retry;
// attrs are added to the log line.
func (o *outputs) notify(target string, attrs ...any) func(error, time.Duration) {
	retries := o.metrics.WriteRetries.WithLabelValues(target)
	log := o.log.With(attrs...)
	return func(err error, wait time.Duration) {
		retries.Inc()
		log.Warn("write failed, retrying", "target", target, "error", err, "wait", wait)
	}
}

// countUpdates records the delivered updates by action type and their
// end-to-end latency.
func (o *outputs) countUpdates(b *batch) {
	if b.counted || len(b.updates) == 0 {
		return
	}
	b.counted = true
	now := time.Now()
	var byType [reducer.NumActionTypes]int
	for i, u := range b.updates {
		byType[u.Action.Type]++
		if !b.sentAt[i].IsZero() {
			o.metrics.EndToEnd.Observe(now.Sub(b.sentAt[i]).Seconds())
		}
	}
	for typ, n := range byType {
		if n > 0 {
			o.metrics.Updates.WithLabelValues(reducer.ActionType(typ).String()).Add(float64(n))
		}
	}
}
