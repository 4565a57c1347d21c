package service

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"os"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/sessiond/sessiond/consumer"
	"github.com/sessiond/sessiond/emitter"
	"github.com/sessiond/sessiond/internal/buildinfo"
	"github.com/sessiond/sessiond/internal/config"
	"github.com/sessiond/sessiond/internal/kclient"
	"golang.org/x/sync/errgroup"
)

// Service is the assembled live pipeline with its sinks and endpoints.
type Service struct {
	cfg      Config
	parts    *assembly
	log      *slog.Logger
	proc     *consumer.Processor
	registry *prometheus.Registry
	rates    rates // for the status page
}

// New builds the service from cfg: codecs, sinks, processor and metrics.
// It does no I/O. When it fails, what it built is released.
func New(cfg Config, log *slog.Logger) (_ *Service, err error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if err := cfg.Consumer.ValidateSettings(); err != nil {
		return nil, config.Within("Consumer", err)
	}
	s := &Service{cfg: cfg, log: log, registry: prometheus.NewRegistry()}
	if s.parts, err = assemble(cfg.Common, log, s.registry); err != nil {
		return nil, err
	}
	defer func() {
		if err != nil {
			s.parts.close()
		}
	}()
	c := &s.cfg.Consumer
	c.Conn, c.Logger, c.Decoder, c.Snapshots = s.parts.conn, log, s.parts.decoder, s.parts.codecs
	s.registry.MustRegister(prometheus.NewGoCollector(), prometheus.NewProcessCollector(prometheus.ProcessCollectorOpts{}), buildInfoGauge())
	s.registry.MustRegister(kafkaRequestMetrics(s.parts.conn)...)
	if err := c.Metrics.Register(s.registry); err != nil {
		return nil, fmt.Errorf("register metrics: %w", err)
	}
	var nostoMetrics *emitter.NostoMetrics
	if cfg.nostoSinkOn() {
		nostoMetrics = emitter.NewNostoMetrics()
		if err := nostoMetrics.Register(s.registry); err != nil {
			return nil, fmt.Errorf("register metrics: %w", err)
		}
	}
	c.DeadLetters = s.parts.deadLetterWriter(c.DeadLetterTopic)
	if c.Sinks, err = s.parts.sinks(sinkPlan{deadLetters: c.DeadLetters, deadTopic: c.DeadLetterTopic,
		retry: c.Retry, nostoMetrics: nostoMetrics, onRetry: s.onRetry}); err != nil {
		return nil, err
	}
	if s.proc, err = consumer.New(*c); err != nil {
		return nil, config.Within("Consumer", err)
	}
	s.warnGuarantee()
	return s, nil
}

// warnGuarantee says at start what exactly once cannot cover: the Nosto
// sink is an HTTP API, outside any Kafka transaction.
func (s *Service) warnGuarantee() {
	cfg := &s.cfg
	if !cfg.Consumer.ExactlyOnce() || !cfg.nostoSinkOn() {
		return
	}
	if !cfg.kafkaSinkOn() {
		s.log.Warn("--processing-guarantee exactly-once with only the Nosto sink: Nosto's API cannot take part in a Kafka transaction, so updates re-processed after a crash or an aborted transaction are sent to Nosto again (the same update, with the update_id as its Idempotency-Key); exactly once covers the changelog, the dead letters and the offsets only")
		return
	}
	s.log.Warn("--processing-guarantee exactly-once: the Kafka output topic is written in transactions, the Nosto sink cannot be; Nosto may receive an update again after a crash or an aborted transaction (same update_id as its Idempotency-Key)")
}

// buildInfoGauge is sessiond_build_info{version,commit,goversion} = 1.
func buildInfoGauge() prometheus.Collector {
	bi := buildinfo.Get()
	g := prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "sessiond_build_info",
		Help: "The running build: always 1, with its version, commit and Go version as labels."}, []string{"version", "commit", "goversion"})
	g.WithLabelValues(bi.Version, bi.Commit, bi.GoVersion).Set(1)
	return g
}

// onRetry counts a failed write of target and logs it before its retry.
func (s *Service) onRetry(target string) func(error, time.Duration) {
	retries := s.cfg.Consumer.Metrics.WriteRetries.WithLabelValues(target)
	return func(err error, wait time.Duration) {
		retries.Inc()
		s.log.Warn("write failed, retrying", "target", target, "error", err, "wait", wait)
	}
}

// Close releases what New built (writers, the connection). Run calls it
// on return; a Service that is never run must be closed.
func (s *Service) Close() error { return s.parts.close() }

// Status is the pipeline's readiness.
func (s *Service) Status() *consumer.Status { return s.cfg.Consumer.Status }

// Registry is the service's metrics registry.
func (s *Service) Registry() *prometheus.Registry { return s.registry }

// Partitions is the input partition count, known once Run has checked the
// topics.
func (s *Service) Partitions() int { return s.proc.Partitions() }

// Check verifies what Run needs from the cluster without changing it: the
// brokers answer with the configured security (fast, naming the broker and
// the cause otherwise), the inputs exist and are co-partitioned, the
// output topic exists, and Nosto, if it is a sink, takes the token
// (assembly.probeNosto).
func (s *Service) Check(ctx context.Context) error {
	if s.cfg.Conn.TLS.InsecureSkipVerify {
		s.log.Warn("TLS certificate verification is OFF (--kafka-tls-insecure-skip-verify): the brokers are not authenticated")
	}
	if err := s.parts.conn.Probe(ctx); err != nil {
		return fmt.Errorf("kafka: %w", config.Within("Conn", err))
	}
	if err := s.proc.Check(ctx); err != nil {
		return err
	}
	if s.cfg.kafkaSinkOn() {
		if _, err := kclient.PartitionCounts(ctx, s.parts.conn.Client(), s.cfg.Kafka.Topic); err != nil {
			return fmt.Errorf("output topic: %w (create it first)", err)
		}
	}
	return s.parts.probeNosto(ctx)
}

// Run checks the cluster and the HTTP address, then creates what is
// missing, then serves until ctx ends and drains. ready, if not nil, is
// called with the HTTP listener's address once everything is checked.
func (s *Service) Run(ctx context.Context, ready func(httpAddr net.Addr)) error {
	defer s.Close()
	if err := s.Check(ctx); err != nil {
		return err
	}
	var ln net.Listener
	if s.cfg.HTTPAddr != "" {
		var err error
		if ln, err = net.Listen("tcp", s.cfg.HTTPAddr); err != nil {
			return fmt.Errorf("listen on %s: %w", s.cfg.HTTPAddr, err)
		}
	}
	if err := s.parts.registerSchemas(ctx); err != nil {
		if ln != nil {
			ln.Close()
		}
		return err
	}
	if err := s.proc.Prepare(ctx); err != nil {
		if ln != nil {
			ln.Close()
		}
		return err
	}
	s.warnUnreplicated(ctx)
	var addr net.Addr
	httpAddr := "" // off: "" rather than null
	if ln != nil {
		addr = ln.Addr()
		httpAddr = addr.String()
	}
	s.log.Info("starting", "kafka", s.parts.conn.String(), "group", s.cfg.Consumer.Group,
		"partitions", s.proc.Partitions(), "http", httpAddr, "pid", os.Getpid())
	if ready != nil {
		ready(addr)
	}
	g, gctx := errgroup.WithContext(ctx)
	if ln != nil {
		g.Go(func() error { return serveHTTP(gctx, ln, s.Handler()) })
		g.Go(func() error { return s.sampleRates(gctx) })
	}
	g.Go(func() error {
		err := s.proc.Run(gctx)
		s.logDrained(s.proc.LastDrain())
		return err
	})
	return g.Wait()
}

// logDrained logs the end of the drain: what was flushed and committed
// after the context ended, and how long it took.
func (s *Service) logDrained(d consumer.DrainSummary) {
	if !d.Drained {
		s.log.Info("drained")
		return
	}
	s.log.Info("drained", "partitions", d.Partitions, "events", d.Events, "updates", d.Updates,
		"snapshots_written", d.SnapshotsWritten, "offsets_committed", d.OffsetsCommitted, "took", d.Took)
}

// warnUnreplicated warns, in the log and on the status page, about each
// topic sessiond depends on (inputs, output, changelog) that has a single
// replica on a cluster of more than one broker: losing that broker loses
// the topic's data, which no setting of sessiond can make up for. It
// checks only; a failure to read the metadata is logged and ignored.
func (s *Service) warnUnreplicated(ctx context.Context) {
	in := s.cfg.Consumer.InputTopics()
	topics := append(in[:], s.cfg.Consumer.Changelog())
	if s.cfg.kafkaSinkOn() {
		topics = append(topics, s.cfg.Kafka.Topic)
	}
	reps, brokers, err := kclient.Replications(ctx, s.parts.conn.Client(), topics...)
	if err != nil {
		s.log.Warn("could not check the topics' replication", "error", err)
		return
	}
	for _, t := range topics {
		if r, ok := reps[t]; ok && r.Factor == 1 && brokers > 1 {
			msg := fmt.Sprintf("topic %s has replication factor 1 on a cluster of %d brokers: a broker lost is its data lost", t, brokers)
			s.log.Warn(msg, "topic", t, "brokers", brokers)
			s.Status().Warn(msg)
		}
	}
}
