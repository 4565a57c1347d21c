package consumer

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/segmentio/kafka-go"
	"github.com/sessiond/sessiond/internal/kafkautil"
)

// Processor is the pipeline: it joins the consumer group, owns the input
// partitions it is assigned and runs one task per partition number.
type Processor struct {
	cfg         Config
	client      *kafka.Client
	changelog   *changelog
	deadLetters *kafka.Writer
	partitions  int
	retained    retainedStates
}

// New validates cfg (after defaults) and returns a Processor.
func New(cfg Config) (*Processor, error) {
	cfg = cfg.WithDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.Decoder == nil || cfg.Snapshots == nil {
		return nil, errors.New("consumer: decoder and snapshot codec are required")
	}
	p := &Processor{cfg: cfg, client: kafkautil.NewClient(cfg.Brokers)}
	p.changelog = newChangelog(&p.cfg, p.client)
	p.deadLetters = kafkautil.NewWriter(cfg.Brokers, cfg.DeadLetterTopic, &kafka.Murmur2Balancer{})
	return p, nil
}

// Prepare checks that the inputs are co-partitioned and creates the
// changelog and dead-letter topics if asked to. Run calls it; it is exported
// so that a command can fail fast before serving.
func (p *Processor) Prepare(ctx context.Context) error {
	inputs := p.cfg.inputTopics()
	counts, err := kafkautil.PartitionCounts(ctx, p.client, inputs...)
	if err != nil {
		return fmt.Errorf("check input topics: %w", err)
	}
	n, err := kafkautil.CheckCoPartitioned(counts, inputs...)
	if err != nil {
		return err
	}
	p.partitions = n
	if p.cfg.CreateTopics {
		err := kafkautil.EnsureTopics(ctx, p.client,
			kafkautil.TopicSpec{Name: p.cfg.ChangelogTopic, Partitions: n, Compact: true},
			kafkautil.TopicSpec{Name: p.cfg.DeadLetterTopic, Partitions: n})
		if err != nil {
			return err
		}
	}
	counts, err = kafkautil.PartitionCounts(ctx, p.client, p.cfg.ChangelogTopic)
	if err != nil {
		return fmt.Errorf("check changelog topic: %w", err)
	}
	if counts[p.cfg.ChangelogTopic] < n {
		return fmt.Errorf("changelog topic %q has %d partitions, the inputs %d: it needs at least as many",
			p.cfg.ChangelogTopic, counts[p.cfg.ChangelogTopic], n)
	}
	wctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	return kafkautil.WaitLeaders(wctx, p.client, p.cfg.ChangelogTopic, n)
}

// Run consumes until ctx ends, then drains: the current batches are
// flushed and committed and the member leaves the group. It returns nil
// after a clean drain.
func (p *Processor) Run(ctx context.Context) error {
	if err := p.Prepare(ctx); err != nil {
		return err
	}
	log := p.cfg.Logger
	cg, err := kafka.NewConsumerGroup(kafka.ConsumerGroupConfig{
		ID:                p.cfg.Group,
		Brokers:           p.cfg.Brokers,
		Topics:            p.cfg.inputTopics(),
		GroupBalancers:    []kafka.GroupBalancer{&CoPartitionBalancer{Owned: p.cfg.Status.Owned}},
		StartOffset:       kafka.FirstOffset,
		HeartbeatInterval: time.Second,
		SessionTimeout:    p.cfg.SessionTimeout,
		RebalanceTimeout:  p.cfg.SessionTimeout,
		JoinGroupBackoff:  time.Second,
		Timeout:           10 * time.Second,
		ErrorLogger: kafka.LoggerFunc(func(msg string, args ...any) {
			log.Debug("kafka group", "detail", fmt.Sprintf(msg, args...))
		}),
	})
	if err != nil {
		return fmt.Errorf("join group %q: %w", p.cfg.Group, err)
	}
	stopped := make(chan struct{})
	go func() {
		defer close(stopped)
		<-ctx.Done()
		cg.Close() // ends the generation, waits for the tasks' drain, leaves the group
	}()
	defer func() {
		p.cfg.Status.left()
		<-stopped
		p.closeWriters()
	}()
	for {
		gen, err := cg.Next(ctx)
		if err != nil {
			if ctx.Err() != nil || errors.Is(err, kafka.ErrGroupClosed) {
				return nil
			}
			log.Warn("group join failed, retrying", "error", err)
			continue
		}
		p.startGeneration(gen)
	}
}

// startGeneration launches one task per owned partition number.
func (p *Processor) startGeneration(gen *kafka.Generation) {
	owned := ownedPartitions(gen.Assignments)
	p.cfg.Status.generation(owned)
	p.cfg.Metrics.Rebalances.Inc()
	p.cfg.Metrics.Assigned.Set(float64(len(owned)))
	p.cfg.Logger.Info("joined generation", "generation", gen.ID, "member", gen.MemberID, "partitions", owned)
	commits := newCommitter(serialCommitter(gen), p.cfg.Logger, p.cfg.Metrics)
	for _, n := range owned {
		starts := map[string]int64{}
		for topic, as := range gen.Assignments {
			for _, a := range as {
				if a.ID == n && a.Offset >= 0 {
					starts[topic] = a.Offset
				}
			}
		}
		t, err := p.newTask(n, commits)
		if err != nil { // only a bad TTL, which Validate already refused
			p.cfg.Logger.Error("task", "error", err)
			continue
		}
		commits.tasks.Add(1)
		gen.Start(func(ctx context.Context) { t.run(ctx, starts) })
	}
	gen.Start(commits.run)
}

// serialCommitter funnels the tasks' commits through one lock: the
// generation's connection carries one request at a time anyway.
func serialCommitter(gen *kafka.Generation) func(map[string]map[int]int64) error {
	ch := make(chan struct{}, 1)
	return func(offsets map[string]map[int]int64) error {
		ch <- struct{}{}
		defer func() { <-ch }()
		return gen.CommitOffsets(offsets)
	}
}

func ownedPartitions(assignments map[string][]kafka.PartitionAssignment) []int {
	set := map[int]bool{}
	for _, as := range assignments {
		for _, a := range as {
			set[a.ID] = true
		}
	}
	return sortedKeys(set)
}

func (p *Processor) closeWriters() {
	p.changelog.writer.Close()
	p.deadLetters.Close()
}

// Partitions returns the input partition count found by Prepare.
func (p *Processor) Partitions() int { return p.partitions }
