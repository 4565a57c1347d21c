package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"strings"
	"time"

	"github.com/segmentio/kafka-go"
	"github.com/sessiond/sessiond/cmd/kafkaflags"
	"github.com/sessiond/sessiond/internal/kclient"
)

// replayResult is phase 6: `sessiond replay` over the preloaded topics.
type replayResult struct {
	Events          int64   `json:"events"`
	Updates         int64   `json:"updates"`
	Seconds         float64 `json:"seconds"`
	Rate            float64 `json:"events_per_second"`
	RatioToPipeline float64 `json:"ratio_to_pipeline"`
}

// replayPhase runs `sessiond replay` over the records the pipeline phase
// read (the preload: --end-offsets at its end, so the latency phase's
// records, written later in small batches, are not part of the
// comparison), with the whole history as its window and a topic as its
// output, as a subprocess, and times it from process start to exit. It is
// skipped in process (--profile).
func replayPhase(ctx context.Context, cfg *config, t *topics, l *launcher, ends string, rep *report, log *slog.Logger) error {
	if l.bin == "" || rep.Pipeline == nil {
		log.Info("replay phase skipped (in process)")
		return nil
	}
	settle(ctx, "replay", log)
	args := append([]string{"replay"}, kafkaflags.Args(&cfg.connCfg, cfg.passwordFile)...)
	args = append(args, "--cart-topic", t.input[0], "--customer-topic", t.input[1], "--action-topic", t.input[2],
		"--from", "1970-01-01T00:00:00Z", "--to", "9999-12-31T00:00:00Z", "--output-topic", t.replayed,
		"--end-offsets", ends)
	args = append(args, cfg.wire.flags()...)
	cmd := exec.CommandContext(ctx, l.bin, args...)
	var stderr bytes.Buffer
	cmd.Stderr, cmd.Env = &stderr, os.Environ()
	begin := time.Now()
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("%w: %s", err, clip(stderr.String(), 500))
	}
	secs := time.Since(begin).Seconds()
	lines := strings.Split(strings.TrimSpace(stderr.String()), "\n")
	var sum struct{ Events, Updates int64 }
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &sum); err != nil {
		return fmt.Errorf("read the summary %q: %w", lines[len(lines)-1], err)
	}
	r := &replayResult{Events: sum.Events, Updates: sum.Updates, Seconds: secs, Rate: float64(sum.Events) / secs}
	r.RatioToPipeline = r.Rate / rep.Pipeline.Rate
	rep.Replay = r
	result("6 replay", "%s events/s, %.2f× the pipeline (%s events → %s updates in %.2f s)",
		num(r.Rate), r.RatioToPipeline, num(float64(r.Events)), num(float64(r.Updates)), secs)
	return nil
}

// inputEnds returns the input topics' end offsets in replay's
// --end-offsets form (TOPIC:P:OFFSET, comma-separated).
func inputEnds(ctx context.Context, c *kafka.Client, t *topics) (string, error) {
	var parts []string
	for _, topic := range t.input {
		offs, err := kclient.Offsets(ctx, c, topic, t.partitionList...)
		if err != nil {
			return "", err
		}
		for _, p := range t.partitionList {
			parts = append(parts, fmt.Sprintf("%s:%d:%d", topic, p, offs[p].End))
		}
	}
	return strings.Join(parts, ","), nil
}
