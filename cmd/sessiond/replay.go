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

	"github.com/schollz/progressbar/v3"
	"github.com/segmentio/kafka-go"
	"github.com/sessiond/sessiond/cmd/kafkaflags"
	"github.com/sessiond/sessiond/consumer"
	"github.com/sessiond/sessiond/emitter"
	"github.com/sessiond/sessiond/internal/kclient"
	"github.com/sessiond/sessiond/reducer"
	"github.com/sessiond/sessiond/schemas"
	"github.com/sessiond/sessiond/schemas/confluent"
	"github.com/sessiond/sessiond/service"
	"golang.org/x/term"
)

func init() {
	register("replay", command{summary: "backfill: re-emit the updates of a time window from chosen offsets, as a batch job", run: runReplay})
}

// replayFlags are replay's own settings besides the connection and the
// topics.
type replayFlags struct {
	from, to, startOffsets, endOffsets, partitions string
	outputTopic, outputFile, wireFormat, logLevel  string
	wire                                           *wireFlags
	registry                                       confluent.Config
	dlqTopic                                       string
	dryRun                                         bool
	nosto                                          emitter.NostoConfig
	secrets                                        secretFiles
}

func runReplay(ctx context.Context, args []string, io stdio) error {
	cfg := consumer.DefaultReplayConfig()
	connCfg := kclient.DefaultConnConfig()
	f := replayFlags{nosto: emitter.DefaultNostoConfig(), wireFormat: service.WireRaw, registry: confluent.DefaultConfig()}
	var passwordFile string
	fs := newFlagSet("replay", io)
	kafkaflags.Bind(fs, &connCfg, &passwordFile)
	fs.StringVar(&cfg.CartTopic, "cart-topic", cfg.CartTopic, "cart_changed input topic")
	fs.StringVar(&cfg.CustomerTopic, "customer-topic", cfg.CustomerTopic, "customer_changed input topic")
	fs.StringVar(&cfg.ActionTopic, "action-topic", cfg.ActionTopic, "action input topic")
	f.wire = bindWireFlags(fs, &f.wireFormat, &f.registry)
	fs.DurationVar(&cfg.SessionTTL, "session-ttl", cfg.SessionTTL, "event-time inactivity after which a snapshot expires")
	fs.DurationVar(&cfg.MaxClockSkew, "max-clock-skew", cfg.MaxClockSkew, "as for run")
	fs.Var((*isolationLevel)(&cfg.ReadUncommitted), "isolation-level", "read_committed or read_uncommitted")
	fs.StringVar(&f.from, "from", "", "RFC 3339: first occurred_at of the actions whose updates are written (required)")
	fs.StringVar(&f.to, "to", "", "RFC 3339: end (exclusive) of the window (default: now)")
	fs.DurationVar(&cfg.Warmup, "warmup", 0, "start at the offsets of from − warmup instead of the earliest (faster; see README)")
	fs.StringVar(&f.startOffsets, "start-offsets", "", "start offsets, P:OFFSET or TOPIC:P:OFFSET, comma-separated")
	fs.StringVar(&f.endOffsets, "end-offsets", "", "end offsets (exclusive), same form (default: the end when replay starts)")
	fs.StringVar(&f.partitions, "partitions", "", "partition numbers to replay, e.g. 0-5 or 0,2,4-7 (default: all)")
	fs.StringVar(&f.outputTopic, "output-topic", "", "write Avro updates to this topic, as run does")
	fs.StringVar(&f.outputFile, "output-file", "", "write updates as JSON lines in the reduce format (- for stdout)")
	fs.BoolVar(&f.dryRun, "dry-run", false, "write nothing, count only")
	bindNostoFlags(fs, &f.nosto, &f.secrets)
	fs.StringVar(&f.dlqTopic, "dlq-topic", consumer.DefaultDeadLetterTopic, "with --nosto-endpoint: where updates Nosto refuses go")
	fs.StringVar(&f.logLevel, "log-level", "warn", "debug, info, warn or error")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if err := f.apply(&cfg, time.Now()); err != nil {
		return err
	}
	if err := kafkaflags.LoadSecrets(&connCfg, passwordFile); err != nil {
		return err
	}
	log, err := newLogger(io.err, f.logLevel)
	if err != nil {
		return usagef("%v", err)
	}
	return replay(ctx, &cfg, &f, connCfg, log, io)
}

// apply checks the replay flags and sets cfg from them.
func (f *replayFlags) apply(cfg *consumer.ReplayConfig, now time.Time) error {
	if err := f.wire.load(); err != nil {
		return err
	}
	outputs := 0
	for _, on := range []bool{f.outputTopic != "", f.outputFile != "", f.nosto.Endpoint != "", f.dryRun} {
		if on {
			outputs++
		}
	}
	if outputs != 1 {
		return usagef("exactly one of --output-topic, --output-file, --nosto-endpoint and --dry-run is required (%d given)", outputs)
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

// replay sets up the output, runs the replay and prints the summary.
func replay(ctx context.Context, cfg *consumer.ReplayConfig, f *replayFlags, connCfg kclient.ConnConfig, log *slog.Logger, io stdio) error {
	conn, err := kclient.NewConn(connCfg)
	if err != nil {
		return usagef("kafka connection: %v", err)
	}
	defer conn.Close()
	if err := conn.Probe(ctx); err != nil {
		return fmt.Errorf("kafka: %w", err)
	}
	codecs, err := schemas.Load()
	if err != nil {
		return err
	}
	reg, err := f.wire.open(log)
	if err != nil {
		return err
	}
	if cfg.Decoder, err = decoderFor(reg, codecs); err != nil {
		return err
	}
	cfg.Conn, cfg.Logger = conn, log
	finish, err := replaySink(ctx, cfg, f, conn, codecs, reg, io)
	if err != nil {
		return err
	}
	cfg.Progress = progressReporter(io.err)
	sum, err := consumer.Replay(ctx, *cfg)
	if ferr := finish(); err == nil {
		err = ferr
	}
	if errors.Is(err, consumer.ErrUnknownPartition) {
		return usagef("--partitions: %v", err)
	}
	if err != nil {
		return err
	}
	line, _ := json.Marshal(sum)
	fmt.Fprintf(io.err, "%s\n", line)
	return nil
}

// replaySink builds the one output and returns what finishes it.
func replaySink(ctx context.Context, cfg *consumer.ReplayConfig, f *replayFlags, conn *kclient.Conn, codecs *schemas.Codecs,
	reg *confluent.Registry, std stdio) (func() error, error) {
	switch {
	case f.outputTopic != "":
		if _, err := kclient.PartitionCounts(ctx, conn.Client(), f.outputTopic); err != nil {
			return nil, fmt.Errorf("output topic: %w (create it first)", err)
		}
		enc, err := updateEncoderFor(ctx, reg, codecs, f.outputTopic)
		if err != nil {
			return nil, err
		}
		kc := emitter.DefaultKafkaConfig()
		kc.Conn, kc.Topic, kc.Encoder = conn, f.outputTopic, enc
		sink, err := emitter.NewKafkaSink(kc)
		if err != nil {
			return nil, err
		}
		cfg.Sinks = []consumer.Sink{sink}
		return sink.Close, nil
	case f.outputFile != "":
		var w io.Writer = std.out
		var file *os.File
		if f.outputFile != "-" {
			var err error
			if file, err = os.Create(f.outputFile); err != nil {
				return nil, fmt.Errorf("--output-file: %w", err)
			}
			w = file
		}
		sink := emitter.NewFileSink(w)
		cfg.Sinks = []consumer.Sink{sink}
		return func() error {
			err := sink.Flush()
			if file != nil {
				if cerr := file.Close(); err == nil {
					err = cerr
				}
			}
			return err
		}, nil
	}
	if f.nosto.Endpoint != "" {
		enc, err := updateEncoderFor(ctx, reg, codecs, f.dlqTopic)
		if err != nil {
			return nil, err
		}
		return replayNostoSink(cfg, f, conn, enc)
	}
	cfg.Sinks = []consumer.Sink{emitter.CountSink{}}
	return func() error { return nil }, nil
}

// replayNostoSink sends the window's updates to Nosto; what Nosto refuses
// goes to --dlq-topic, as with run.
func replayNostoSink(cfg *consumer.ReplayConfig, f *replayFlags, conn *kclient.Conn, enc emitter.UpdateEncoder) (func() error, error) {
	token, key, err := f.secrets.read(os.LookupEnv)
	if err != nil {
		return nil, err
	}
	dlq := conn.Writer(f.dlqTopic, &kafka.Murmur2Balancer{})
	nc := f.nosto
	nc.Token, nc.Logger = token, cfg.Logger
	nc.DeadLetter = func(ctx context.Context, u *reducer.Update, nf emitter.NostoFailure) error {
		msg, err := emitter.NostoDeadLetter(enc, u, nf)
		if err != nil {
			return err
		}
		return kclient.Write(ctx, dlq, []kafka.Message{msg}, kclient.RetryPolicy{}, nil)
	}
	sink, err := emitter.NewNostoSink(nc)
	if err != nil {
		dlq.Close()
		return nil, configError(err)
	}
	var s consumer.Sink = sink
	if len(key) > 0 {
		s = emitter.HashReferences(sink, key)
	}
	cfg.Sinks = []consumer.Sink{s}
	return dlq.Close, nil
}

// progressReporter draws a progress bar when stderr is a terminal, and
// writes a JSON progress line every few seconds otherwise.
func progressReporter(w io.Writer) func(done, total int64) {
	if f, ok := w.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		var bar *progressbar.ProgressBar
		return func(done, total int64) {
			if bar == nil {
				bar = progressbar.NewOptions64(total, progressbar.OptionSetWriter(w), progressbar.OptionSetDescription("replay"),
					progressbar.OptionShowCount(), progressbar.OptionShowIts(), progressbar.OptionSetItsString("events"),
					progressbar.OptionThrottle(200*time.Millisecond), progressbar.OptionOnCompletion(func() { fmt.Fprintln(w) }))
			}
			bar.Set64(done)
		}
	}
	var last time.Time
	begin := time.Now()
	log := slog.New(slog.NewJSONHandler(w, nil))
	return func(done, total int64) {
		if time.Since(last) < 5*time.Second && done < total {
			return
		}
		last = time.Now()
		rate := float64(done) / max(time.Since(begin).Seconds(), 0.001)
		eta := time.Duration(0)
		if rate > 0 {
			eta = time.Duration(float64(total-done)/rate) * time.Second
		}
		log.Info("replay progress", "events", done, "total", total, "events_per_second", int64(rate), "eta", eta.String())
	}
}
