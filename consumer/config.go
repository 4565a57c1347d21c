package consumer

import (
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/sessiond/sessiond/internal/kclient"
	"github.com/sessiond/sessiond/reducer"
)

// Config configures a Processor. Only cmd/ reads flags and environment: it
// starts from DefaultConfig, binds its flags straight into the fields and
// sets the components. Validate only checks; an explicit zero or empty value
// is taken as given or refused, never replaced by a default.
type Config struct {
	// Group is the consumer group id; it also names the changelog topic.
	// Default: "sessiond".
	Group string
	// CartTopic, CustomerTopic and ActionTopic are the co-partitioned inputs.
	// Defaults: "cart-changed", "customer-changed", "actions".
	CartTopic, CustomerTopic, ActionTopic string
	// DeadLetterTopic receives rejected records with their provenance.
	// Default: "sessiond-dlq".
	DeadLetterTopic string
	// ChangelogTopic persists snapshots; compacted, one partition per input
	// partition. Default: empty, which means Group + "-snapshots".
	ChangelogTopic string
	// SessionTTL is the event-time inactivity after which a snapshot
	// expires. Must be positive. Default: 24h.
	SessionTTL time.Duration
	// MaxClockSkew bounds how far a record's occurred_at may move the
	// partition's stream time (housekeeping only) beyond its Kafka
	// timestamp; the sweep also keeps visitors 2×MaxClockSkew longer than
	// the TTL. See streamtime.go for the conditions under which the sweep
	// changes no update. Default: 1h.
	MaxClockSkew time.Duration
	// MaxIdle is how long a caught-up input partition is waited for before
	// the others are processed without it; 0 does not wait. Default: 50ms.
	MaxIdle time.Duration
	// MaxBatch caps the events processed between two flushes. Default: 2000.
	MaxBatch int
	// MaxBatchAge caps how long a batch collects events before it is
	// flushed, bounding latency under a steady trickle. Default: 50ms.
	MaxBatchAge time.Duration
	// CommitInterval is how often a partition writes its changelog and
	// commits its offsets. In between, the visitors its batches touch are
	// only noted, and each is written to the changelog once per interval
	// however many batches touched it (as Kafka Streams' record cache
	// does); updates still go out every batch. A crash replays the input
	// since the last commit, so at most about this much (duplicates carry
	// the same update_id and content). 0 writes and commits every batch.
	// Default: 1s.
	CommitInterval time.Duration
	// SessionTimeout is the consumer group session timeout: how long a
	// member that stopped heart-beating (killed, partitioned) keeps its
	// partitions. Default: 10s.
	SessionTimeout time.Duration
	// DrainTimeout bounds the drain after the context ends or a rebalance
	// begins: in-flight writes finish, the last batch is flushed and its
	// offsets committed within it. Keep it below Kubernetes'
	// terminationGracePeriodSeconds. Default: 15s.
	DrainTimeout time.Duration
	// CreateTopics creates the changelog and dead-letter topics when they
	// are missing. Default: true.
	CreateTopics bool

	// Conn makes every Kafka connection (brokers, TLS, SASL). Required.
	Conn *kclient.Conn
	// ReadUncommitted reads the input topics with read_uncommitted
	// isolation. By default they are read with read_committed: records of
	// aborted transactions are never applied and transaction markers are
	// skipped. Default: false.
	ReadUncommitted bool
	// Decoder turns input record values into events. Required.
	Decoder Decoder
	// Snapshots encodes and decodes changelog records. Required.
	Snapshots SnapshotCodec
	// Sinks receive the updates of each batch; an update is delivered when
	// every sink has acknowledged it. At least one is required.
	Sinks []Sink
	// Retry bounds retries of sink, changelog and dead-letter writes and of
	// commits. Default: 50ms doubling to 5s, until the context ends.
	Retry kclient.RetryPolicy
	// Logger receives structured logs. Default: slog.Default().
	Logger *slog.Logger
	// Metrics receives counters and gauges. Default: a set registered
	// nowhere.
	Metrics *Metrics
	// Status is updated as partitions are assigned and restored (readiness).
	// Default: a fresh one.
	Status *Status
}

// Defaults of Config, also used by the commands' flag help.
const (
	DefaultGroup           = "sessiond"
	DefaultCartTopic       = "cart-changed"
	DefaultCustomerTopic   = "customer-changed"
	DefaultActionTopic     = "actions"
	DefaultDeadLetterTopic = "sessiond-dlq"
	DefaultMaxIdle         = 50 * time.Millisecond
	DefaultMaxBatch        = 2000
	DefaultMaxBatchAge     = 50 * time.Millisecond
	DefaultSessionTTL      = reducer.DefaultSessionTTL
	DefaultMaxClockSkew    = time.Hour
	DefaultSessionTimeout  = 10 * time.Second
	DefaultDrainTimeout    = 15 * time.Second
	DefaultCommitInterval  = time.Second
	// changelogSuffix follows the group id in the changelog topic's name.
	changelogSuffix = "-snapshots"
)

// DefaultConfig returns the defaults, the one place where they are set.
// Components other than the logger, metrics and status (the connection,
// codecs and sinks) are left to the caller.
func DefaultConfig() Config {
	return Config{
		Group:           DefaultGroup,
		CartTopic:       DefaultCartTopic,
		CustomerTopic:   DefaultCustomerTopic,
		ActionTopic:     DefaultActionTopic,
		DeadLetterTopic: DefaultDeadLetterTopic,
		SessionTTL:      DefaultSessionTTL,
		MaxClockSkew:    DefaultMaxClockSkew,
		MaxIdle:         DefaultMaxIdle,
		MaxBatch:        DefaultMaxBatch,
		MaxBatchAge:     DefaultMaxBatchAge,
		SessionTimeout:  DefaultSessionTimeout,
		DrainTimeout:    DefaultDrainTimeout,
		CommitInterval:  DefaultCommitInterval,
		CreateTopics:    true,
		Logger:          slog.Default(),
		Metrics:         NewMetrics(),
		Status:          NewStatus(),
	}
}

// ChangelogTopicOf returns the changelog topic of a group when none is set.
func ChangelogTopicOf(group string) string { return group + changelogSuffix }

// Changelog returns the changelog topic: ChangelogTopic, or the group's.
func (c *Config) Changelog() string {
	if c.ChangelogTopic != "" {
		return c.ChangelogTopic
	}
	return ChangelogTopicOf(c.Group)
}

// InputTopics returns the input topics indexed by reducer.Kind.
func (c *Config) InputTopics() [reducer.NumKinds]string {
	return [reducer.NumKinds]string{c.CartTopic, c.CustomerTopic, c.ActionTopic}
}

// Validate reports the first problem with c. It changes nothing.
func (c *Config) Validate() error {
	if err := c.validateSettings(); err != nil {
		return err
	}
	if err := c.validateTopics(); err != nil {
		return err
	}
	return c.validateComponents()
}

func (c *Config) validateSettings() error {
	switch {
	case c.Group == "":
		return errors.New("consumer: the group id is empty")
	case c.SessionTTL <= 0:
		return fmt.Errorf("consumer: session TTL %v must be positive", c.SessionTTL)
	case c.MaxClockSkew < 0:
		return fmt.Errorf("consumer: max clock skew %v must not be negative", c.MaxClockSkew)
	case c.MaxIdle < 0:
		return fmt.Errorf("consumer: max idle %v must not be negative", c.MaxIdle)
	case c.MaxBatchAge < 0:
		return fmt.Errorf("consumer: max batch age %v must not be negative", c.MaxBatchAge)
	case c.CommitInterval < 0:
		return fmt.Errorf("consumer: commit interval %v must not be negative", c.CommitInterval)
	case c.SessionTimeout <= 0:
		return fmt.Errorf("consumer: group session timeout %v must be positive", c.SessionTimeout)
	case c.DrainTimeout <= 0:
		return fmt.Errorf("consumer: drain timeout %v must be positive", c.DrainTimeout)
	case c.MaxBatch < 1:
		return fmt.Errorf("consumer: max batch %d must be at least 1", c.MaxBatch)
	}
	return nil
}

func (c *Config) validateTopics() error {
	seen := map[string]bool{}
	for _, t := range c.InputTopics() {
		if t == "" {
			return errors.New("consumer: an input topic name is empty")
		}
		if seen[t] {
			return fmt.Errorf("consumer: topic %q named twice among the inputs", t)
		}
		seen[t] = true
	}
	if c.DeadLetterTopic == "" {
		return errors.New("consumer: the dead-letter topic name is empty")
	}
	cl := c.Changelog()
	if seen[cl] || seen[c.DeadLetterTopic] || cl == c.DeadLetterTopic {
		return errors.New("consumer: the changelog, dead-letter and input topics must all differ")
	}
	return nil
}

func (c *Config) validateComponents() error {
	switch {
	case c.Conn == nil:
		return errors.New("consumer: no Kafka connection")
	case c.Decoder == nil:
		return errors.New("consumer: no decoder")
	case c.Snapshots == nil:
		return errors.New("consumer: no snapshot codec")
	case len(c.Sinks) == 0:
		return errors.New("consumer: no sink")
	case c.Logger == nil || c.Metrics == nil || c.Status == nil:
		return errors.New("consumer: logger, metrics and status are required (DefaultConfig sets them)")
	}
	for i, s := range c.Sinks {
		if s == nil {
			return fmt.Errorf("consumer: sink %d is nil", i)
		}
	}
	return nil
}
