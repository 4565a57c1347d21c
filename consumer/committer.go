package consumer

import (
	"context"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sessiond/sessiond/internal/kclient"
)

// commitFunc commits offsets through a generation.
type commitFunc func(map[string]map[int]int64) error

// committer commits, off the tasks' path, the offsets that the generation's
// tasks have flushed. A task hands over its next offsets once a batch's
// updates and changelog are acknowledged and goes on; the committer merges
// what arrives while a commit is in flight into the next one. Offsets only
// ever move forward, and never past a flushed batch.
//
// The generation starts run and stops it with ctx once its tasks have
// drained; run then commits what they marked last and returns.
type committer struct {
	commit  commitFunc
	touch   func()        // told of every commit the brokers accepted (readiness)
	counted *atomic.Int64 // if set, counts the topic-partition offsets the brokers accepted
	log     *slog.Logger
	metrics *Metrics

	mu      sync.Mutex
	pending map[string]map[int]int64
	kick    chan struct{}
}

func newCommitter(commit commitFunc, log *slog.Logger, m *Metrics) *committer {
	return &committer{commit: commit, log: log, metrics: m, kick: make(chan struct{}, 1)}
}

// mark records flushed offsets for the next commit.
func (c *committer) mark(offsets map[string]map[int]int64) {
	c.mu.Lock()
	if c.pending == nil {
		c.pending = map[string]map[int]int64{}
	}
	for topic, ps := range offsets {
		if c.pending[topic] == nil {
			c.pending[topic] = map[int]int64{}
		}
		for p, off := range ps {
			if off > c.pending[topic][p] {
				c.pending[topic][p] = off
			}
		}
	}
	c.mu.Unlock()
	select {
	case c.kick <- struct{}{}:
	default:
	}
}

func (c *committer) takePending() map[string]map[int]int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	p := c.pending
	c.pending = nil
	return p
}

// commitRetry is the pause after a failed commit before the next try
// (a coordinator that moves, a broker away): 100ms doubling to 2s, reset
// by the next commit that succeeds. kafka-go's transport looks the group
// coordinator up again for every commit.
var commitRetry = kclient.RetryPolicy{Initial: 100 * time.Millisecond, Max: 2 * time.Second}

// run commits until ctx ends, then commits what was marked last.
func (c *committer) run(ctx context.Context) {
	retry := commitRetry.NewBackOff(ctx)
	for {
		select {
		case <-c.kick:
			if c.commitPending() {
				retry.Reset()
			} else {
				select { // back off before trying again
				case <-time.After(retry.NextBackOff()):
				case <-ctx.Done():
				}
			}
		case <-ctx.Done():
			c.commitPending()
			return
		}
	}
}

// commitPending commits the merged offsets; on a passing failure it puts
// them back for the next try and reports false. A commit refused because
// the generation ended is dropped: the next owner replays from the previous
// commit, and the changelog makes the replay idempotent.
func (c *committer) commitPending() bool {
	offsets := c.takePending()
	if len(offsets) == 0 {
		return true
	}
	err := c.commit(offsets)
	switch {
	case err == nil:
		if c.touch != nil {
			c.touch()
		}
		if c.counted != nil {
			c.counted.Add(int64(offsetCount(offsets)))
		}
		return true
	case kclient.IsFenced(err):
		c.metrics.CommitFailure.Inc()
		c.log.Warn("offset commit refused; records since the last commit will be replayed", "error", err)
		return true
	default:
		c.metrics.WriteRetries.WithLabelValues("commit").Inc()
		c.log.Warn("offset commit failed, retrying", "error", err)
		c.mark(offsets)
		return false
	}
}

// offsetCount is the number of topic-partition offsets in offsets.
func offsetCount(offsets map[string]map[int]int64) int {
	n := 0
	for _, ps := range offsets {
		n += len(ps)
	}
	return n
}
