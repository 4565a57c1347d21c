package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"strings"
	"syscall"
	"time"

	"github.com/segmentio/kafka-go"
	"github.com/sessiond/sessiond/schemas"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	err := run(ctx, os.Args[1:])
	switch {
	case err == nil:
	case errors.Is(err, flag.ErrHelp):
		os.Exit(2)
	default:
		fmt.Fprintf(os.Stderr, "sessiond-load: %v\n", err)
		os.Exit(1)
	}
}

// run parses the flags, runs the phases and prints the report, also when
// a phase fails (with what was measured up to then).
func run(ctx context.Context, args []string) error {
	cfg, err := parseConfig(args, os.Stderr)
	if err != nil {
		return err
	}
	defer cfg.conn.Close()
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	codecs, err := schemas.Load()
	if err != nil {
		return err
	}
	if err := cfg.wire.start(); err != nil {
		return err
	}
	if cfg.wire.stop != nil {
		defer cfg.wire.stop()
	}
	tmp, err := os.MkdirTemp("", "sessiond-load-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	l, mode, err := newLauncher(ctx, cfg, codecs, tmp)
	if err != nil {
		return err
	}
	defer l.stopAll()
	rep := &report{Command: "sessiond-load " + strings.Join(args, " "), Machine: describeMachine(),
		Brokers: cfg.brokers, Mode: mode, Settings: settings(cfg)}
	switch {
	case cfg.inProcess():
		rep.Source = builtVersion()
	case cfg.sessiondBin == "":
		rep.Source = sourceVersion(ctx)
	}
	client := cfg.conn.Client()
	t := newTopics(cfg.partitions)
	t.replication = cfg.replication
	if !cfg.keepTopics {
		defer deleteTopics(client, t, cfg.kstreamsJar != "", log)
	}
	err = phases(ctx, cfg, client, t, l, codecs, rep, log)
	if err != nil {
		rep.Failure = err.Error()
	}
	l.stopAll()
	rep.noteWarnings(l)
	fmt.Fprintln(os.Stdout)
	rep.markdown(os.Stdout)
	if cfg.jsonOut != "" {
		if jerr := rep.writeJSON(cfg.jsonOut); jerr != nil && err == nil {
			err = jerr
		}
	}
	return err
}

func settings(cfg *config) map[string]any {
	return map[string]any{"partitions": cfg.partitions, "events": cfg.events, "visitors": cfg.visitors,
		"seed": cfg.seed, "rate": cfg.rate, "latency_seconds": cfg.latencySeconds,
		"wire_format": cfg.wire.format, "evolved": cfg.wire.evolved,
		"replication_factor": cfg.replication, "processing_guarantee": cfg.guarantee}
}

// newLauncher returns how sessiond instances are started, and says how.
func newLauncher(ctx context.Context, cfg *config, codecs *schemas.Codecs, tmp string) (*launcher, string, error) {
	if cfg.inProcess() {
		if err := os.MkdirAll(cfg.profileDir, 0o755); err != nil {
			return nil, "", fmt.Errorf("profile directory: %w", err)
		}
		return &launcher{start: inProcessLauncher()}, "in this process (--profile: CPU profiles in " + cfg.profileDir + ")", nil
	}
	bin := cfg.sessiondBin
	if bin == "" {
		var err error
		if bin, err = buildSessiond(ctx, tmp); err != nil {
			return nil, "", err
		}
	}
	return &launcher{start: subprocessLauncher(bin), bin: bin}, "as a subprocess (`sessiond run`, both cores, sharing the machine with the broker)", nil
}

// phases runs the six phases in order (or, with --soak, the soak), filling
// rep.
func phases(ctx context.Context, cfg *config, c *kafka.Client, t *topics, l *launcher, codecs *schemas.Codecs, rep *report, log *slog.Logger) error {
	bg := startCPU(0)
	time.Sleep(2 * time.Second)
	rep.Background = bg.stop().Machine
	if rep.Background > 0.25 {
		log.Warn("the machine is busy before the run: figures will be low", "busy_cores", round(rep.Background, 2))
	}
	log.Info("creating topics", "prefix", strings.TrimSuffix(t.input[0], "-cart"), "partitions", cfg.partitions, "brokers", cfg.brokers)
	if err := t.create(ctx, c); err != nil {
		return fmt.Errorf("create topics: %w", err)
	}
	rf, err := replicationOf(ctx, c, t.output)
	if err != nil {
		return fmt.Errorf("create topics: %w", err)
	}
	rep.Replication = rf
	s, err := newStream(cfg, codecs, t)
	if err != nil {
		return err
	}
	if s.encode, err = cfg.wire.encoder(ctx, codecs, t.input); err != nil {
		return err
	}
	if cfg.soak > 0 {
		return soakPhase(ctx, cfg, t, l, s, rep, log)
	}
	if err := inputPhases(ctx, cfg, c, t, s, codecs, rep, log); err != nil {
		return err
	}
	return pipelinePhases(ctx, cfg, c, t, l, s, codecs, rep, log)
}

// inputPhases are phases 1 and 2: preload and baseline.
func inputPhases(ctx context.Context, cfg *config, c *kafka.Client, t *topics, s *stream, codecs *schemas.Codecs, rep *report, log *slog.Logger) error {
	var err error
	if rep.Preload, err = preload(ctx, cfg, s, log); err != nil {
		return fmt.Errorf("preload: %w", err)
	}
	p := rep.Preload
	result("1 preload", "%s events/s produced (%s events, %.0f MB, %.0f MB/s)", num(p.Rate), num(float64(p.Events)), float64(p.Bytes)/1e6, p.MBPerSecond)
	dec, err := cfg.wire.decoder(codecs)
	if err != nil {
		return err
	}
	if rep.Baseline, err = baseline(ctx, cfg, c, t, dec, log); err != nil {
		return fmt.Errorf("baseline: %w", err)
	}
	result("2 baseline", "%s events/s read + decoded (read only %s events/s)", num(rep.Baseline.Rate), num(rep.Baseline.ReadRate))
	return nil
}

// pipelinePhases are phases 3 to 5, on sessiond: throughput, restore and
// latency.
func pipelinePhases(ctx context.Context, cfg *config, c *kafka.Client, t *topics, l *launcher, s *stream, codecs *schemas.Codecs, rep *report, log *slog.Logger) error {
	ends, err := inputEnds(ctx, c, t)
	if err != nil {
		return fmt.Errorf("input end offsets: %w", err)
	}
	if rep.KStreams, err = kstreamsPhase(ctx, cfg, c, t, rep.Preload, log); err != nil {
		return err
	}
	var in instance
	err = profiled(cfg, "throughput", func() (err error) {
		rep.Pipeline, in, err = throughput(ctx, cfg, c, t, l, rep.Preload, rep.Baseline, log)
		return err
	})
	if err != nil {
		return fmt.Errorf("pipeline throughput: %w", err)
	}
	p := rep.Pipeline
	for _, k := range rep.KStreams {
		if cfg.guarantee == guaranteeBoth && strings.HasSuffix(k.Mode, eosSuffix) {
			continue // compared with sessiond's exactly-once phase
		}
		k.SessiondRatio = p.Rate / k.Rate
		result("3k vs kafka streams", "sessiond %.2f× Kafka Streams %s", k.SessiondRatio, k.Mode)
	}
	result("3 pipeline", "%s events/s end to end, %.1f%% of the baseline (%.2f s, ready after %.2f s)",
		num(p.Rate), 100*p.RatioToBaseline, p.Seconds, p.ReadySeconds)
	err = profiled(cfg, "restore", func() (err error) {
		rep.Restore, in, err = restore(ctx, cfg, c, t, l, in, log)
		return err
	})
	if err != nil {
		return fmt.Errorf("restore: %w", err)
	}
	r := rep.Restore
	result("4 restore", "%s snapshots/s, %s records/s (%s snapshots, %s records in %.2f s; ready %.2f s after start)",
		num(r.SnapshotsRate), num(r.RecordsRate), num(float64(r.Snapshots)), num(float64(r.Records)), r.WindowSeconds, r.ReadySeconds)
	if cfg.latencySeconds == 0 {
		return replayPhase(ctx, cfg, t, l, ends, rep, log)
	}
	err = profiled(cfg, "latency", func() (err error) {
		rep.Latency, err = latency(ctx, cfg, c, t, l, s, codecs, in, log)
		return err
	})
	if err != nil {
		return fmt.Errorf("latency: %w", err)
	}
	lt := rep.Latency.Timestamp
	result("5 latency", "p50 %.0f ms, p90 %.0f ms, p99 %.0f ms, max %.0f ms over %s updates (%d missing) at %s events/s",
		lt.P50, lt.P90, lt.P99, lt.Max, num(float64(lt.Count)), rep.Latency.Missing, num(rep.Latency.ProducedRate))
	if rb := rep.Latency.Rebalance; rb != nil {
		result("5 rebalance", "%s at %.0f s: new member ready after %.2f s (%d partitions, %s snapshots restored, RSS %.0f MB); longest wait %.0f ms, %d updates over 1 s, longest output gap %.0f ms",
			rb.Kind, rb.AtSeconds, rb.ReadySeconds, rb.Partitions, num(float64(rb.Snapshots)), rb.RSSMB, rb.MaxLatencyMs, rb.Over1s, rb.LongestGapMs)
	}
	if cfg.guarantee == guaranteeBoth {
		if err := exactlyOncePhases(ctx, cfg, c, t, l, s, codecs, rep, log); err != nil {
			return err
		}
	}
	// Last: the replay's writes keep the broker busy for a while after it ends.
	return replayPhase(ctx, cfg, t, l, ends, rep, log)
}

// noteWarnings records the warnings and errors each instance logged, with
// the first one.
func (r *report) noteWarnings(l *launcher) {
	for i, in := range l.instances() {
		w, e, first := in.Logs().Problems()
		if w+e > 0 {
			r.Warnings = append(r.Warnings, fmt.Sprintf("sessiond #%d logged %d warnings and %d errors; the first: `%s`",
				i+1, w, e, clip(first[0], 300)))
		}
	}
}

// clip shortens s to at most n bytes.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

// result prints a phase's result line.
func result(phase, format string, args ...any) {
	fmt.Fprintf(os.Stderr, "==> %s: %s\n", phase, fmt.Sprintf(format, args...))
}

// profiled runs fn under a CPU profile written to <profile dir>/<name>.pprof
// when --profile is set, and then writes the goroutine blocking profile to
// <name>.block.pprof: where the time off the CPU went. The blocking profile
// accumulates from the first profiled phase on; subtract the previous
// phase's with `go tool pprof -diff_base`.
func profiled(cfg *config, name string, fn func() error) error {
	if !cfg.inProcess() {
		return fn()
	}
	path := filepath.Join(cfg.profileDir, name+".pprof")
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("create profile: %w", err)
	}
	defer f.Close()
	if err := pprof.StartCPUProfile(f); err != nil {
		return fmt.Errorf("start profile: %w", err)
	}
	runtime.SetBlockProfileRate(int(100 * time.Microsecond))
	err = fn()
	pprof.StopCPUProfile()
	fmt.Fprintf(os.Stderr, "    CPU profile: go tool pprof -top %s\n", path)
	if berr := writeProfile("block", filepath.Join(cfg.profileDir, name+".block.pprof")); berr != nil && err == nil {
		err = berr
	}
	return err
}

// writeProfile writes the named runtime profile to path.
func writeProfile(name, path string) error {
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("create profile: %w", err)
	}
	defer f.Close()
	if err := pprof.Lookup(name).WriteTo(f, 0); err != nil {
		return fmt.Errorf("write %s profile: %w", name, err)
	}
	fmt.Fprintf(os.Stderr, "    %s profile: go tool pprof -top %s\n", name, path)
	return nil
}

// deleteTopics deletes the run's topics, with a context of its own: the
// run's may be cancelled already.
func deleteTopics(c *kafka.Client, t *topics, kstreams bool, log *slog.Logger) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if kstreams {
		if err := deleteKStreamsTopics(ctx, c, t); err != nil {
			log.Warn("could not delete the Kafka Streams topics", "error", err)
		}
	}
	if err := t.delete(ctx, c); err != nil {
		log.Warn("could not delete the topics", "error", err)
		return
	}
	log.Info("deleted the topics", "group", t.group)
}
