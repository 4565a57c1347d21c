package consumer

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/segmentio/kafka-go"
	"github.com/sessiond/sessiond/internal/kclient"
	"github.com/sessiond/sessiond/reducer"
)

// Processor is the pipeline: it joins the consumer group, owns the input
// partitions it is assigned and runs one task per partition number.
type Processor struct {
	cfg         Config
	client      *kafka.Client
	changelog   *changelog
	deadLetters kclient.MessageWriter
	outputs     *outputs
	partitions  int  // found by Check
	prepared    bool // Prepare succeeded: Run does not prepare again
	retained    retainedStates
	counts      runCounts // totals since New

	txnMu        sync.Mutex
	txnProducers map[int]*kclient.TxnProducer // exactly once: by partition, kept across generations

	drainMu   sync.Mutex
	lastDrain DrainSummary // of the last Run
}

// Group settings that are not worth a flag.
const (
	heartbeatInterval = time.Second
	joinGroupBackoff  = time.Second
	leaderWait        = 30 * time.Second
)

// New validates cfg and returns a Processor. It changes nothing on the
// cluster; Prepare does.
func New(cfg Config) (*Processor, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	client := cfg.Conn.Client()
	p := &Processor{
		cfg:         cfg,
		client:      client,
		changelog:   newChangelog(cfg.Changelog(), cfg.Conn, client, cfg.Snapshots, changelogIsolation(&cfg)),
		deadLetters: cfg.DeadLetters,
	}
	if p.deadLetters == nil {
		p.deadLetters = cfg.Conn.BatchWriter(cfg.DeadLetterTopic, &kafka.Murmur2Balancer{})
	}
	topics := cfg.InputTopics()
	cfg.Metrics.InitTopics(topics[:]...)
	p.outputs = &outputs{sinks: cfg.Sinks, deadLetters: p.deadLetters, retry: cfg.Retry,
		metrics: cfg.Metrics, log: cfg.Logger}
	return p, nil
}

// changelogIsolation is the restore's isolation level.
func changelogIsolation(cfg *Config) kclient.Isolation {
	if cfg.ExactlyOnce() {
		return kclient.ReadCommitted
	}
	return kclient.ReadUncommitted
}

// Check verifies, without changing anything, that the inputs exist and are
// co-partitioned, and records their partition count.
func (p *Processor) Check(ctx context.Context) error {
	topics := p.cfg.InputTopics()
	counts, err := kclient.PartitionCounts(ctx, p.client, topics[:]...)
	if err != nil {
		return fmt.Errorf("check input topics: %w", err)
	}
	n, err := kclient.CheckCoPartitioned(counts, topics[:]...)
	if err != nil {
		return err
	}
	p.partitions = n
	return nil
}

// Prepare checks the inputs (unless Check has), creates the changelog and
// dead-letter topics if asked to, and checks the changelog, once: Run
// calls it unless it has succeeded; it is exported so that a command can
// fail fast before serving.
func (p *Processor) Prepare(ctx context.Context) error {
	if p.prepared {
		return nil
	}
	if p.partitions == 0 {
		if err := p.Check(ctx); err != nil {
			return err
		}
	}
	n, changelog := p.partitions, p.cfg.Changelog()
	if p.cfg.CreateTopics {
		rf, isr := p.cfg.ReplicationFactor, p.cfg.MinInsyncReplicas
		err := kclient.EnsureTopics(ctx, p.client,
			kclient.TopicSpec{Name: changelog, Partitions: n, Compact: true, ReplicationFactor: rf, MinInsyncReplicas: isr},
			kclient.TopicSpec{Name: p.cfg.DeadLetterTopic, Partitions: n, ReplicationFactor: rf, MinInsyncReplicas: isr})
		if err != nil {
			return err
		}
	}
	counts, err := kclient.PartitionCounts(ctx, p.client, changelog)
	if err != nil {
		return fmt.Errorf("check changelog topic: %w", err)
	}
	if counts[changelog] < n {
		return fmt.Errorf("changelog topic %q has %d partitions, the inputs %d: it needs at least as many",
			changelog, counts[changelog], n)
	}
	wctx, cancel := context.WithTimeout(ctx, leaderWait)
	defer cancel()
	if err := kclient.WaitLeaders(wctx, p.client, changelog, n); err != nil {
		return err
	}
	p.prepared = true
	return nil
}

// Run consumes until ctx ends, then drains: the current batches are
// flushed and committed and the member leaves the group. It returns nil
// after a clean drain. Run owns everything it starts: the group, each
// generation's tasks and committer, and the writers, all stopped and
// waited for before it returns.
func (p *Processor) Run(ctx context.Context) error {
	if err := p.Prepare(ctx); err != nil {
		return err
	}
	drain := p.watchDrain(ctx)
	defer func() { // last: after the group is left
		d := drain.end()
		p.drainMu.Lock()
		p.lastDrain = d
		p.drainMu.Unlock()
	}()
	defer p.closeWriters()
	group := p.cfg.Conn.NewGroup(p.groupConfig())
	// Leaving the group at the end lets the others rebalance at once
	// instead of after the session timeout.
	defer func() {
		group.Leave(context.WithoutCancel(ctx))
		p.cfg.Status.left()
	}()
	for {
		gen, err := group.Next(ctx)
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			p.cfg.Logger.Warn("group join failed, retrying", "error", err)
			select {
			case <-time.After(joinGroupBackoff):
			case <-ctx.Done():
				return nil
			}
			continue
		}
		p.runGeneration(gen.Context(), gen)
		gen.Stop()
		if cause := context.Cause(gen.Context()); ctx.Err() == nil && cause != nil {
			p.cfg.Logger.Info("generation ended", "generation", gen.ID, "why", cause.Error())
		}
	}
}

func (p *Processor) groupConfig() kclient.GroupConfig {
	topics := p.cfg.InputTopics()
	return kclient.GroupConfig{
		ID:               p.cfg.Group,
		Topics:           topics[:],
		Balancer:         &CoPartitionBalancer{Owned: p.cfg.Status.Owned},
		SessionTimeout:   p.cfg.SessionTimeout,
		RebalanceTimeout: p.cfg.SessionTimeout,
		Heartbeat:        heartbeatInterval,
		Logger:           p.cfg.Logger,
	}
}

// closeWriters closes the changelog writer (the dead-letter writer is the
// assembly's, shared with the Nosto sink).
func (p *Processor) closeWriters() {
	p.changelog.writer.Close()
}

// Partitions returns the input partition count found by Check or Prepare.
func (p *Processor) Partitions() int { return p.partitions }

// taskDeps returns what the task of partition n needs in generation gen.
func (p *Processor) taskDeps(n int, commit func(map[string]map[int]int64), gen *kclient.Generation) taskDeps {
	topics := p.cfg.InputTopics()
	metrics := p.cfg.Metrics.forPartition(n, topics)
	log := p.cfg.Logger.With("partition", n)
	state := p.partitionState(n, commit, metrics, log)
	outputs := p.outputs
	var txn *txnTask
	if p.cfg.ExactlyOnce() {
		tp := p.txnProducer(n)
		txn = &txnTask{tp: tp, group: p.cfg.Group, gen: gen, metrics: p.cfg.Metrics, log: log}
		outputs = p.outputs.inTxn(tp, p.cfg.DeadLetterTopic)
		changelog := tp.Writer(p.changelog.topic, kclient.PartitionBalancer{})
		state.txn = txn
		state.write = func(ctx context.Context, msgs []kafka.Message) error {
			return p.writeChangelogWith(ctx, changelog, msgs)
		}
	}
	return taskDeps{
		partition:    n,
		topics:       topics,
		conn:         p.cfg.Conn,
		client:       p.client,
		isolation:    p.cfg.Isolation(),
		decoder:      p.cfg.Decoder,
		state:        state,
		outputs:      outputs,
		txn:          txn,
		group:        p.cfg.Group,
		emit:         emitAll,
		counts:       &p.counts,
		status:       p.cfg.Status,
		metrics:      metrics,
		retry:        p.cfg.Retry,
		log:          log,
		maxIdle:      p.cfg.MaxIdle,
		maxSkew:      p.cfg.MaxClockSkew,
		maxBatchAge:  p.cfg.MaxBatchAge,
		drainTimeout: p.cfg.DrainTimeout,
		maxBatch:     p.cfg.MaxBatch,
	}
}

// partitionState returns partition n's state in this generation, backed by
// the changelog, committing through commit.
func (p *Processor) partitionState(n int, commit func(map[string]map[int]int64), m *partitionMetrics, log *slog.Logger) *changelogStore {
	return &changelogStore{
		partition:      n,
		topics:         p.cfg.InputTopics(),
		cfg:            reducer.Config{SessionTTL: p.cfg.SessionTTL},
		maxSkew:        p.cfg.MaxClockSkew,
		sweepGrace:     p.cfg.SweepGrace,
		commitInterval: p.cfg.CommitInterval,
		changelog:      p.changelog,
		write:          p.writeChangelog,
		commit:         commit,
		retained:       &p.retained,
		status:         p.cfg.Status,
		metrics:        m,
		log:            log,
		staged:         newStaged(),
	}
}

// writeChangelog writes a partition's changelog records, retrying failures.
func (p *Processor) writeChangelog(ctx context.Context, msgs []kafka.Message) error {
	return p.writeChangelogWith(ctx, p.changelog.writer, msgs)
}

// txnProducer returns partition n's transactional producer.
func (p *Processor) txnProducer(n int) *kclient.TxnProducer {
	p.txnMu.Lock()
	defer p.txnMu.Unlock()
	if p.txnProducers == nil {
		p.txnProducers = map[int]*kclient.TxnProducer{}
	}
	tp := p.txnProducers[n]
	if tp == nil {
		tp = p.cfg.Conn.TxnProducer(txnID(p.cfg.Group, n), p.cfg.TransactionTimeout)
		p.txnProducers[n] = tp
	}
	return tp
}

// writeChangelogWith writes a partition's changelog records with w,
// retrying failures.
func (p *Processor) writeChangelogWith(ctx context.Context, w kclient.MessageWriter, msgs []kafka.Message) error {
	if len(msgs) == 0 {
		return nil
	}
	if err := p.outputs.writeKafka(ctx, "changelog", w, msgs); err != nil {
		return err
	}
	p.counts.snapshots.Add(int64(len(msgs)))
	return nil
}
