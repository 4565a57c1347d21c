package main

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/segmentio/kafka-go"
	"github.com/sessiond/sessiond/internal/kclient"
)

// preloadResult is phase 1's outcome.
type preloadResult struct {
	Events        int     `json:"events"`
	Actions       int64   `json:"actions"`
	Bytes         int64   `json:"bytes"`
	GenSeconds    float64 `json:"generate_encode_seconds"`
	GenRate       float64 `json:"generate_encode_events_per_second"`
	Seconds       float64 `json:"produce_seconds"`
	Rate          float64 `json:"produce_events_per_second"`
	MBPerSecond   float64 `json:"produce_mb_per_second"`
	BatchMessages int     `json:"messages_per_write"`
}

// preloadRound bounds the events generated and held at once: the whole
// stream in memory took 16 GB at 25M events (a 10M-visitor run).
const preloadRound = 2_000_000

// preload generates cfg.events events and produces them to the input
// topics with concurrent whole-batch writes, preloadRound at a time; the
// generate and produce times are summed over the rounds.
func preload(ctx context.Context, cfg *config, s *stream, log *slog.Logger) (*preloadResult, error) {
	res := &preloadResult{Events: cfg.events}
	// About 1000 records per topic-partition per write: big batches.
	res.BatchMessages = 1000 * 3 * cfg.partitions
	for done := 0; done < cfg.events; {
		n := min(preloadRound, cfg.events-done)
		begin := time.Now()
		msgs, err := s.generate(n)
		if err != nil {
			return nil, err
		}
		res.GenSeconds += time.Since(begin).Seconds()
		for _, m := range msgs {
			res.Bytes += int64(len(m.Key) + len(m.Value))
		}
		begin = time.Now()
		if err := produceAll(ctx, cfg, msgs, res.BatchMessages); err != nil {
			return nil, err
		}
		res.Seconds += time.Since(begin).Seconds()
		done += n
	}
	res.GenRate = float64(cfg.events) / res.GenSeconds
	res.Actions = s.actions()
	log.Info("preload: generated and encoded", "events", cfg.events, "actions", res.Actions,
		"bytes", res.Bytes, "seconds", round(res.GenSeconds, 2))
	res.Rate = float64(cfg.events) / res.Seconds
	res.MBPerSecond = float64(res.Bytes) / 1e6 / res.Seconds
	return res, nil
}

// produceAll writes msgs in slices of per, one slice at a time: concurrent
// writes would let a later slice reach a partition before an earlier one,
// reordering a visitor's events (which the reducer then counts as late).
func produceAll(ctx context.Context, cfg *config, msgs []kafka.Message, per int) error {
	w := newPreloadWriter(cfg.conn, 1000, 10*time.Millisecond) // KAFKA-NOTES: ~1M records/s
	defer w.Close()
	for at := 0; at < len(msgs); at += per {
		batch := msgs[at:min(at+per, len(msgs))]
		if err := kclient.Write(ctx, w, batch, kclient.DefaultRetryPolicy().WithMaxElapsed(2*time.Minute), nil); err != nil {
			return fmt.Errorf("produce: %w", err)
		}
	}
	return nil
}
