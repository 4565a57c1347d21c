package service

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/sessiond/sessiond/consumer"
	"github.com/sessiond/sessiond/emitter"
	"github.com/sessiond/sessiond/internal/config"
	"github.com/sessiond/sessiond/internal/kclient"
)

// Replay runs a replay assembled exactly as the live service is (the same
// connection, decoder, sinks with the HMAC hasher, dead-letter writer):
// it differs only in what it declares, no group, no changelog, a window
// and end offsets. It returns the replay's summary; a write that keeps
// failing past the replay's retry limit, or fails for good, ends it with
// the error.
func Replay(ctx context.Context, cfg ReplayConfig, log *slog.Logger) (consumer.ReplaySummary, error) {
	if err := cfg.Validate(); err != nil {
		return consumer.ReplaySummary{}, err
	}
	a, err := assemble(cfg.Common, log, nil)
	if err != nil {
		return consumer.ReplaySummary{}, err
	}
	defer a.close()
	if err := a.conn.Probe(ctx); err != nil {
		return consumer.ReplaySummary{}, fmt.Errorf("kafka: %w", config.Within("Conn", err))
	}
	if cfg.kafkaSinkOn() {
		if _, err := kclient.PartitionCounts(ctx, a.conn.Client(), cfg.Kafka.Topic); err != nil {
			return consumer.ReplaySummary{}, fmt.Errorf("output topic: %w (create it first)", err)
		}
	}
	file, plan := replayPlan(&cfg)
	if cfg.nostoSinkOn() {
		plan.deadLetters = a.deadLetterWriter(cfg.DeadLetterTopic)
	}
	r := cfg.Replay
	r.Conn, r.Logger, r.Decoder = a.conn, log, a.decoder
	if r.Sinks, err = a.sinks(plan); err != nil {
		return consumer.ReplaySummary{}, err
	}
	if err := a.probeNosto(ctx); err != nil {
		return consumer.ReplaySummary{}, err
	}
	if err := a.registerSchemas(ctx); err != nil {
		return consumer.ReplaySummary{}, err
	}
	sum, err := consumer.Replay(ctx, r)
	err = config.Within("Replay", err)
	if file != nil {
		if ferr := file.Flush(); err == nil && ferr != nil {
			err = fmt.Errorf("output file: %w", ferr)
		}
	}
	return sum, err
}

// replayPlan returns the replay's sinks besides Common's: the file sink
// (returned too, to be flushed at the end) or the dry run's counter.
func replayPlan(cfg *ReplayConfig) (*emitter.FileSink, sinkPlan) {
	plan := sinkPlan{deadTopic: cfg.DeadLetterTopic, retry: cfg.Replay.Retry}
	var file *emitter.FileSink
	switch {
	case cfg.File != nil:
		file = emitter.NewFileSink(cfg.File)
		plan.extra = []consumer.Sink{file}
	case cfg.DryRun:
		plan.extra = []consumer.Sink{emitter.CountSink{}}
	}
	return file, plan
}
