package service

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/segmentio/kafka-go"
	"github.com/sessiond/sessiond/consumer"
	"github.com/sessiond/sessiond/emitter"
	"github.com/sessiond/sessiond/internal/buildinfo"
	"github.com/sessiond/sessiond/internal/kclient"
	"github.com/sessiond/sessiond/reducer"
	"github.com/sessiond/sessiond/schemas"
	"github.com/sessiond/sessiond/schemas/confluent"
	"golang.org/x/sync/errgroup"
)

// Service is the assembled pipeline with its sinks and endpoints.
type Service struct {
	cfg      Config
	conn     *kclient.Conn
	log      *slog.Logger
	proc     *consumer.Processor
	closers  []io.Closer
	registry *prometheus.Registry
	rates    rates // for the status page
	// With the confluent wire format: the registry and the encoders whose
	// schemas Run registers before the pipeline starts.
	schemaRegistry *confluent.Registry
	updateEncoders []registration
}

// registration is an output encoder and the topic its schema is
// registered for.
type registration struct {
	enc   *confluent.UpdateEncoder
	topic string
}

// New builds the service from cfg: codecs, sinks, processor and metrics.
// It does no I/O.
func New(cfg Config, log *slog.Logger) (*Service, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	codecs, err := schemas.Load()
	if err != nil {
		return nil, err
	}
	conn, err := kclient.NewConn(cfg.Conn)
	if err != nil {
		return nil, fmt.Errorf("kafka connection: %w", err)
	}
	cfg.Consumer.Conn = conn
	cfg.Consumer.Logger = log
	cfg.Consumer.Decoder, cfg.Consumer.Snapshots = consumer.RawDecoder(codecs), codecs
	s := &Service{cfg: cfg, conn: conn, log: log, registry: prometheus.NewRegistry()}
	s.registry.MustRegister(prometheus.NewGoCollector(), prometheus.NewProcessCollector(prometheus.ProcessCollectorOpts{}), buildInfoGauge())
	s.registry.MustRegister(kafkaRequestMetrics(conn)...)
	if err := cfg.Consumer.Metrics.Register(s.registry); err != nil {
		return nil, fmt.Errorf("register metrics: %w", err)
	}
	if cfg.WireFormat == WireConfluent {
		if err := s.newConfluent(codecs); err != nil {
			return nil, err
		}
	}
	sinks, err := s.newSinks(codecs)
	if err != nil {
		return nil, err
	}
	s.cfg.Consumer.Sinks = sinks
	if s.proc, err = consumer.New(s.cfg.Consumer); err != nil {
		s.closeSinks()
		return nil, err
	}
	return s, nil
}

// buildInfoGauge is sessiond_build_info{version,commit,goversion} = 1.
func buildInfoGauge() prometheus.Collector {
	bi := buildinfo.Get()
	g := prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "sessiond_build_info",
		Help: "The running build: always 1, with its version, commit and Go version as labels."}, []string{"version", "commit", "goversion"})
	g.WithLabelValues(bi.Version, bi.Commit, bi.GoVersion).Set(1)
	return g
}

// newNostoSink builds the Nosto sink; what it cannot deliver goes to the
// dead-letter topic as the Avro update, with the reason, the HTTP status
// and Nosto's request id in headers.
func (s *Service) newNostoSink(codecs *schemas.Codecs) (*emitter.NostoSink, error) {
	nc := s.cfg.Nosto
	nc.Logger = s.log
	nc.Metrics = emitter.NewNostoMetrics()
	if err := nc.Metrics.Register(s.registry); err != nil {
		return nil, fmt.Errorf("register metrics: %w", err)
	}
	dlq := s.conn.BatchWriter(s.cfg.Consumer.DeadLetterTopic, &kafka.Murmur2Balancer{})
	s.closers = append(s.closers, dlq)
	retries := s.cfg.Consumer.Metrics.WriteRetries.WithLabelValues("dlq")
	var enc emitter.UpdateEncoder = codecs
	if s.schemaRegistry != nil {
		enc = s.updateEncoder(codecs, s.cfg.Consumer.DeadLetterTopic)
	}
	nc.DeadLetter = func(ctx context.Context, u *reducer.Update, f emitter.NostoFailure) error {
		msg, err := emitter.NostoDeadLetter(enc, u, f)
		if err != nil {
			return err
		}
		return kclient.Write(ctx, dlq, []kafka.Message{msg}, s.cfg.Consumer.Retry, func(error, time.Duration) { retries.Inc() })
	}
	return emitter.NewNostoSink(nc)
}

// newSinks builds the configured sinks.
func (s *Service) newSinks(codecs *schemas.Codecs) ([]consumer.Sink, error) {
	var sinks []consumer.Sink
	if s.cfg.nostoSinkOn() {
		sink, err := s.newNostoSink(codecs)
		if err != nil {
			return nil, err
		}
		sinks = append(sinks, sink)
	}
	if s.cfg.kafkaSinkOn() {
		kc := s.cfg.Kafka
		kc.Conn, kc.Encoder = s.conn, codecs
		if s.schemaRegistry != nil {
			kc.Encoder = s.updateEncoder(codecs, kc.Topic)
		}
		kc.OnRetry = s.onSinkRetry("kafka")
		sink, err := emitter.NewKafkaSink(kc)
		if err != nil {
			return nil, err
		}
		sinks = append(sinks, sink)
		s.closers = append(s.closers, sink)
	}
	if len(s.cfg.HMACKey) > 0 {
		for i, sink := range sinks {
			sinks[i] = emitter.HashReferences(sink, s.cfg.HMACKey)
		}
	}
	return sinks, nil
}

func (s *Service) onSinkRetry(name string) func(error, time.Duration) {
	retries := s.cfg.Consumer.Metrics.WriteRetries.WithLabelValues("sink")
	return func(err error, wait time.Duration) {
		retries.Inc()
		s.log.Warn("sink write failed, retrying", "sink", name, "error", err, "wait", wait)
	}
}

func (s *Service) closeSinks() {
	for _, c := range s.closers {
		c.Close()
	}
}

// Status is the pipeline's readiness.
func (s *Service) Status() *consumer.Status { return s.cfg.Consumer.Status }

// Registry is the service's metrics registry.
func (s *Service) Registry() *prometheus.Registry { return s.registry }

// Partitions is the input partition count, known once Run has checked the
// topics.
func (s *Service) Partitions() int { return s.proc.Partitions() }

// Check verifies what Run needs from the cluster without changing it: the
// brokers answer with the configured security (fast, naming the broker and
// the cause otherwise), the inputs exist and are co-partitioned, and the
// output topic exists.
func (s *Service) Check(ctx context.Context) error {
	if s.cfg.Conn.TLS.InsecureSkipVerify {
		s.log.Warn("TLS certificate verification is OFF (--kafka-tls-insecure-skip-verify): the brokers are not authenticated")
	}
	if err := s.conn.Probe(ctx); err != nil {
		return fmt.Errorf("kafka: %w", err)
	}
	if err := s.proc.Check(ctx); err != nil {
		return err
	}
	if s.cfg.kafkaSinkOn() {
		if _, err := kclient.PartitionCounts(ctx, s.conn.Client(), s.cfg.Kafka.Topic); err != nil {
			return fmt.Errorf("output topic: %w (create it first)", err)
		}
	}
	return nil
}

// Run checks the cluster and the HTTP address, then creates what is
// missing, then serves until ctx ends and drains. ready, if not nil, is
// called with the HTTP listener's address once everything is checked.
func (s *Service) Run(ctx context.Context, ready func(httpAddr net.Addr)) error {
	defer s.conn.Close() // after the sinks: their last writes go through it
	defer s.closeSinks()
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
	if err := s.registerSchemas(ctx); err != nil {
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
	var addr net.Addr
	if ln != nil {
		addr = ln.Addr()
	}
	s.log.Info("starting", "kafka", s.conn.String(), "group", s.cfg.Consumer.Group,
		"partitions", s.proc.Partitions(), "http", addr, "pid", os.Getpid())
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
		s.log.Info("drained")
		return err
	})
	return g.Wait()
}
