package main

import (
	"context"
	"fmt"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/segmentio/kafka-go"
	"github.com/sessiond/sessiond/consumer"
	"github.com/sessiond/sessiond/internal/kclient"
	"github.com/sessiond/sessiond/reducer"
	"golang.org/x/sync/errgroup"
)

// baselineResult is phase 2's outcome: the bare read rate, and the read and
// decode rate that bounds the pipeline.
type baselineResult struct {
	Events         int64   `json:"events"`
	ReadSeconds    float64 `json:"read_only_seconds"`
	ReadRate       float64 `json:"read_only_events_per_second"`
	Seconds        float64 `json:"read_decode_seconds"`
	Rate           float64 `json:"read_decode_events_per_second"`
	DecodeFailures int64   `json:"decode_failures"`
	CPU            cpuUse  `json:"cpu"`
	Settled        float64 `json:"settled_seconds"` // waited for a quiet machine before starting
}

// baseline reads the input topics twice: once bare, once decoding.
func baseline(ctx context.Context, cfg *config, c *kafka.Client, t *topics, codecs consumer.Decoder, log *slog.Logger) (*baselineResult, error) {
	settled := settle(ctx, "baseline", log)
	res := &baselineResult{Settled: settled.Seconds()}
	n, secs, _, err := readInputs(ctx, cfg, c, t, nil)
	if err != nil {
		return nil, err
	}
	res.ReadSeconds, res.ReadRate = secs, float64(n)/secs
	cpu := startCPU(0)
	n, secs, bad, err := readInputs(ctx, cfg, c, t, codecs)
	if err != nil {
		return nil, err
	}
	res.CPU = cpu.stop()
	res.Events, res.Seconds, res.Rate, res.DecodeFailures = n, secs, float64(n)/secs, bad
	return res, nil
}

// readInputs reads every input topic-partition to the high watermark found
// at the start with one Reader each, decoding each record when codecs is
// set. It returns the records read, the seconds taken and the records
// that failed to decode.
func readInputs(ctx context.Context, cfg *config, c *kafka.Client, t *topics, codecs consumer.Decoder) (int64, float64, int64, error) {
	ranges := map[string]map[int]kclient.Range{}
	for _, topic := range t.input {
		offs, err := kclient.Offsets(ctx, c, topic, t.partitionList...)
		if err != nil {
			return 0, 0, 0, err
		}
		ranges[topic] = offs
	}
	var read, bad atomic.Int64
	begin := time.Now()
	g, gctx := errgroup.WithContext(ctx)
	for kind, topic := range t.input {
		for _, p := range t.partitionList {
			rng := ranges[topic][p]
			g.Go(func() error {
				n, b, err := readPartition(gctx, cfg, topic, p, rng, reducer.Kind(kind), codecs)
				read.Add(n)
				bad.Add(b)
				return err
			})
		}
	}
	if err := g.Wait(); err != nil {
		return 0, 0, 0, err
	}
	return read.Load(), time.Since(begin).Seconds(), bad.Load(), nil
}

// readPartition reads [rng.First, rng.End) of one partition with the
// consumer's reader settings (consumer/source.go).
func readPartition(ctx context.Context, cfg *config, topic string, p int, rng kclient.Range, kind reducer.Kind, codecs consumer.Decoder) (n, bad int64, err error) {
	if rng.End <= rng.First {
		return 0, 0, nil
	}
	r := kafka.NewReader(readerConfig(cfg, topic, p))
	defer r.Close()
	if err := r.SetOffset(rng.First); err != nil {
		return 0, 0, err
	}
	for {
		m, err := r.FetchMessage(ctx)
		if err != nil {
			return n, bad, fmt.Errorf("read %s/%d: %w", topic, p, err)
		}
		n++
		if codecs != nil {
			if _, err := codecs.DecodeEvent(ctx, kind, m.Value); err != nil {
				bad++
			}
		}
		if m.Offset+1 >= rng.End {
			return n, bad, nil
		}
	}
}
