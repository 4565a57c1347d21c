package main

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"
)

// Rebalance kinds of --rebalance: what phase 5 does a third of the way in.
const (
	rebalanceScaleOut = "scale-out" // a second member joins the group
	rebalanceRestart  = "restart"   // the member is stopped (SIGTERM) and a new one started, as a rolling restart does to each pod
)

// rebalanceResult is what one rebalance during phase 5 cost, seen from the
// output: the updates of actions sent from its start on.
type rebalanceResult struct {
	Kind         string  `json:"kind"`
	AtSeconds    float64 `json:"at_seconds"`              // into the phase
	DrainSeconds float64 `json:"drain_seconds,omitempty"` // restart: SIGTERM to exit of the old member
	ReadySeconds float64 `json:"ready_seconds"`           // the new member's start to /readyz
	Partitions   int     `json:"partitions_restored"`     // by the new member
	Snapshots    int64   `json:"snapshots_restored"`
	Records      int64   `json:"records_restored"`
	RSSMB        float64 `json:"new_member_rss_mb"` // when it was ready
	// MaxLatencyMs is the longest action→update latency of an action sent
	// from the rebalance's start on: the longest any shopper waited.
	MaxLatencyMs float64 `json:"max_latency_ms"`
	// Over1s counts those updates that took over a second.
	Over1s int64 `json:"updates_over_1s"`
	// LongestGapMs is the longest time with no update on the output topic
	// at all (by the updates' Kafka timestamps) from the start on: the
	// pause of every partition at once.
	LongestGapMs float64 `json:"longest_output_gap_ms"`
}

// rebalancer runs phase 5's rebalance and tells collect which instance to
// watch: none while a restart has stopped the old member and the new one
// is not yet there.
type rebalancer struct {
	cfg *config
	t   *topics
	l   *launcher
	log *slog.Logger

	mu    sync.Mutex
	cur   instance // the member whose exit is an error; nil while restarting
	began time.Time
	res   rebalanceResult
	err   error
	done  chan struct{}
}

func newRebalancer(cfg *config, t *topics, l *launcher, in instance, log *slog.Logger) *rebalancer {
	return &rebalancer{cfg: cfg, t: t, l: l, log: log, cur: in, res: rebalanceResult{Kind: cfg.rebalance}, done: make(chan struct{})}
}

// exited is the watched member and its Exited channel (nil: none to
// watch). A member that exits after a restart has stopped it is no longer
// current: collect asks unexpected before it reports the exit.
func (r *rebalancer) exited() (instance, <-chan struct{}) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.cur == nil {
		return nil, nil
	}
	return r.cur, r.cur.Exited()
}

// unexpected reports whether in's exit is an error: it is still the
// member collect watches.
func (r *rebalancer) unexpected(in instance) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.cur == in
}

// current is the member running now (nil while restarting).
func (r *rebalancer) current() instance {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.cur
}

func (r *rebalancer) setCurrent(in instance) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.cur = in
}

// run waits until a third of the phase has passed and rebalances.
func (r *rebalancer) run(ctx context.Context, phaseStart time.Time) {
	defer close(r.done)
	select {
	case <-ctx.Done():
		r.err = ctx.Err()
		return
	case <-time.After(time.Until(phaseStart.Add(r.cfg.latency() / 3))):
	}
	r.began = time.Now()
	r.res.AtSeconds = r.began.Sub(phaseStart).Seconds()
	r.log.Info("latency: rebalance", "kind", r.cfg.rebalance)
	if r.cfg.rebalance == rebalanceRestart {
		old := r.current()
		r.setCurrent(nil)
		if err := old.Stop(60 * time.Second); err != nil {
			r.err = fmt.Errorf("stop the member: %w", err)
			return
		}
		r.res.DrainSeconds = time.Since(r.began).Seconds()
	}
	in, err := r.startMember(ctx)
	if err != nil {
		r.err = err
		return
	}
	if r.cfg.rebalance == rebalanceRestart {
		r.setCurrent(in)
	}
}

// startMember starts a member in the group and waits until it is ready.
func (r *rebalancer) startMember(ctx context.Context) (instance, error) {
	addr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	begin := time.Now()
	in, err := r.l.launch(runArgs{guarantee: r.cfg.sessiondGuarantee(), connCfg: r.cfg.connCfg, passwordFile: r.cfg.passwordFile, t: r.t, wire: &r.cfg.wire, httpAddr: addr, logLevel: "info"})
	if err != nil {
		return nil, fmt.Errorf("start a member: %w", err)
	}
	if err := waitReady(ctx, r.cfg, in, r.log); err != nil {
		return nil, fmt.Errorf("the new member: %w", err)
	}
	r.res.ReadySeconds = time.Since(begin).Seconds()
	r.res.RSSMB = rssMB(in.PID())
	for _, l := range in.Logs().Restored() {
		r.res.Partitions++
		r.res.Snapshots += l.Snapshots
		r.res.Records += l.Records
	}
	return in, nil
}

// judge fills the output-side figures from the phase's updates.
func (r *rebalancer) judge(points []updatePoint) {
	if r.began.IsZero() {
		return
	}
	var stamps []time.Time
	for _, p := range points {
		if p.sent.Before(r.began) {
			continue
		}
		r.res.MaxLatencyMs = max(r.res.MaxLatencyMs, p.latencyMs)
		if p.latencyMs > 1000 {
			r.res.Over1s++
		}
		stamps = append(stamps, p.stamp)
	}
	slices.SortFunc(stamps, func(a, b time.Time) int { return a.Compare(b) })
	prev := r.began
	for _, s := range stamps {
		r.res.LongestGapMs = max(r.res.LongestGapMs, float64(s.Sub(prev))/1e6)
		prev = s
	}
}

// updatePoint is one matched update of phase 5.
type updatePoint struct {
	sent      time.Time // its action's Kafka timestamp
	stamp     time.Time // its own
	latencyMs float64
}
