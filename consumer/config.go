package consumer

import (
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/sessiond/sessiond/internal/kafkautil"
)

// Config configures a Processor. Only cmd/ reads flags and environment; it
// fills this struct.
type Config struct {
	// Brokers are the bootstrap brokers. Required.
	Brokers []string
	// Group is the consumer group id; it also prefixes the changelog topic.
	// Default: "sessiond".
	Group string
	// CartTopic, CustomerTopic and ActionTopic are the co-partitioned inputs.
	// Defaults: "cart-changed", "customer-changed", "actions".
	CartTopic, CustomerTopic, ActionTopic string
	// DeadLetterTopic receives rejected records with their provenance.
	// Default: "sessiond-dlq".
	DeadLetterTopic string
	// ChangelogTopic persists snapshots; compacted, one partition per input
	// partition. Default: Group + "-snapshots".
	ChangelogTopic string
	// SessionTTL is the event-time inactivity after which a snapshot
	// expires. Default: 24h.
	SessionTTL time.Duration
	// MaxIdle is how long a caught-up input partition is waited for before
	// the others are processed without it. Default: 50ms.
	MaxIdle time.Duration
	// MaxBatch caps the events processed between two flushes. Default: 2000.
	MaxBatch int
	// MaxBatchAge caps how long a batch collects events before it is
	// flushed, bounding latency under a steady trickle. Default: 50ms.
	MaxBatchAge time.Duration
	// Decoder turns input record values into events ("raw" Avro or
	// Confluent-framed). Required.
	Decoder Decoder
	// Snapshots encodes changelog records. Required.
	Snapshots SnapshotCodec
	// SessionTimeout is the consumer group session timeout: how long a
	// member that stopped heart-beating (killed, partitioned) keeps its
	// partitions. Default: 10s.
	SessionTimeout time.Duration
	// Sink receives the updates of each batch and must have them durably
	// acknowledged when Write returns nil. Required.
	Sink Sink
	// Retry bounds retries of sink, changelog and dead-letter writes and of
	// commits. Default: 50ms doubling to 5s, until the context ends.
	Retry kafkautil.RetryPolicy
	// Logger receives structured logs. Default: slog.Default().
	Logger *slog.Logger
	// Metrics receives counters and gauges. Default: a set registered
	// nowhere.
	Metrics *Metrics
	// Status is updated as partitions are assigned and restored (readiness).
	// Default: a fresh one.
	Status *Status
	// CreateTopics creates the changelog and dead-letter topics when they
	// are missing. Default: false (cmd sets it true).
	CreateTopics bool
}

// Defaults for Config.
const (
	DefaultGroup          = "sessiond"
	DefaultMaxIdle        = 50 * time.Millisecond
	DefaultMaxBatch       = 2000
	DefaultMaxBatchAge    = 50 * time.Millisecond
	DefaultSessionTTL     = 24 * time.Hour
	DefaultSessionTimeout = 10 * time.Second
)

// WithDefaults returns c with every unset field at its default.
func (c Config) WithDefaults() Config {
	def := func(s *string, v string) {
		if *s == "" {
			*s = v
		}
	}
	def(&c.Group, DefaultGroup)
	def(&c.CartTopic, "cart-changed")
	def(&c.CustomerTopic, "customer-changed")
	def(&c.ActionTopic, "actions")
	def(&c.DeadLetterTopic, "sessiond-dlq")
	def(&c.ChangelogTopic, c.Group+"-snapshots")
	if c.SessionTTL == 0 {
		c.SessionTTL = DefaultSessionTTL
	}
	if c.MaxIdle == 0 {
		c.MaxIdle = DefaultMaxIdle
	}
	if c.SessionTimeout == 0 {
		c.SessionTimeout = DefaultSessionTimeout
	}
	if c.MaxBatch == 0 {
		c.MaxBatch = DefaultMaxBatch
	}
	if c.MaxBatchAge == 0 {
		c.MaxBatchAge = DefaultMaxBatchAge
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	if c.Metrics == nil {
		c.Metrics = NewMetrics()
	}
	if c.Status == nil {
		c.Status = NewStatus()
	}
	return c
}

// Validate reports the first problem with a defaulted config.
func (c Config) Validate() error {
	switch {
	case len(c.Brokers) == 0:
		return errors.New("consumer: no brokers")
	case c.Sink == nil:
		return errors.New("consumer: no sink")
	case c.SessionTTL < 0 || c.MaxIdle < 0 || c.MaxBatchAge < 0 || c.SessionTimeout < 0:
		return errors.New("consumer: durations must not be negative")
	case c.MaxBatch < 1:
		return fmt.Errorf("consumer: max batch %d must be at least 1", c.MaxBatch)
	}
	seen := map[string]bool{}
	for _, t := range c.inputTopics() {
		if seen[t] {
			return fmt.Errorf("consumer: topic %q named twice among the inputs", t)
		}
		seen[t] = true
	}
	if seen[c.ChangelogTopic] || seen[c.DeadLetterTopic] || c.ChangelogTopic == c.DeadLetterTopic {
		return errors.New("consumer: the changelog, dead-letter and input topics must all differ")
	}
	return nil
}

func (c Config) inputTopics() []string {
	return []string{c.CartTopic, c.CustomerTopic, c.ActionTopic}
}
