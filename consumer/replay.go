package consumer

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/segmentio/kafka-go"
	"github.com/sessiond/sessiond/internal/config"
	"github.com/sessiond/sessiond/internal/kclient"
	"github.com/sessiond/sessiond/reducer"
	"golang.org/x/sync/errgroup"
)

// ReplayConfig configures Replay: a bounded, read-only pass over chosen
// offsets of the input topics with the same merge, reducer and sinks as
// the live pipeline (the Pipeline both embed), but no consumer group, no
// commits and no changelog.
type ReplayConfig struct {
	Pipeline
	// From and To select the updates written: those of actions whose
	// occurred_at is in [From, To). Events before From warm the state up
	// silently. Required; From before To.
	From, To time.Time
	// Warmup, when positive, starts each topic-partition at the offset of
	// its first record with a timestamp at or after From − Warmup instead
	// of the earliest offset. Default: 0 (earliest).
	Warmup time.Duration
	// Starts and Ends, when set for a topic-partition, override where it is
	// read from and where it stops (exclusive). By default the end is the
	// end offset (last stable offset) resolved when Replay starts: records
	// written later are not read.
	Starts, Ends map[string]map[int]int64
	// Partitions are the partition numbers to replay; nil replays all.
	Partitions []int
	// Progress, if set, is called with the events read so far and the
	// total to read, about every second and at the end.
	Progress func(done, total int64)
}

// DefaultReplayRetryLimit is how long a replay retries a failing write
// before it gives up and fails: a batch job reports a broker or sink that
// stays down instead of waiting for it forever.
const DefaultReplayRetryLimit = 2 * time.Minute

// DefaultReplayConfig returns the defaults: Pipeline's, with writes
// retried for at most DefaultReplayRetryLimit.
func DefaultReplayConfig() ReplayConfig {
	p := defaultPipeline()
	p.Retry = p.Retry.WithMaxElapsed(DefaultReplayRetryLimit)
	return ReplayConfig{Pipeline: p}
}

// Validate reports the first problem with c. It changes nothing.
func (c *ReplayConfig) Validate() error {
	if err := c.ValidateSettings(); err != nil {
		return err
	}
	return c.Pipeline.validateComponents()
}

// ValidateSettings reports the first problem with the settings a user
// gives, before the components are built.
func (c *ReplayConfig) ValidateSettings() error {
	if err := c.Pipeline.validateSettings(); err != nil {
		return err
	}
	switch {
	case c.From.IsZero() || c.To.IsZero():
		return config.Errorf("From", "replay: the window's start and end are required")
	case !c.From.Before(c.To):
		return config.Errorf("From", "replay: the window's start %s is not before its end %s", c.From.Format(time.RFC3339), c.To.Format(time.RFC3339))
	case c.Warmup < 0:
		return config.Errorf("Warmup", "replay: the warm-up %v must not be negative", c.Warmup)
	}
	return nil
}

func (c *ReplayConfig) inputTopics() [numKinds]string { return c.InputTopics() }

// ReplaySummary is what a replay did.
type ReplaySummary struct {
	Events   int64   `json:"events"`   // records read
	Updates  int64   `json:"updates"`  // updates written (in the window)
	Rejected int64   `json:"rejected"` // records that failed to decode or validate
	Seconds  float64 `json:"seconds"`
}

// runCounts are a run's totals, updated as batches are flushed.
type runCounts struct {
	events, updates, rejected atomic.Int64
	snapshots                 atomic.Int64 // changelog records written
	offsets                   atomic.Int64 // topic-partition offsets committed
}

func (c *runCounts) add(b *batch) {
	c.events.Add(int64(b.events))
	c.updates.Add(int64(len(b.updates)))
	var rejected int
	for k := range b.outcomes {
		rejected += b.outcomes[k][outcomeRejected]
	}
	c.rejected.Add(int64(rejected))
}

// ErrUnknownPartition reports a partition number the inputs do not have.
var ErrUnknownPartition = errors.New("no such partition")

// replayRange is where one topic-partition is read.
type replayRange struct{ start, end int64 }

// Replay reads the chosen partitions from their start offsets to the end
// offsets resolved when it starts, and writes to the sinks the updates of
// the actions in [From, To). It returns when every partition is done, or
// with ctx's error.
func Replay(ctx context.Context, cfg ReplayConfig) (ReplaySummary, error) {
	begin := time.Now()
	if err := cfg.Validate(); err != nil {
		return ReplaySummary{}, err
	}
	client := cfg.Conn.Client()
	parts, err := replayPartitions(ctx, client, &cfg)
	if err != nil {
		return ReplaySummary{}, err
	}
	ranges, total, err := resolveRanges(ctx, client, &cfg, parts)
	if err != nil {
		return ReplaySummary{}, err
	}
	cfg.Logger.Info("replay", "partitions", parts, "records", total, "from", cfg.From, "to", cfg.To)
	counts := &runCounts{}
	stopProgress := reportProgress(cfg.Progress, counts, total)
	g, gctx := errgroup.WithContext(ctx)
	for _, p := range parts {
		t := newTask(replayDeps(&cfg, client, p, counts))
		g.Go(func() error { return t.runBounded(gctx, ranges[p]) })
	}
	err = g.Wait()
	stopProgress()
	sum := ReplaySummary{Events: counts.events.Load(), Updates: counts.updates.Load(),
		Rejected: counts.rejected.Load(), Seconds: time.Since(begin).Seconds()}
	return sum, err
}

// replayPartitions checks the inputs and the partitions asked for.
func replayPartitions(ctx context.Context, client *kafka.Client, cfg *ReplayConfig) ([]int, error) {
	topics := cfg.inputTopics()
	counts, err := kclient.PartitionCounts(ctx, client, topics[:]...)
	if err != nil {
		return nil, fmt.Errorf("check input topics: %w", err)
	}
	n, err := kclient.CheckCoPartitioned(counts, topics[:]...)
	if err != nil {
		return nil, err
	}
	if cfg.Partitions == nil {
		all := make([]int, n)
		for i := range all {
			all[i] = i
		}
		return all, nil
	}
	for _, p := range cfg.Partitions {
		if p < 0 || p >= n {
			return nil, fmt.Errorf("replay: partition %d: %w: the inputs have %d (0-%d)", p, ErrUnknownPartition, n, n-1)
		}
	}
	return cfg.Partitions, nil
}

// resolveRanges returns each partition's ranges per input topic and the
// number of records to read.
func resolveRanges(ctx context.Context, client *kafka.Client, cfg *ReplayConfig, parts []int) (map[int][numKinds]replayRange, int64, error) {
	level := kafka.ReadCommitted
	if cfg.ReadUncommitted {
		level = kafka.ReadUncommitted
	}
	out := map[int][numKinds]replayRange{}
	var total int64
	for k, topic := range cfg.inputTopics() {
		offs, err := kclient.OffsetsAt(ctx, client, level, topic, parts...)
		if err != nil {
			return nil, 0, err
		}
		var byTime map[int]int64
		if cfg.Warmup > 0 {
			if byTime, err = offsetsAtTime(ctx, client, topic, parts, cfg.From.Add(-cfg.Warmup)); err != nil {
				return nil, 0, err
			}
		}
		for _, p := range parts {
			rng := offs[p]
			r := replayRange{start: rng.First, end: rng.End}
			if o, ok := byTime[p]; ok {
				r.start = o
				if o < 0 { // no record at or after From − Warmup
					r.start = rng.End
				}
			}
			if o, ok := cfg.Starts[topic][p]; ok {
				r.start = o
			}
			if o, ok := cfg.Ends[topic][p]; ok {
				r.end = min(o, rng.End)
			}
			r.start = min(max(r.start, rng.First), r.end)
			rs := out[p]
			rs[k] = r
			out[p] = rs
			total += r.end - r.start
		}
	}
	return out, total, nil
}

// offsetsAtTime resolves, per partition, the first offset whose timestamp
// is at or after t (ListOffsets by timestamp); -1 where there is none.
func offsetsAtTime(ctx context.Context, client *kafka.Client, topic string, parts []int, t time.Time) (map[int]int64, error) {
	reqs := make([]kafka.OffsetRequest, len(parts))
	for i, p := range parts {
		reqs[i] = kafka.TimeOffsetOf(p, t)
	}
	resp, err := client.ListOffsets(ctx, &kafka.ListOffsetsRequest{Topics: map[string][]kafka.OffsetRequest{topic: reqs}})
	if err != nil {
		return nil, fmt.Errorf("offsets of %s at %s: %w", topic, t.Format(time.RFC3339), err)
	}
	out := map[int]int64{}
	for _, po := range resp.Topics[topic] {
		if po.Error != nil {
			return nil, fmt.Errorf("offsets of %s/%d at %s: %w", topic, po.Partition, t.Format(time.RFC3339), po.Error)
		}
		// The answer for a timestamp lands in the Offsets map (kafka-go
		// fills FirstOffset or LastOffset only for those special times).
		best := int64(-1)
		for off := range po.Offsets {
			if best < 0 || off < best {
				best = off
			}
		}
		out[po.Partition] = best
	}
	return out, nil
}

// replayDeps is a task's dependencies for a replay: state in memory only
// (no changelog, no commits, nothing retained), no dead-letter topic,
// updates filtered to the window, and errors that end the replay.
func replayDeps(cfg *ReplayConfig, client *kafka.Client, p int, counts *runCounts) taskDeps {
	topics := cfg.inputTopics()
	from, to := cfg.From.UnixMilli(), cfg.To.UnixMilli()
	metrics := NewMetrics()
	pm := metrics.forPartition(p, topics)
	return taskDeps{
		partition: p, topics: topics, conn: cfg.Conn, client: client, isolation: cfg.Isolation(), decoder: cfg.Decoder,
		state:   &memoryStore{cfg: reducer.Config{SessionTTL: cfg.SessionTTL}, maxSkew: cfg.MaxClockSkew, sweepGrace: cfg.SweepGrace, metrics: pm},
		outputs: &outputs{sinks: cfg.Sinks, retry: cfg.Retry, metrics: metrics, log: cfg.Logger},
		emit:    func(u *reducer.Update) bool { return u.OccurredAt >= from && u.OccurredAt < to },
		counts:  counts, status: NewStatus(), metrics: pm, retry: cfg.Retry, bounded: true,
		log: cfg.Logger.With("partition", p), maxBatch: cfg.MaxBatch, maxBatchAge: time.Hour, maxSkew: cfg.MaxClockSkew,
	}
}

// runBounded reads the partition's ranges to their ends, then flushes and
// returns. A flush that fails for good (a permanent error, or the retry
// policy's MaxElapsed) ends it with the error.
func (t *task) runBounded(ctx context.Context, ranges [numKinds]replayRange) error {
	if err := t.load(ctx); err != nil {
		return err
	}
	var starts, ends [numKinds]int64
	lanes := make([]*lane, numKinds)
	for k, r := range ranges {
		starts[k], ends[k] = r.start, r.end
	}
	t.sources = startSources(ctx, t.conn, t.topics, t.partition, starts, &ends, t.isolation, t.decoder, nil, t.log)
	defer t.sources.stop()
	for k, src := range t.sources.list {
		lanes[k] = newLane(src.ch, &src.busy, starts[k], ends[k])
	}
	t.merger = newMerger(lanes, 0, t.maxSkew)
	t.state.open(ctx)
	err := t.finish(ctx, t.loop(ctx, ctx))
	t.state.drain(ctx, false)
	if cerr := ctx.Err(); cerr != nil {
		return cerr
	}
	if err != nil {
		return fmt.Errorf("partition %d: the last batch could not be written: %w", t.partition, err)
	}
	return nil
}

// reportProgress calls progress every second until the returned stop is
// called, then once more.
func reportProgress(progress func(done, total int64), counts *runCounts, total int64) (stop func()) {
	if progress == nil {
		return func() {}
	}
	done := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		tick := time.NewTicker(time.Second)
		defer tick.Stop()
		for {
			select {
			case <-tick.C:
				progress(counts.events.Load(), total)
			case <-done:
				progress(counts.events.Load(), total)
				return
			}
		}
	}()
	return func() { close(done); <-finished }
}
