package emitter

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/segmentio/kafka-go"
	"github.com/sessiond/sessiond/internal/config"
	"github.com/sessiond/sessiond/internal/kclient"
	"github.com/sessiond/sessiond/reducer"
)

// UpdateEncoder encodes one update as a record value.
type UpdateEncoder interface {
	EncodeUpdate(dst []byte, u *reducer.Update) ([]byte, error)
}

// KafkaConfig configures a KafkaSink. Start from DefaultKafkaConfig.
type KafkaConfig struct {
	// Conn makes the connections (brokers, TLS, SASL). Required.
	Conn *kclient.Conn
	// Topic receives the updates. Default: "nosto-session-updates".
	Topic string
	// Encoder encodes updates (schemas.Codecs). Required.
	Encoder UpdateEncoder
	// Retry bounds one Write's retries of the records that failed. Default:
	// kclient.DefaultRetryPolicy (50ms doubling to 5s, until the context
	// ends).
	Retry kclient.RetryPolicy
	// OnRetry, if set, is told of each failed attempt (for logs and metrics).
	OnRetry func(err error, wait time.Duration)
}

// DefaultTopic is KafkaConfig.Topic's default.
const DefaultTopic = "nosto-session-updates"

// DefaultKafkaConfig returns the defaults; Conn and Encoder are left to the
// caller.
func DefaultKafkaConfig() KafkaConfig {
	return KafkaConfig{Topic: DefaultTopic, Retry: kclient.DefaultRetryPolicy()}
}

// Validate reports the first problem with c. It changes nothing.
func (c *KafkaConfig) Validate() error {
	switch {
	case c.Conn == nil:
		return errors.New("emitter: no Kafka connection")
	case c.Topic == "":
		return config.Errorf("Topic", "emitter: no output topic")
	case c.Encoder == nil:
		return errors.New("emitter: no encoder")
	}
	return config.Within("Retry", c.Retry.Validate())
}

// KafkaSink writes updates to a Kafka topic. It is safe for concurrent use.
type KafkaSink struct {
	cfg    KafkaConfig
	writer *kclient.TopicWriter
}

// NewKafkaSink returns a sink writing to cfg.Topic.
func NewKafkaSink(cfg KafkaConfig) (*KafkaSink, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	w := cfg.Conn.BatchWriter(cfg.Topic, &kafka.Murmur2Balancer{})
	return &KafkaSink{cfg: cfg, writer: w}, nil
}

// Write encodes the updates and writes them, retrying failed records until
// all are acknowledged or ctx ends.
func (s *KafkaSink) Write(ctx context.Context, updates []*reducer.Update) error {
	msgs := make([]kafka.Message, len(updates))
	for i, u := range updates {
		v, err := s.cfg.Encoder.EncodeUpdate(nil, u)
		if err != nil {
			return fmt.Errorf("encode update: %w", err)
		}
		msgs[i] = kafka.Message{Key: []byte(u.VisitorID), Value: v}
	}
	return kclient.Write(ctx, s.writer, msgs, s.cfg.Retry, s.cfg.OnRetry)
}

// Name identifies the sink in logs and metrics.
func (s *KafkaSink) Name() string { return "kafka" }

// Close closes the writer (the connection's shared producer has nothing to
// flush: every Write waits for its records' acknowledgements).
func (s *KafkaSink) Close() error { return s.writer.Close() }

// InTxn returns the sink writing through tp, into its transactions
// (exactly-once processing).
func (s *KafkaSink) InTxn(tp *kclient.TxnProducer) UpdateSink {
	return &KafkaSink{cfg: s.cfg, writer: tp.Writer(s.cfg.Topic, &kafka.Murmur2Balancer{})}
}
