package main

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/segmentio/kafka-go"
	"github.com/sessiond/sessiond/internal/kclient"
	"github.com/sessiond/sessiond/schemas"
)

// --processing-guarantee both: after the at-least-once phases, the
// pipeline and latency phases again with exactly-once, on the same input
// topics, in the same invocation: a fresh group, output and dead-letter
// topic, so that the exactly-once member starts from the earliest offsets
// as the at-least-once one did (it also has the latency phase's events to
// read, after the preload's). The at-least-once members are stopped first.

// guaranteeBoth is --processing-guarantee's value for the side-by-side run.
const guaranteeBoth = "both"

// exactlyOnceResult is the exactly-once half of a side-by-side run.
type exactlyOnceResult struct {
	Pipeline *pipelineResult `json:"pipeline"`
	Latency  *latencyResult  `json:"latency,omitempty"`
	// ThroughputCost is 1 - exactly-once events/s over at-least-once's.
	ThroughputCost float64 `json:"throughput_cost"`
}

// withGroup returns t's inputs with a group, output and dead-letter topic
// of their own, named with suffix.
func (t *topics) withGroup(suffix string) *topics {
	u := *t
	u.group = t.group + "-" + suffix
	u.output = t.output + "-" + suffix
	u.dlq = t.dlq + "-" + suffix
	u.changelog = u.group + "-snapshots"
	return &u
}

// exactlyOncePhases runs phases 3 and 5 with exactly-once and reports them
// beside the at-least-once ones in rep.
func exactlyOncePhases(ctx context.Context, cfg *config, c *kafka.Client, t *topics, l *launcher, s *stream,
	codecs *schemas.Codecs, rep *report, log *slog.Logger) error {
	l.stopAll()
	e := *cfg
	e.guarantee = "exactly-once"
	u := t.withGroup("eos")
	specs := []kclient.TopicSpec{
		{Name: u.output, Partitions: len(u.partitionList), ReplicationFactor: u.replication},
		{Name: u.dlq, Partitions: len(u.partitionList), ReplicationFactor: u.replication},
	}
	if err := kclient.EnsureTopics(ctx, c, specs...); err != nil {
		return fmt.Errorf("exactly-once topics: %w", err)
	}
	res := &exactlyOnceResult{}
	rep.ExactlyOnce = res
	p, in, err := throughput(ctx, &e, c, u, l, rep.Preload, rep.Baseline, log.With("guarantee", e.guarantee))
	if err != nil {
		return fmt.Errorf("exactly-once pipeline throughput: %w", err)
	}
	res.Pipeline = p
	if rep.Pipeline != nil && rep.Pipeline.Rate > 0 {
		res.ThroughputCost = 1 - p.Rate/rep.Pipeline.Rate
	}
	result("3e pipeline, exactly-once", "%s events/s end to end (at-least-once in this run: %s; cost %.1f%%)",
		num(p.Rate), num(rep.Pipeline.Rate), 100*res.ThroughputCost)
	for _, k := range rep.KStreams {
		if strings.HasSuffix(k.Mode, eosSuffix) {
			k.SessiondRatio = p.Rate / k.Rate
			result("3e vs kafka streams", "sessiond exactly-once %.2f× Kafka Streams %s", k.SessiondRatio, k.Mode)
		}
	}
	if cfg.latencySeconds == 0 {
		return nil
	}
	// The latency phase's earlier events first: the member reads them
	// after the preload's.
	if _, _, err := awaitOutput(ctx, &e, c, u.output, u.partitionList, s.actions(), time.Now(), func() error { return nil }, nil,
		log.With("phase", "exactly-once catch-up")); err != nil {
		return fmt.Errorf("exactly-once catch-up: %w", err)
	}
	lr, err := latency(ctx, &e, c, u, l, s, codecs, in, log.With("guarantee", e.guarantee))
	if err != nil {
		return fmt.Errorf("exactly-once latency: %w", err)
	}
	res.Latency = lr
	lt, rc := lr.Timestamp, lr.Received
	result("5e latency, exactly-once", "written p50 %.0f ms, p99 %.0f ms; visible to a read_committed reader p50 %.0f ms, p99 %.0f ms (%d missing) at %s events/s",
		lt.P50, lt.P99, rc.P50, rc.P99, lr.Missing, num(lr.ProducedRate))
	return nil
}
