package kclient

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/segmentio/kafka-go"
	"github.com/segmentio/kafka-go/protocol"
	"github.com/segmentio/kafka-go/protocol/heartbeat"
)

// GroupConfig configures a consumer group membership.
type GroupConfig struct {
	ID       string   // the group id
	Topics   []string // the subscription
	Balancer kafka.GroupBalancer
	// SessionTimeout is how long the coordinator waits for a heartbeat
	// before it drops the member. A member whose heartbeats go unanswered
	// for longer warns, and keeps its generation until a coordinator
	// answers (see Group).
	SessionTimeout time.Duration
	// RebalanceTimeout is how long the coordinator waits for every member
	// to rejoin; default SessionTimeout.
	RebalanceTimeout time.Duration
	// Heartbeat is the pause between heartbeats; default 1s.
	Heartbeat time.Duration
	Logger    *slog.Logger
}

// Group is this process's membership of a consumer group, spoken through
// the Conn's transport: every request finds the group's coordinator anew
// (kafka-go's transport sends FindCoordinator first), so a coordinator
// that moves — its broker killed, restarted or rolled — costs the
// requests in between and not the generation. kafka-go's ConsumerGroup
// instead ties a generation to one connection to the coordinator and ends
// it when that connection breaks, so every coordinator move was a
// rebalance (and a replay of everything since the last commit).
//
// A generation ends when a coordinator says so: a rebalance, or a member
// it no longer knows (UNKNOWN_MEMBER_ID, ILLEGAL_GENERATION). It does not
// end because heartbeats go unanswered, however long: as in the Java
// consumer (which only marks the coordinator unknown when its session
// timer runs out), the member goes on and asks again. A coordinator that
// fails over loads the group and gives every member a new session, so the
// member is still in its generation when the new coordinator answers.
// Ending the generation there instead threw away every write in flight:
// with min.insync.replicas not met (two brokers down, the coordinator
// among them) the last batches could neither be acknowledged nor
// abandoned cleanly, and the partition replayed from the last commit, a
// duplicate of every update already on the log. A member that has truly
// been replaced hears so at its first answered heartbeat, and its commits
// are refused until then.
type Group struct {
	conn   *Conn
	client *kafka.Client
	cfg    GroupConfig
	retry  RetryPolicy

	mu       sync.Mutex
	memberID string
}

// NewGroup returns a membership of cfg.ID; Next joins it.
func (c *Conn) NewGroup(cfg GroupConfig) *Group {
	if cfg.RebalanceTimeout <= 0 {
		cfg.RebalanceTimeout = cfg.SessionTimeout
	}
	if cfg.Heartbeat <= 0 {
		cfg.Heartbeat = time.Second
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	client := c.Client()
	client.Timeout = cfg.RebalanceTimeout + 10*time.Second // a JoinGroup waits for the other members
	return &Group{conn: c, client: client, cfg: cfg,
		retry: RetryPolicy{Initial: 100 * time.Millisecond, Max: 2 * time.Second}}
}

// Generation is one generation of the group as this member sees it.
type Generation struct {
	ID       int
	MemberID string
	// Assignments holds this member's partitions per topic, each with its
	// committed offset (-1: none).
	Assignments map[string][]kafka.PartitionAssignment

	group  *Group
	ctx    context.Context
	cancel context.CancelCauseFunc
	beats  chan struct{} // closed when the heartbeat loop has returned
	mu     sync.Mutex    // one commit at a time
}

// Context ends when the generation ends; its cause says why.
func (g *Generation) Context() context.Context { return g.ctx }

// Stop ends the generation here (the member is leaving or draining) and
// waits for its heartbeats to stop.
func (g *Generation) Stop() {
	g.cancel(errors.New("generation stopped by this member"))
	<-g.beats
}

// Next joins the group and returns the next generation, retrying passing
// failures (a coordinator moving, a rebalance under way) until ctx ends.
// A refusal that retrying cannot cure (authorization, an invalid session
// timeout) is returned.
func (g *Group) Next(ctx context.Context) (*Generation, error) {
	b := g.retry.NewBackOff(ctx)
	for {
		gen, err := g.join(ctx)
		if err == nil {
			return gen, nil
		}
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		if !rejoinable(err) {
			return nil, err
		}
		if errors.Is(err, kafka.UnknownMemberId) || errors.Is(err, kafka.IllegalGeneration) {
			g.setMember("")
		}
		if staleMetadata(err) {
			g.conn.RefreshMetadata()
		}
		g.cfg.Logger.Debug("group join retried", "error", err)
		wait := b.NextBackOff()
		select {
		case <-time.After(wait):
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

// rejoinable: errors after which joining again can succeed.
// An invalid session timeout is the group's configuration against the
// broker's group.min/max.session.timeout.ms: it will not change by itself.
func rejoinable(err error) bool {
	if errors.Is(err, kafka.InvalidSessionTimeout) {
		return false
	}
	return IsRetryable(err) || IsFenced(err) || errors.Is(err, kafka.MemberIDRequired) ||
		errors.Is(err, context.DeadlineExceeded)
}

// join runs one JoinGroup/SyncGroup round and fetches the committed offsets.
func (g *Group) join(ctx context.Context) (*Generation, error) {
	meta, err := g.cfg.Balancer.UserData()
	if err != nil {
		return nil, fmt.Errorf("encode join metadata: %w", err)
	}
	jr, err := g.client.JoinGroup(ctx, &kafka.JoinGroupRequest{
		GroupID: g.cfg.ID, MemberID: g.member(), ProtocolType: "consumer",
		SessionTimeout: g.cfg.SessionTimeout, RebalanceTimeout: g.cfg.RebalanceTimeout,
		Protocols: []kafka.GroupProtocol{{Name: g.cfg.Balancer.ProtocolName(),
			Metadata: kafka.GroupProtocolSubscription{Topics: g.cfg.Topics, UserData: meta}}},
	})
	if err != nil {
		return nil, fmt.Errorf("join group %q: %w", g.cfg.ID, err)
	}
	if jr.MemberID != "" {
		g.setMember(jr.MemberID) // also with MEMBER_ID_REQUIRED: join again with it
	}
	if jr.Error != nil {
		return nil, fmt.Errorf("join group %q: %w", g.cfg.ID, jr.Error)
	}
	var assignments []kafka.SyncGroupRequestAssignment
	if jr.LeaderID == jr.MemberID {
		if assignments, err = g.assign(ctx, jr.Members); err != nil {
			return nil, err
		}
	}
	sr, err := g.client.SyncGroup(ctx, &kafka.SyncGroupRequest{
		GroupID: g.cfg.ID, GenerationID: jr.GenerationID, MemberID: jr.MemberID,
		ProtocolType: "consumer", ProtocolName: jr.ProtocolName, Assignments: assignments,
	})
	if err != nil {
		return nil, fmt.Errorf("sync group %q: %w", g.cfg.ID, err)
	}
	if sr.Error != nil {
		return nil, fmt.Errorf("sync group %q: %w", g.cfg.ID, sr.Error)
	}
	offsets, err := g.committed(ctx, sr.Assignment.AssignedPartitions)
	if err != nil {
		return nil, err
	}
	gen := &Generation{ID: jr.GenerationID, MemberID: jr.MemberID, Assignments: offsets,
		group: g, beats: make(chan struct{})}
	gen.ctx, gen.cancel = context.WithCancelCause(ctx)
	go gen.heartbeat()
	return gen, nil
}

// assign is the leader's part: the balancer's plan for every member.
func (g *Group) assign(ctx context.Context, joined []kafka.JoinGroupResponseMember) ([]kafka.SyncGroupRequestAssignment, error) {
	md, err := g.client.Metadata(ctx, &kafka.MetadataRequest{Topics: g.cfg.Topics})
	if err != nil {
		return nil, fmt.Errorf("read the partitions to assign: %w", err)
	}
	var parts []kafka.Partition
	for _, t := range md.Topics {
		if t.Error != nil {
			return nil, fmt.Errorf("read the partitions of %q to assign: %w", t.Name, t.Error)
		}
		parts = append(parts, t.Partitions...)
	}
	members := make([]kafka.GroupMember, len(joined))
	for i, m := range joined {
		members[i] = kafka.GroupMember{ID: m.ID, Topics: m.Metadata.Topics, UserData: m.Metadata.UserData}
	}
	plan := g.cfg.Balancer.AssignGroups(members, parts)
	out := make([]kafka.SyncGroupRequestAssignment, len(members))
	for i, m := range members { // every member, also those given nothing
		out[i] = kafka.SyncGroupRequestAssignment{MemberID: m.ID,
			Assignment: kafka.GroupProtocolAssignment{AssignedPartitions: plan[m.ID]}}
	}
	return out, nil
}

// committed fetches the group's committed offsets of the assigned
// partitions (-1 where there is none).
func (g *Group) committed(ctx context.Context, assigned map[string][]int) (map[string][]kafka.PartitionAssignment, error) {
	out := map[string][]kafka.PartitionAssignment{}
	if len(assigned) == 0 {
		return out, nil
	}
	r, err := g.client.OffsetFetch(ctx, &kafka.OffsetFetchRequest{GroupID: g.cfg.ID, Topics: assigned})
	if err != nil {
		return nil, fmt.Errorf("fetch committed offsets of group %q: %w", g.cfg.ID, err)
	}
	if r.Error != nil {
		return nil, fmt.Errorf("fetch committed offsets of group %q: %w", g.cfg.ID, r.Error)
	}
	for topic, ps := range assigned {
		got := map[int]int64{}
		for _, p := range r.Topics[topic] {
			if p.Error != nil {
				return nil, fmt.Errorf("fetch committed offset of %s/%d: %w", topic, p.Partition, p.Error)
			}
			got[p.Partition] = p.CommittedOffset
		}
		for _, p := range ps {
			off, ok := got[p]
			if !ok {
				off = -1
			}
			out[topic] = append(out[topic], kafka.PartitionAssignment{ID: p, Offset: off})
		}
	}
	return out, nil
}

// heartbeat keeps the generation alive until a coordinator ends it or the
// member stops it. Transport errors and a moving coordinator are retried:
// the next heartbeat finds the coordinator again. Past the session timeout
// without an answer it warns once per silence (see Group).
func (gen *Generation) heartbeat() {
	defer close(gen.beats)
	g := gen.group
	last := time.Now()
	warned := false
	tick := time.NewTicker(g.cfg.Heartbeat)
	defer tick.Stop()
	for {
		select {
		case <-gen.ctx.Done():
			return
		case <-tick.C:
		}
		err := gen.beat()
		switch {
		case err == nil:
			if warned {
				g.cfg.Logger.Info("heartbeat answered again; the generation goes on", "generation", gen.ID,
					"silent_for", time.Since(last).Round(time.Millisecond).String())
			}
			last, warned = time.Now(), false
		case IsFenced(err):
			gen.fenced(err)
			return
		default:
			if staleMetadata(err) {
				g.conn.RefreshMetadata()
			}
			if since := time.Since(last); since > g.cfg.SessionTimeout && !warned {
				warned = true
				g.cfg.Logger.Warn("no heartbeat answered for longer than the session timeout; keeping the partitions until a coordinator answers",
					"generation", gen.ID, "silent_for", since.Round(time.Millisecond).String(), "error", err)
			}
			g.cfg.Logger.Debug("heartbeat failed, retrying", "error", err)
		}
	}
}

// fenced ends the generation because a coordinator said it is over: a
// rebalance (join again as the same member) or a member it no longer
// knows (join as a new one).
func (gen *Generation) fenced(err error) {
	if !errors.Is(err, kafka.RebalanceInProgress) {
		gen.group.setMember("")
	}
	gen.cancel(fmt.Errorf("generation %d ended: %w", gen.ID, err))
}

// beat sends one heartbeat, bounded by the heartbeat interval's worth of
// patience (at least 2s).
func (gen *Generation) beat() error {
	g := gen.group
	ctx, cancel := context.WithTimeout(gen.ctx, max(2*time.Second, 2*g.cfg.Heartbeat))
	defer cancel()
	m, err := g.client.Transport.RoundTrip(ctx, g.client.Addr, &coordinatedHeartbeat{
		GroupID: g.cfg.ID, GenerationID: int32(gen.ID), MemberID: gen.MemberID})
	if err != nil {
		return fmt.Errorf("heartbeat: %w", err)
	}
	r, ok := m.(*heartbeat.Response)
	if !ok {
		return fmt.Errorf("heartbeat: unexpected answer %T", m)
	}
	return swappedError(kafkaError(r.ErrorCode), time.Duration(r.ThrottleTimeMs)*time.Millisecond)
}

// coordinatedHeartbeat is kafka-go's Heartbeat request that says which
// group it is for. kafka-go v0.4.51's heartbeat.Request has no Group
// method, so its transport does not route it to the group's coordinator:
// Client.Heartbeat goes to whichever broker the control connection is on,
// and on a cluster every heartbeat but the coordinator's own is answered
// NOT_COORDINATOR (every generation ended after one session timeout).
// kafka-go encodes a request with the encoder of the type registered for
// its API key, field by field index, so this struct has heartbeat.Request's
// fields in heartbeat.Request's order with its tags (a test checks it).
type coordinatedHeartbeat struct {
	_               struct{} `kafka:"min=v4,max=v4,tag"`
	GroupID         string   `kafka:"min=v0,max=v4"`
	GenerationID    int32    `kafka:"min=v0,max=v4"`
	MemberID        string   `kafka:"min=v0,max=v4"`
	GroupInstanceID string   `kafka:"min=v3,max=v4,nullable"`
}

// ApiKey is Heartbeat's.
func (r *coordinatedHeartbeat) ApiKey() protocol.ApiKey { return protocol.Heartbeat }

// Group makes the transport send FindCoordinator first and the heartbeat
// to the broker it names.
func (r *coordinatedHeartbeat) Group() string { return r.GroupID }

// kafkaError is an error code as kafka-go's Client returns it: nil for 0.
func kafkaError(code int16) error {
	if code == 0 {
		return nil
	}
	return kafka.Error(code)
}

// swappedError returns the error code of a Heartbeat or LeaveGroup answer.
// kafka-go v0.4.51 declares those responses' fields in the wrong order
// (error code before throttle time; from v1 on the protocol has the
// throttle time first), so the int16 it reads as the error code is the
// top half of the throttle time and the error code ends up in the low 16
// bits of what it reads as the throttle time. Without this every
// REBALANCE_IN_PROGRESS read as a 27 ms throttle, and a member never saw a
// rebalance until the coordinator dropped it.
func swappedError(err error, throttle time.Duration) error {
	if err != nil {
		return err
	}
	if code := int16(uint32(throttle/time.Millisecond) & 0xffff); code != 0 {
		return kafka.Error(code)
	}
	return nil
}

// Commit commits offsets (the next offset to read, per topic and
// partition) in this generation. A refusal because the generation ended
// satisfies IsFenced, and ends the generation: the coordinator has told
// this member it is over, whether or not a heartbeat has heard so yet.
// Commits are sent one at a time.
func (gen *Generation) Commit(ctx context.Context, offsets map[string]map[int]int64) error {
	err := gen.commit(ctx, offsets)
	if IsFenced(err) {
		gen.fenced(err)
	}
	return err
}

func (gen *Generation) commit(ctx context.Context, offsets map[string]map[int]int64) error {
	gen.mu.Lock()
	defer gen.mu.Unlock()
	g := gen.group
	topics := map[string][]kafka.OffsetCommit{}
	for topic, ps := range offsets {
		for p, off := range ps {
			topics[topic] = append(topics[topic], kafka.OffsetCommit{Partition: p, Offset: off})
		}
	}
	r, err := g.client.OffsetCommit(ctx, &kafka.OffsetCommitRequest{GroupID: g.cfg.ID,
		GenerationID: gen.ID, MemberID: gen.MemberID, Topics: topics})
	if err != nil {
		if staleMetadata(err) {
			g.conn.RefreshMetadata()
		}
		return fmt.Errorf("commit offsets of group %q: %w", g.cfg.ID, err)
	}
	for topic, ps := range r.Topics {
		for _, p := range ps {
			if p.Error != nil {
				return fmt.Errorf("commit offset of %s/%d: %w", topic, p.Partition, p.Error)
			}
		}
	}
	return nil
}

// Leave leaves the group, so that the others rebalance at once instead of
// after the session timeout. Best effort: a member that cannot reach the
// coordinator is dropped after the session timeout anyway.
func (g *Group) Leave(ctx context.Context) {
	id := g.member()
	if id == "" {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	r, err := g.client.LeaveGroup(ctx, &kafka.LeaveGroupRequest{GroupID: g.cfg.ID,
		Members: []kafka.LeaveGroupRequestMember{{ID: id}}})
	if err == nil {
		err = swappedError(r.Error, r.Throttle)
	}
	if err != nil {
		g.cfg.Logger.Debug("leave group failed; the coordinator drops this member after the session timeout", "error", err)
	}
	g.setMember("")
}

func (g *Group) member() string {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.memberID
}

func (g *Group) setMember(id string) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.memberID = id
}
