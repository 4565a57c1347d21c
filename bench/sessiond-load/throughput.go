package main

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/segmentio/kafka-go"
)

// pipelineResult is phase 3's outcome.
type pipelineResult struct {
	Events          int64              `json:"events"`
	Updates         int64              `json:"updates"`
	Seconds         float64            `json:"seconds"`
	ReadySeconds    float64            `json:"ready_seconds"`
	FirstUpdate     float64            `json:"first_update_seconds"`
	Rate            float64            `json:"events_per_second"`
	RateAfterReady  float64            `json:"events_per_second_after_ready"`
	RatioToBaseline float64            `json:"ratio_to_baseline"`
	AllEvents       float64            `json:"all_events_processed_seconds"`
	Metrics         pipelineMetrics    `json:"metrics"`
	CPU             cpuUse             `json:"cpu"`
	PeakRSSMB       float64            `json:"peak_rss_mb"`
	EventsByOutcome map[string]float64 `json:"events_by_outcome"`
	Settled         float64            `json:"settled_seconds"` // waited for a quiet machine before starting
}

// pipelineMetrics are the /metrics figures checked at the end of a phase.
type pipelineMetrics struct {
	Events       float64 `json:"sessiond_events_total"`
	Updates      float64 `json:"sessiond_updates_total"`
	DeadLetters  float64 `json:"sessiond_dead_letters_total"`
	Batches      float64 `json:"batches"`
	BatchEvents  float64 `json:"mean_batch_events"`
	BatchFlushMs float64 `json:"mean_batch_flush_ms"`
	WriteRetries float64 `json:"sessiond_write_retries_total"`
	Rebalances   float64 `json:"sessiond_rebalances_total"`
	Snapshots    float64 `json:"sessiond_snapshots"`
	HeapMB       float64 `json:"go_heap_inuse_mb"`
}

func readPipelineMetrics(m metricSet) pipelineMetrics {
	b := m.histogram("sessiond_batch_events")
	f := m.histogram("sessiond_batch_flush_seconds")
	return pipelineMetrics{
		Events: m.sum("sessiond_events_total"), Updates: m.sum("sessiond_updates_total"),
		DeadLetters: m.sum("sessiond_dead_letters_total"), Batches: b.count, BatchEvents: b.mean(),
		BatchFlushMs: f.mean() * 1e3, WriteRetries: m.sum("sessiond_write_retries_total"),
		Rebalances: m.sum("sessiond_rebalances_total"), Snapshots: m.sum("sessiond_snapshots"),
		HeapMB: round(m.sum("go_memstats_heap_inuse_bytes")/1e6, 1),
	}
}

// throughput starts sessiond from scratch on the preloaded topics and
// times it until the output topic holds one update per action. It returns
// the instance, still running.
func throughput(ctx context.Context, cfg *config, c *kafka.Client, t *topics, l *launcher,
	pre *preloadResult, base *baselineResult, log *slog.Logger) (*pipelineResult, instance, error) {
	addr, err := freeAddr()
	if err != nil {
		return nil, nil, err
	}
	settled := settle(ctx, "pipeline", log)
	begin := time.Now()
	in, err := l.launch(runArgs{guarantee: cfg.sessiondGuarantee(), connCfg: cfg.connCfg, passwordFile: cfg.passwordFile, t: t, wire: &cfg.wire, httpAddr: addr, logLevel: "warn"})
	if err != nil {
		return nil, nil, err
	}
	cpu := startCPU(in.PID())
	res := &pipelineResult{Events: int64(pre.Events), Settled: settled.Seconds()}
	var readyAt time.Time
	exited := func() error {
		select {
		case <-in.Exited():
			return exitedErr(in)
		default:
			return nil
		}
	}
	poll := func() {
		if readyAt.IsZero() && ready(ctx, in) {
			readyAt = time.Now()
		}
	}
	firstAt, n, err := awaitOutput(ctx, cfg, c, t.output, t.partitionList, pre.Actions, begin, exited, poll, log.With("phase", "pipeline"))
	res.Updates = n
	if err != nil {
		return nil, in, err
	}
	res.Seconds = time.Since(begin).Seconds()
	res.CPU = cpu.stop()
	res.PeakRSSMB = peakRSSMB(in.PID())
	res.ReadySeconds = sinceOr(readyAt, begin, res.Seconds)
	res.FirstUpdate = sinceOr(firstAt, begin, res.Seconds)
	res.Rate = float64(res.Events) / res.Seconds
	if d := res.Seconds - res.ReadySeconds; d > 0 {
		res.RateAfterReady = float64(res.Events) / d
	}
	res.RatioToBaseline = res.Rate / base.Rate
	m, err := waitAllEvents(ctx, in, res.Events)
	if err != nil {
		return nil, in, err
	}
	res.AllEvents = time.Since(begin).Seconds()
	res.Metrics = readPipelineMetrics(m)
	res.EventsByOutcome = m.by("sessiond_events_total", "outcome")
	return res, in, nil
}

// waitAllEvents polls /metrics until sessiond_events_total reaches events
// (the cart and customer events after the last action are processed a
// little after its update), for up to 30 s, and returns the last scrape.
func waitAllEvents(ctx context.Context, in instance, events int64) (metricSet, error) {
	var m metricSet
	err := waitFor(ctx, 30*time.Second, 100*time.Millisecond, func() error {
		var err error
		if m, err = scrape(ctx, in); err != nil {
			return err
		}
		if got := m.sum("sessiond_events_total"); got < float64(events) {
			return fmt.Errorf("sessiond_events_total is %v, want %d", got, events)
		}
		return nil
	})
	if m == nil {
		return nil, err
	}
	return m, nil // short of the count: reported as is
}

// sinceOr returns the seconds from begin to t, or def when t is unset.
func sinceOr(t, begin time.Time, def float64) float64 {
	if t.IsZero() {
		return def
	}
	return t.Sub(begin).Seconds()
}

// awaitOutput polls topic until it holds want records, logging progress
// every 5 s, and returns when the first one was seen and how many there
// were. It gives up when exited reports an error (the process under test
// ended) or after --phase-timeout. poll, if set, runs at every poll.
func awaitOutput(ctx context.Context, cfg *config, c *kafka.Client, topic string, partitions []int, want int64,
	begin time.Time, exited func() error, poll func(), log *slog.Logger) (first time.Time, n int64, err error) {
	lastLog := begin
	err = waitFor(ctx, cfg.phaseTimeout, 50*time.Millisecond, func() error {
		if err := exited(); err != nil {
			return permanent(err)
		}
		if poll != nil {
			poll()
		}
		var err error
		if n, err = countRecordsAt(ctx, c, cfg.outputIsolation(), topic, partitions); err != nil {
			return err
		}
		if n > 0 && first.IsZero() {
			first = time.Now()
		}
		if time.Since(lastLog) >= 5*time.Second {
			lastLog = time.Now()
			log.Info("progress", "updates", n, "of", want, "seconds", round(time.Since(begin).Seconds(), 1))
		}
		if n < want {
			return fmt.Errorf("%d of %d updates on the output topic", n, want)
		}
		return nil
	})
	return first, n, err
}
