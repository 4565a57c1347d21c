package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"

	"github.com/sessiond/sessiond/internal/kafkautil"

	"golang.org/x/sync/errgroup"
)

func init() {
	register("run", command{summary: "run the service: consume, reduce, emit", run: runService})
}

// bindPipelineFlags declares the pipeline flags with DESIGN §5's defaults.
func bindPipelineFlags(fs *flag.FlagSet, f *pipelineFlags) {
	fs.StringVar(&f.brokers, "brokers", "localhost:9092", "bootstrap brokers, comma-separated")
	fs.StringVar(&f.group, "group", "sessiond", "consumer group; also prefixes the changelog topic <group>-snapshots")
	fs.StringVar(&f.cartTopic, "cart-topic", "cart-changed", "cart_changed input topic")
	fs.StringVar(&f.customerTopic, "customer-topic", "customer-changed", "customer_changed input topic")
	fs.StringVar(&f.actionTopic, "action-topic", "actions", "action input topic")
	fs.StringVar(&f.outputTopic, "output-topic", "nosto-session-updates", "topic receiving session updates")
	fs.StringVar(&f.dlqTopic, "dlq-topic", "sessiond-dlq", "dead-letter topic for rejected records")
	fs.StringVar(&f.wireFormat, "wire-format", "raw", "input wire format: raw (bare Avro binary)")
	fs.DurationVar(&f.sessionTTL, "session-ttl", consumerDefaultTTL, "event-time inactivity after which a snapshot expires")
	fs.DurationVar(&f.maxIdle, "max-idle", consumerDefaultMaxIdle, "how long a caught-up input partition is waited for")
	fs.StringVar(&f.httpAddr, "http-addr", ":8080", "address of /livez, /readyz and /metrics (empty: off)")
	fs.StringVar(&f.logLevel, "log-level", "info", "debug, info, warn or error")
	fs.IntVar(&f.maxBatch, "max-batch", consumerDefaultMaxBatch, "events per partition between two flushes")
	fs.DurationVar(&f.sessionTimeout, "group-session-timeout", consumerDefaultSessionTimeout, "consumer group session timeout: how soon a dead member's partitions move")
}

func runService(ctx context.Context, args []string, io stdio) error {
	var f pipelineFlags
	fs := newFlagSet("run", io.err)
	bindPipelineFlags(fs, &f)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	log, err := newLogger(io.err, f.logLevel)
	if err != nil {
		return err
	}
	p, err := newPipeline(&f, log)
	if err != nil {
		return err
	}
	if err := p.proc.Prepare(ctx); err != nil {
		return err
	}
	if _, err := kafkautil.PartitionCounts(ctx, kafkautil.NewClient(kafkautil.Brokers(f.brokers)), f.outputTopic); err != nil {
		return fmt.Errorf("output topic: %w (create it first)", err)
	}
	log.Info("starting", "brokers", f.brokers, "group", f.group, "partitions", p.proc.Partitions(), "pid", os.Getpid())
	g, gctx := errgroup.WithContext(ctx)
	if f.httpAddr != "" {
		srv, err := newOpsServer(f.httpAddr, p.status, p.reg)
		if err != nil {
			return fmt.Errorf("listen on %s: %w", f.httpAddr, err)
		}
		g.Go(func() error { return srv.serve(gctx) })
	}
	g.Go(func() error {
		err := p.run(gctx)
		log.Info("drained")
		return err
	})
	return g.Wait()
}

func newLogger(w interface{ Write([]byte) (int, error) }, level string) (*slog.Logger, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(level)); err != nil {
		return nil, fmt.Errorf("--log-level: %w", err)
	}
	return slog.New(slog.NewJSONHandler(w, &slog.HandlerOptions{Level: l})), nil
}
