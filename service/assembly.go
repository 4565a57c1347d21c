package service

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/segmentio/kafka-go"
	"github.com/sessiond/sessiond/consumer"
	"github.com/sessiond/sessiond/emitter"
	"github.com/sessiond/sessiond/internal/config"
	"github.com/sessiond/sessiond/internal/kclient"
	"github.com/sessiond/sessiond/reducer"
	"github.com/sessiond/sessiond/schemas"
	"github.com/sessiond/sessiond/schemas/confluent"
)

// assembly is what every pipeline is built from, once per command and the
// same way for `run`, `demo`, `replay` and sessiond-load: the connection,
// the codecs, the Schema Registry and the input decoder for the wire
// format, the sinks (each behind the HMAC hasher when a key is set) and
// the one dead-letter writer they share. What it opened, close releases,
// also when building failed half-way.
type assembly struct {
	common   Common
	log      *slog.Logger
	metrics  *prometheus.Registry // nil: nothing is registered (replay)
	conn     *kclient.Conn
	codecs   *schemas.Codecs
	registry *confluent.Registry // nil with the raw wire format
	decoder  consumer.Decoder
	// encoders are the update encoders whose schemas registerSchemas
	// registers before the pipeline starts.
	encoders []registration
	nosto    *emitter.NostoSink // nil: no Nosto sink
	closers  []func() error
	closed   bool
}

// registration is an output encoder and the topic its schema is
// registered for.
type registration struct {
	enc   *confluent.UpdateEncoder
	topic string
}

// openAssemblies counts the assemblies built and not closed yet: what the
// tests check to prove that a failed New or Replay leaks nothing.
var openAssemblies atomic.Int64

// assemble builds the parts every pipeline shares from c (already
// validated). It does no I/O. metrics, if not nil, receives the schema
// registry's metrics.
func assemble(c Common, log *slog.Logger, metrics *prometheus.Registry) (a *assembly, err error) {
	a = &assembly{common: c, log: log, metrics: metrics}
	openAssemblies.Add(1)
	defer func() {
		if err != nil {
			a.close()
		}
	}()
	if a.codecs, err = schemas.Load(); err != nil {
		return nil, err
	}
	if a.conn, err = kclient.NewConn(c.Conn); err != nil {
		return nil, fmt.Errorf("kafka connection: %w", err)
	}
	a.decoder = consumer.RawDecoder(a.codecs)
	if c.WireFormat == WireConfluent {
		if err := a.openRegistry(); err != nil {
			return nil, err
		}
	}
	return a, nil
}

// openRegistry builds the Schema Registry client and the framed decoder.
func (a *assembly) openRegistry() error {
	var m *confluent.Metrics
	if a.metrics != nil {
		m = confluent.NewMetrics()
		if err := m.Register(a.metrics); err != nil {
			return fmt.Errorf("register metrics: %w", err)
		}
	}
	reg, err := confluent.NewRegistry(a.common.Registry, m, a.log)
	if err != nil {
		return fmt.Errorf("schema registry: %w", err)
	}
	dec, err := confluent.NewDecoder(reg, a.codecs)
	if err != nil {
		return err
	}
	a.registry, a.decoder = reg, dec
	return nil
}

// updateEncoder returns the encoder of updates written to topic: bare
// Avro, or framed with the id of session_update.avsc under the topic's
// subject, which registerSchemas registers.
func (a *assembly) updateEncoder(topic string) emitter.UpdateEncoder {
	if a.registry == nil {
		return a.codecs
	}
	enc := &confluent.UpdateEncoder{Codecs: a.codecs}
	a.encoders = append(a.encoders, registration{enc: enc, topic: topic})
	return enc
}

// registerSchemas registers session_update.avsc under the subject of each
// topic updates are written to ("<topic>-value"), retrying while the
// registry cannot be reached.
func (a *assembly) registerSchemas(ctx context.Context) error {
	for _, r := range a.encoders {
		if err := r.enc.Register(ctx, a.registry, r.topic); err != nil {
			return fmt.Errorf("schema registry: %w", err)
		}
		a.log.Info("schema registered", "subject", confluent.Subject(r.topic), "id", r.enc.ID())
	}
	return nil
}

// deadLetterWriter returns the process's one writer of topic's dead
// letters, through the connection's shared producer.
func (a *assembly) deadLetterWriter(topic string) *kclient.TopicWriter {
	w := a.conn.BatchWriter(topic, &kafka.Murmur2Balancer{})
	a.closers = append(a.closers, w.Close)
	return w
}

// sinkPlan is which sinks a pipeline has and how they retry.
type sinkPlan struct {
	// deadLetters receive the updates Nosto refuses (required with Nosto).
	deadLetters  kclient.MessageWriter
	deadTopic    string
	retry        kclient.RetryPolicy
	nostoMetrics *emitter.NostoMetrics // nil: a set registered nowhere
	// onRetry, if set, is told of a failed attempt of target ("sink",
	// "dlq") before its retry.
	onRetry func(target string) func(error, time.Duration)
	// extra are sinks of the command's own (a file, a dry run).
	extra []consumer.Sink
}

// sinks builds Common's sinks and plan's extras, in that order, each
// behind the HMAC hasher when a key is set: no sink ever sends a raw
// customer_reference when the key is given.
func (a *assembly) sinks(plan sinkPlan) ([]consumer.Sink, error) {
	var out []consumer.Sink
	if a.common.nostoSinkOn() {
		s, err := a.nostoSink(plan)
		if err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	if a.common.kafkaSinkOn() {
		s, err := a.kafkaSink(plan)
		if err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	out = append(out, plan.extra...)
	if len(a.common.HMACKey) > 0 {
		for i, s := range out {
			out[i] = emitter.HashReferences(s, a.common.HMACKey)
		}
	}
	return out, nil
}

func (a *assembly) kafkaSink(plan sinkPlan) (*emitter.KafkaSink, error) {
	kc := a.common.Kafka
	kc.Conn, kc.Encoder, kc.Retry = a.conn, a.updateEncoder(kc.Topic), plan.retry
	if plan.onRetry != nil {
		kc.OnRetry = plan.onRetry("sink")
	}
	s, err := emitter.NewKafkaSink(kc)
	if err != nil {
		return nil, config.Within("Kafka", err)
	}
	a.closers = append(a.closers, s.Close)
	return s, nil
}

// nostoSink builds the Nosto sink; what it cannot deliver goes to the
// dead-letter writer as the Avro update, with the reason, the HTTP status
// and Nosto's request id in headers.
func (a *assembly) nostoSink(plan sinkPlan) (*emitter.NostoSink, error) {
	if plan.deadLetters == nil {
		return nil, errors.New("service: the Nosto sink has no dead-letter writer")
	}
	nc := a.common.Nosto
	nc.Logger = a.log
	nc.Metrics = plan.nostoMetrics
	if nc.Metrics == nil {
		nc.Metrics = emitter.NewNostoMetrics()
	}
	enc := a.updateEncoder(plan.deadTopic)
	var notify func(error, time.Duration)
	if plan.onRetry != nil {
		notify = plan.onRetry("dlq")
	}
	nc.DeadLetter = func(ctx context.Context, u *reducer.Update, f emitter.NostoFailure) error {
		msg, err := emitter.NostoDeadLetter(enc, u, f)
		if err != nil {
			return err
		}
		return kclient.Write(ctx, plan.deadLetters, []kafka.Message{msg}, plan.retry, notify)
	}
	s, err := emitter.NewNostoSink(nc)
	if err != nil {
		return nil, config.Within("Nosto", err)
	}
	a.nosto = s
	return s, nil
}

// probeNosto checks once that the Nosto endpoint answers and takes the
// token, sending no update. A host that does not resolve, an untrusted
// certificate or a refused token is returned: the configuration is
// wrong. No answer (a refused connection, a time-out, 5xx) is a warning:
// Nosto may come up later, and the sink retries every update until it
// does. Without a Nosto sink it does nothing.
func (a *assembly) probeNosto(ctx context.Context) error {
	if a.nosto == nil {
		return nil
	}
	err := a.nosto.Probe(ctx)
	switch {
	case err == nil:
		return nil
	case errors.Is(err, emitter.ErrNostoUnreachable):
		a.log.Warn("nosto does not answer at start (--nosto-endpoint); going on: each update is retried for up to --nosto-max-retry, then dead-lettered",
			"error", err)
		return nil
	}
	return fmt.Errorf("start-up check: %w", config.Within("Nosto", err))
}

// close releases what the assembly opened, the connection last. It may be
// called more than once.
func (a *assembly) close() error {
	if a.closed {
		return nil
	}
	a.closed = true
	openAssemblies.Add(-1)
	var errs []error
	for i := len(a.closers) - 1; i >= 0; i-- {
		errs = append(errs, a.closers[i]())
	}
	a.closers = nil
	if a.conn != nil {
		errs = append(errs, a.conn.Close())
		a.conn = nil
	}
	return errors.Join(errs...)
}
