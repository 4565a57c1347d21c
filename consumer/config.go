package consumer

import (
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/sessiond/sessiond/internal/config"
	"github.com/sessiond/sessiond/internal/kclient"
	"github.com/sessiond/sessiond/reducer"
)

// Pipeline is what the live pipeline (Config) and a replay (ReplayConfig)
// declare alike: the inputs, the reducer's time settings, the components
// that decode and deliver, and how writes are retried. Both embed it, so
// that neither redeclares the other's fields.
type Pipeline struct {
	// CartTopic, CustomerTopic and ActionTopic are the co-partitioned inputs.
	// Defaults: "cart-changed", "customer-changed", "actions".
	CartTopic, CustomerTopic, ActionTopic string
	// SessionTTL is the event-time inactivity after which a snapshot
	// expires. Must be positive. Default: 24h.
	SessionTTL time.Duration
	// MaxClockSkew bounds how far a record's occurred_at may move the
	// partition's stream time (housekeeping only) beyond its Kafka
	// timestamp; the sweep also keeps visitors 2×MaxClockSkew longer than
	// the TTL. See streamtime.go for the conditions under which the sweep
	// changes no update. Default: 1h.
	MaxClockSkew time.Duration
	// SweepGrace is how long, in broker time, a visitor is kept in memory
	// after its last record: the sweep drops a visitor only when it is idle
	// in event time (above) and its last record's Kafka timestamp is more
	// than SweepGrace behind the partition's newest, so that history
	// produced now (old occurred_at, fresh timestamps) is never swept
	// apart. Zero: event time alone decides. Default: 1h.
	SweepGrace time.Duration
	// MaxBatch caps the events processed between two flushes. Default: 2000.
	MaxBatch int
	// ReadUncommitted reads the input topics with read_uncommitted
	// isolation. By default they are read with read_committed: records of
	// aborted transactions are never applied and transaction markers are
	// skipped. Default: false.
	ReadUncommitted bool

	// Conn makes every Kafka connection (brokers, TLS, SASL). Required.
	Conn *kclient.Conn
	// Decoder turns input record values into events. Required.
	Decoder Decoder
	// Sinks receive the updates of each batch; an update is delivered when
	// every sink has acknowledged it. At least one, at most MaxSinks.
	Sinks []Sink
	// Retry bounds retries of sink, changelog and dead-letter writes and of
	// commits. The live pipeline retries until the context ends (a broker
	// that is down is waited for); a replay, a batch job, gives up after
	// MaxElapsed and fails at once on a permanent error. Default: 50ms
	// doubling to 5s, no MaxElapsed.
	Retry kclient.RetryPolicy
	// Logger receives structured logs. Default: slog.Default().
	Logger *slog.Logger
}

// Isolation is the inputs' isolation level.
func (c *Pipeline) Isolation() kclient.Isolation {
	if c.ReadUncommitted {
		return kclient.ReadUncommitted
	}
	return kclient.ReadCommitted
}

// MaxSinks is how many sinks a pipeline may have: a batch marks the sinks
// that acknowledged it in a 64-bit mask.
const MaxSinks = 64

// InputTopics returns the input topics indexed by reducer.Kind.
func (c *Pipeline) InputTopics() [reducer.NumKinds]string {
	return [reducer.NumKinds]string{c.CartTopic, c.CustomerTopic, c.ActionTopic}
}

// defaultPipeline is Pipeline's defaults.
func defaultPipeline() Pipeline {
	return Pipeline{
		CartTopic:     DefaultCartTopic,
		CustomerTopic: DefaultCustomerTopic,
		ActionTopic:   DefaultActionTopic,
		SessionTTL:    DefaultSessionTTL,
		MaxClockSkew:  DefaultMaxClockSkew,
		SweepGrace:    DefaultSweepGrace,
		MaxBatch:      DefaultMaxBatch,
		Retry:         kclient.DefaultRetryPolicy(),
		Logger:        slog.Default(),
	}
}

// validate reports the first problem with the shared settings and
// components.
func (c *Pipeline) validate() error {
	if err := c.validateSettings(); err != nil {
		return err
	}
	return c.validateComponents()
}

// validateSettings reports the first problem with what a user sets.
func (c *Pipeline) validateSettings() error {
	switch {
	case c.SessionTTL <= 0:
		return config.Errorf("SessionTTL", "consumer: session TTL %v must be positive", c.SessionTTL)
	case c.MaxClockSkew < 0:
		return config.Errorf("MaxClockSkew", "consumer: max clock skew %v must not be negative", c.MaxClockSkew)
	case c.SweepGrace < 0:
		return config.Errorf("SweepGrace", "consumer: sweep grace %v must not be negative", c.SweepGrace)
	case c.MaxBatch < 1:
		return config.Errorf("MaxBatch", "consumer: max batch %d must be at least 1", c.MaxBatch)
	}
	if err := c.validateInputs(); err != nil {
		return err
	}
	if err := c.Retry.Validate(); err != nil {
		return config.Within("Retry", err)
	}
	return nil
}

func (c *Pipeline) validateInputs() error {
	fields := [reducer.NumKinds]string{"CartTopic", "CustomerTopic", "ActionTopic"}
	seen := map[string]bool{}
	for k, t := range c.InputTopics() {
		if t == "" {
			return config.Errorf(fields[k], "consumer: an input topic name is empty")
		}
		if seen[t] {
			return config.Errorf(fields[k], "consumer: topic %q named twice among the inputs", t)
		}
		seen[t] = true
	}
	return nil
}

func (c *Pipeline) validateComponents() error {
	switch {
	case c.Conn == nil:
		return errors.New("consumer: no Kafka connection")
	case c.Decoder == nil:
		return errors.New("consumer: no decoder")
	case len(c.Sinks) == 0:
		return config.Errorf("Sinks", "consumer: no sink")
	case len(c.Sinks) > MaxSinks:
		return config.Errorf("Sinks", "consumer: %d sinks, at most %d", len(c.Sinks), MaxSinks)
	case c.Logger == nil:
		return errors.New("consumer: no logger (DefaultConfig sets one)")
	}
	for i, s := range c.Sinks {
		if s == nil {
			return fmt.Errorf("consumer: sink %d is nil", i)
		}
	}
	return nil
}

// Config configures a Processor. Only cmd/ reads flags and environment: it
// starts from DefaultConfig, binds its flags straight into the fields and
// sets the components. Validate only checks; an explicit zero or empty value
// is taken as given or refused, never replaced by a default.
type Config struct {
	Pipeline
	// Group is the consumer group id; it also names the changelog topic.
	// Default: "sessiond".
	Group string
	// DeadLetterTopic receives rejected records with their provenance.
	// Default: "sessiond-dlq".
	DeadLetterTopic string
	// ChangelogTopic persists snapshots; compacted, one partition per input
	// partition. Default: empty, which means Group + "-snapshots".
	ChangelogTopic string
	// MaxIdle is how long a caught-up input partition is waited for before
	// the others are processed without it; 0 does not wait. Default: 50ms.
	MaxIdle time.Duration
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
	// ProcessingGuarantee is AtLeastOnce or ExactlyOnce. At least once: a
	// crash replays the input since the last commit, and the updates of
	// that stretch are written again (identical, same update_id). Exactly
	// once: each partition's updates, dead letters and changelog records of
	// a commit interval, and its input offsets, commit in one Kafka
	// transaction (transactional id "<group>-task-<partition>"), so a
	// read_committed reader sees each update once. Default: AtLeastOnce.
	ProcessingGuarantee string
	// TransactionTimeout (exactly once) is the transactions'
	// transaction.timeout.ms: a member that stops for longer (killed,
	// frozen) has its open transaction aborted by the coordinator, which
	// holds read_committed readers of its partitions until then. It must
	// be below the brokers' transaction.max.timeout.ms (15 min by default).
	// Default: 10s, Kafka Streams' value.
	TransactionTimeout time.Duration
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
	// ReplicationFactor is the replication factor of the topics created:
	// -1 takes the brokers' default.replication.factor. Default: -1.
	ReplicationFactor int
	// MinInsyncReplicas is the created topics' min.insync.replicas: how
	// many replicas must have a write before it is acknowledged (sessiond
	// writes with acks=all). -1 takes the brokers' default. Default: -1.
	MinInsyncReplicas int

	// Snapshots encodes and decodes changelog records. Required.
	Snapshots SnapshotCodec
	// DeadLetters writes rejected records: the process's one dead-letter
	// writer, shared with the Nosto sink's refusals. Default: nil, which
	// writes to DeadLetterTopic through Conn's shared producer.
	DeadLetters kclient.MessageWriter
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
	DefaultSweepGrace      = time.Hour
	DefaultSessionTimeout  = 10 * time.Second
	DefaultDrainTimeout    = 15 * time.Second
	DefaultCommitInterval  = time.Second
	// The processing guarantees (ProcessingGuarantee).
	AtLeastOnce               = "at-least-once"
	ExactlyOnce               = "exactly-once"
	DefaultTransactionTimeout = 10 * time.Second
	// DefaultReplicationFactor and DefaultMinInsyncReplicas (-1) leave both
	// to the brokers' defaults, as Kafka Streams does since 3.0.
	DefaultReplicationFactor = -1
	DefaultMinInsyncReplicas = -1
	// changelogSuffix follows the group id in the changelog topic's name.
	changelogSuffix = "-snapshots"
)

// DefaultConfig returns the defaults, the one place where they are set.
// Components other than the logger, metrics and status (the connection,
// codecs and sinks) are left to the caller.
func DefaultConfig() Config {
	return Config{
		Pipeline:            defaultPipeline(),
		Group:               DefaultGroup,
		DeadLetterTopic:     DefaultDeadLetterTopic,
		MaxIdle:             DefaultMaxIdle,
		MaxBatchAge:         DefaultMaxBatchAge,
		SessionTimeout:      DefaultSessionTimeout,
		DrainTimeout:        DefaultDrainTimeout,
		CommitInterval:      DefaultCommitInterval,
		ProcessingGuarantee: AtLeastOnce,
		TransactionTimeout:  DefaultTransactionTimeout,
		CreateTopics:        true,
		ReplicationFactor:   DefaultReplicationFactor,
		MinInsyncReplicas:   DefaultMinInsyncReplicas,
		Metrics:             NewMetrics(),
		Status:              NewStatus(),
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

// Validate reports the first problem with c. It changes nothing.
func (c *Config) Validate() error {
	if err := c.ValidateSettings(); err != nil {
		return err
	}
	if err := c.Pipeline.validateComponents(); err != nil {
		return err
	}
	switch {
	case c.Snapshots == nil:
		return errors.New("consumer: no snapshot codec")
	case c.Metrics == nil || c.Status == nil:
		return errors.New("consumer: metrics and status are required (DefaultConfig sets them)")
	}
	return nil
}

// ValidateSettings reports the first problem with the settings a user
// gives, before the components are built: an assembly checks them first,
// so that it never builds what it would then throw away.
func (c *Config) ValidateSettings() error {
	if err := c.Pipeline.validateSettings(); err != nil {
		return err
	}
	if err := c.validateGroupSettings(); err != nil {
		return err
	}
	return c.validateTopics()
}

func (c *Config) validateGroupSettings() error {
	switch {
	case c.Group == "":
		return config.Errorf("Group", "consumer: the group id is empty")
	case c.MaxIdle < 0:
		return config.Errorf("MaxIdle", "consumer: max idle %v must not be negative", c.MaxIdle)
	case c.MaxBatchAge < 0:
		return config.Errorf("MaxBatchAge", "consumer: max batch age %v must not be negative", c.MaxBatchAge)
	case c.CommitInterval < 0:
		return config.Errorf("CommitInterval", "consumer: commit interval %v must not be negative", c.CommitInterval)
	case c.SessionTimeout <= 0:
		return config.Errorf("SessionTimeout", "consumer: group session timeout %v must be positive", c.SessionTimeout)
	case c.DrainTimeout <= 0:
		return config.Errorf("DrainTimeout", "consumer: drain timeout %v must be positive", c.DrainTimeout)
	case c.ProcessingGuarantee != AtLeastOnce && c.ProcessingGuarantee != ExactlyOnce:
		return config.Errorf("ProcessingGuarantee", "consumer: processing guarantee %q is neither %s nor %s", c.ProcessingGuarantee, AtLeastOnce, ExactlyOnce)
	case c.ExactlyOnce() && c.ReadUncommitted:
		return config.Errorf("ReadUncommitted", "consumer: exactly-once reads its inputs read_committed; read_uncommitted would apply records of aborted transactions")
	case c.ExactlyOnce() && (c.TransactionTimeout < time.Second || c.TransactionTimeout > 15*time.Minute):
		return config.Errorf("TransactionTimeout", "consumer: transaction timeout %v must be between 1s and the brokers' transaction.max.timeout.ms (15m by default)", c.TransactionTimeout)
	}
	return nil
}

// ExactlyOnce reports whether the pipeline commits in transactions.
func (c *Config) ExactlyOnce() bool { return c.ProcessingGuarantee == ExactlyOnce }

func (c *Config) validateTopics() error {
	if c.DeadLetterTopic == "" {
		return config.Errorf("DeadLetterTopic", "consumer: the dead-letter topic name is empty")
	}
	switch {
	case c.ReplicationFactor == 0 || c.ReplicationFactor < -1 || c.ReplicationFactor > 32767:
		return config.Errorf("ReplicationFactor", "consumer: replication factor %d must be -1 (the brokers' default) or 1 to 32767", c.ReplicationFactor)
	case c.MinInsyncReplicas == 0 || c.MinInsyncReplicas < -1:
		return config.Errorf("MinInsyncReplicas", "consumer: min.insync.replicas %d must be -1 (the brokers' default) or at least 1", c.MinInsyncReplicas)
	case c.ReplicationFactor > 0 && c.MinInsyncReplicas > c.ReplicationFactor:
		return config.Errorf("MinInsyncReplicas", "consumer: min.insync.replicas %d is more than the replication factor %d: no write could ever be acknowledged", c.MinInsyncReplicas, c.ReplicationFactor)
	}
	inputs := c.InputTopics()
	cl := c.Changelog()
	for _, t := range inputs {
		if t == cl {
			return config.Errorf("ChangelogTopic", "consumer: the changelog topic %q is also an input", cl)
		}
		if t == c.DeadLetterTopic {
			return config.Errorf("DeadLetterTopic", "consumer: the dead-letter topic %q is also an input", t)
		}
	}
	if cl == c.DeadLetterTopic {
		return config.Errorf("DeadLetterTopic", "consumer: the dead-letter topic %q is also the changelog", cl)
	}
	return nil
}
