package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/sessiond/sessiond/consumer"
	"github.com/sessiond/sessiond/internal/config"
	"github.com/sessiond/sessiond/service"
)

func init() {
	register("replay", command{summary: "backfill: re-emit the updates of a time window from chosen offsets, as a batch job", run: runReplay})
}

// replayFlags are replay's own settings besides the connection and the
// topics.
type replayFlags struct {
	from, to, startOffsets, endOffsets, partitions string
	outputFile, logLevel                           string
	wire                                           *wireFlags
	secrets                                        secretFiles
}

func runReplay(ctx context.Context, args []string, io stdio) error {
	cfg := service.DefaultReplayConfig()
	r := &cfg.Replay
	var f replayFlags
	var passwordFile string
	fs := newFlagSet("replay", io)
	f.wire = bindCommonFlags(fs, &cfg.Common, &r.Pipeline, &passwordFile, &f.secrets)
	fs.StringVar(&f.from, "from", "", "RFC 3339: first occurred_at of the actions whose updates are written (required)")
	fs.StringVar(&f.to, "to", "", "RFC 3339: end (exclusive) of the window (default: now)")
	fs.DurationVar(&r.Warmup, "warmup", 0, "start at the offsets of from − warmup instead of the earliest (faster; see README)")
	fs.StringVar(&f.startOffsets, "start-offsets", "", "start offsets, P:OFFSET or TOPIC:P:OFFSET, comma-separated")
	fs.StringVar(&f.endOffsets, "end-offsets", "", "end offsets (exclusive), same form (default: the end when replay starts)")
	fs.StringVar(&f.partitions, "partitions", "", "partition numbers to replay, e.g. 0-5 or 0,2,4-7 (default: all)")
	fs.StringVar(&cfg.Kafka.Topic, "output-topic", "", "write Avro updates to this topic, as run does")
	fs.StringVar(&f.outputFile, "output-file", "", "write updates as JSON lines in the reduce format (- for stdout)")
	fs.BoolVar(&cfg.DryRun, "dry-run", false, "write nothing, count only")
	fs.StringVar(&cfg.DeadLetterTopic, "dlq-topic", cfg.DeadLetterTopic, "with --nosto-endpoint: where updates Nosto refuses go")
	fs.DurationVar(&r.Retry.MaxElapsed, "max-retry", r.Retry.MaxElapsed, "how long a failing write (a broker or sink that is down) is retried before the replay fails; 0: until interrupted")
	fs.StringVar(&f.logLevel, "log-level", "warn", "debug, info, warn or error")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if err := f.apply(r, time.Now()); err != nil {
		return err
	}
	if err := cfg.Conn.LoadSecrets(passwordFile, os.LookupEnv); err != nil {
		return fieldUsage(config.Within("Conn", err))
	}
	if err := f.secrets.load(&cfg.Common, os.LookupEnv); err != nil {
		return err
	}
	log, err := newLogger(io.err, f.logLevel)
	if err != nil {
		return err
	}
	return replay(ctx, cfg, f.outputFile, log, io)
}

// apply checks the replay flags and sets cfg from them.
func (f *replayFlags) apply(cfg *consumer.ReplayConfig, now time.Time) error {
	if err := f.wire.load(); err != nil {
		return err
	}
	var err error
	if f.from == "" {
		return usagef("--from is required")
	}
	if cfg.From, err = time.Parse(time.RFC3339, f.from); err != nil {
		return usagef("--from: %v", err)
	}
	cfg.To = now
	if f.to != "" {
		if cfg.To, err = time.Parse(time.RFC3339, f.to); err != nil {
			return usagef("--to: %v", err)
		}
	}
	if !cfg.From.Before(cfg.To) {
		return usagef("--from %s is not before --to %s", f.from, cfg.To.Format(time.RFC3339))
	}
	if cfg.Warmup < 0 {
		return usagef("--warmup must not be negative")
	}
	topics := []string{cfg.CartTopic, cfg.CustomerTopic, cfg.ActionTopic}
	if cfg.Starts, err = parseOffsets(f.startOffsets, topics); err != nil {
		return usagef("--start-offsets: %v", err)
	}
	if cfg.Ends, err = parseOffsets(f.endOffsets, topics); err != nil {
		return usagef("--end-offsets: %v", err)
	}
	if cfg.Partitions, err = parsePartitions(f.partitions); err != nil {
		return usagef("--partitions: %v", err)
	}
	return nil
}

// parseOffsets reads "P:OFFSET" (for every input topic) or
// "TOPIC:P:OFFSET" items.
func parseOffsets(s string, topics []string) (map[string]map[int]int64, error) {
	if s == "" {
		return nil, nil
	}
	out := map[string]map[int]int64{}
	set := func(topic string, p int, off int64) {
		if out[topic] == nil {
			out[topic] = map[int]int64{}
		}
		out[topic][p] = off
	}
	for _, item := range strings.Split(s, ",") {
		parts := strings.Split(strings.TrimSpace(item), ":")
		if len(parts) < 2 || len(parts) > 3 {
			return nil, fmt.Errorf("%q is not P:OFFSET or TOPIC:P:OFFSET", item)
		}
		p, err1 := strconv.Atoi(parts[len(parts)-2])
		off, err2 := strconv.ParseInt(parts[len(parts)-1], 10, 64)
		if err1 != nil || err2 != nil || p < 0 || off < 0 {
			return nil, fmt.Errorf("%q: partition and offset must be whole numbers ≥ 0", item)
		}
		if len(parts) == 3 {
			if !contains(topics, parts[0]) {
				return nil, fmt.Errorf("%q: %s is not an input topic", item, parts[0])
			}
			set(parts[0], p, off)
			continue
		}
		for _, t := range topics {
			set(t, p, off)
		}
	}
	return out, nil
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// parsePartitions reads "0-5" or "0,2,4-7"; "" is all (nil).
func parsePartitions(s string) ([]int, error) {
	if s == "" {
		return nil, nil
	}
	seen := map[int]bool{}
	var out []int
	for _, item := range strings.Split(s, ",") {
		lo, hi, isRange := strings.Cut(strings.TrimSpace(item), "-")
		a, err := strconv.Atoi(lo)
		b := a
		if err == nil && isRange {
			b, err = strconv.Atoi(hi)
		}
		if err != nil || a < 0 || b < a {
			return nil, fmt.Errorf("%q is not a partition or a range like 0-5", item)
		}
		for p := a; p <= b; p++ {
			if !seen[p] {
				seen[p] = true
				out = append(out, p)
			}
		}
	}
	return out, nil
}

// replay opens the output file, if any, runs the replay through the
// service's assembly and prints the summary.
func replay(ctx context.Context, cfg service.ReplayConfig, outputFile string, log *slog.Logger, std stdio) error {
	if outputFile != "" {
		cfg.File = io.Discard // counted as the output while validating
	}
	if err := cfg.Validate(); err != nil {
		return fieldUsage(err)
	}
	var file *os.File
	switch outputFile {
	case "":
	case "-":
		cfg.File = std.out
	default:
		var err error
		if file, err = os.Create(outputFile); err != nil {
			return usagef("--output-file: %v", err)
		}
		cfg.File = file
	}
	cfg.Replay.Progress = progressReporter(std.err)
	sum, err := service.Replay(ctx, cfg, log)
	if file != nil {
		if cerr := file.Close(); err == nil && cerr != nil {
			err = fmt.Errorf("--output-file: %w", cerr)
		}
	}
	if errors.Is(err, consumer.ErrUnknownPartition) {
		return usagef("--partitions: %v", err)
	}
	if err != nil {
		return explain(err)
	}
	line, _ := json.Marshal(sum)
	fmt.Fprintf(std.err, "%s\n", line)
	return nil
}
