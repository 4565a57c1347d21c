package consumer

import (
	"context"
	"sync"
	"time"

	"github.com/segmentio/kafka-go"
	"github.com/sessiond/sessiond/internal/kclient"
)

// runGeneration is the one function this member runs in a generation (the
// body of gen.Start): it starts a task per owned partition number and the
// committer, and returns once the generation has ended and every task has
// drained and the committer has made the last commit. Its goroutines are
// its own: it starts them, and it waits for them.
func (p *Processor) runGeneration(ctx context.Context, gen *kclient.Generation) {
	owned := ownedPartitions(gen.Assignments)
	p.cfg.Status.generation(owned)
	p.cfg.Status.joinedAs(int32(gen.ID), gen.MemberID)
	p.cfg.Metrics.Rebalances.Inc()
	p.cfg.Metrics.Assigned.Set(float64(len(owned)))
	p.cfg.Logger.Info("joined generation", "generation", gen.ID, "member", gen.MemberID, "partitions", owned)
	p.releaseUnowned(owned)

	commits := newCommitter(serialCommitter(gen), p.cfg.Logger, p.cfg.Metrics)
	commits.touch = p.cfg.Status.Touch
	commits.counted = &p.counts.offsets
	p.cfg.Status.Touch() // the group coordinator just answered
	cctx, stopCommitter := context.WithCancel(context.WithoutCancel(ctx))
	committed := make(chan struct{})
	go func() {
		defer close(committed)
		commits.run(cctx)
	}()

	var tasks sync.WaitGroup
	for _, n := range owned {
		starts := startOffsets(gen.Assignments, n)
		tasks.Add(1)
		go func() {
			defer tasks.Done()
			// A task whose transaction aborted starts again from the
			// committed state (exactly once).
			for newTask(p.taskDeps(n, commits.mark, gen)).run(ctx, starts) && ctx.Err() == nil {
			}
		}()
	}
	p.waitGeneration(ctx, owned)
	tasks.Wait()
	stopCommitter()
	<-committed
}

// releaseUnowned drops the state kept for partitions this member no
// longer owns, and says how much it released.
func (p *Processor) releaseUnowned(owned []int) {
	if parts, snaps := p.retained.keepOnly(owned); parts > 0 {
		p.cfg.Logger.Info("released the state kept for partitions no longer owned", "partitions", parts, "snapshots", snaps)
	}
}

// ownNothingWarnAfter is how long a member may own no partition before it
// warns (more replicas than input partitions, or a group being rebuilt).
const ownNothingWarnAfter = time.Minute

// waitGeneration blocks until the generation ends: a function passed to
// gen.Start that returns ends the generation for the whole group, also
// when this member owns nothing. A member that owns nothing says so.
func (p *Processor) waitGeneration(ctx context.Context, owned []int) {
	if len(owned) > 0 {
		<-ctx.Done()
		return
	}
	select {
	case <-ctx.Done():
	case <-time.After(ownNothingWarnAfter):
		p.cfg.Logger.Warn("this member owns no input partition: more replicas than partitions, or the group is being rebuilt; it is not ready until it owns one",
			"owned_for", ownNothingWarnAfter.String())
		<-ctx.Done()
	}
}

// startOffsets returns the committed offsets of partition n per topic.
func startOffsets(assignments map[string][]kafka.PartitionAssignment, n int) map[string]int64 {
	starts := map[string]int64{}
	for topic, as := range assignments {
		for _, a := range as {
			if a.ID == n && a.Offset >= 0 {
				starts[topic] = a.Offset
			}
		}
	}
	return starts
}

// commitTimeout bounds one offset commit; the committer retries.
const commitTimeout = 10 * time.Second

// serialCommitter commits through the generation (one commit at a time),
// each to the group's coordinator as it is now.
func serialCommitter(gen *kclient.Generation) commitFunc {
	return func(offsets map[string]map[int]int64) error {
		ctx, cancel := context.WithTimeout(context.Background(), commitTimeout)
		defer cancel()
		return gen.Commit(ctx, offsets)
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
