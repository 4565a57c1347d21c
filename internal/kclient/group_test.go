package kclient

import (
	"context"
	"errors"
	"reflect"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"
	"github.com/segmentio/kafka-go/protocol/heartbeat"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kmsg"
)

const groupTopic = "group-in"

// testGroup returns a membership of group id on conn, subscribed to
// groupTopic, range-assigned, with a short session.
func testGroup(conn *Conn, id string) *Group {
	return conn.NewGroup(GroupConfig{ID: id, Topics: []string{groupTopic}, Balancer: kafka.RangeGroupBalancer{},
		SessionTimeout: 6 * time.Second, Heartbeat: 200 * time.Millisecond})
}

// nextGen joins for the rest of the test.
func nextGen(t *testing.T, g *Group) *Generation {
	t.Helper()
	gen, err := g.Next(t.Context())
	if err != nil {
		t.Fatalf("join: %v", err)
	}
	t.Cleanup(gen.Stop)
	return gen
}

func partitionsOf(gen *Generation) []int {
	var ps []int
	for _, a := range gen.Assignments[groupTopic] {
		ps = append(ps, a.ID)
	}
	slices.Sort(ps)
	return ps
}

// A lone member gets every partition; its commits are what the next
// generation starts from.
func TestGroupJoinCommitAndResume(t *testing.T) {
	_, conn := producerCluster(t, 1, groupTopic)
	g := testGroup(conn, "g-resume")
	gen := nextGen(t, g)
	if got := partitionsOf(gen); !slices.Equal(got, []int{0, 1, 2, 3, 4, 5}) {
		t.Fatalf("a lone member got partitions %v", got)
	}
	for _, a := range gen.Assignments[groupTopic] {
		if a.Offset != -1 {
			t.Fatalf("partition %d starts at %d before any commit, want -1", a.ID, a.Offset)
		}
	}
	if err := gen.Commit(context.Background(), map[string]map[int]int64{groupTopic: {2: 42}}); err != nil {
		t.Fatalf("commit: %v", err)
	}
	gen.Stop()
	g.Leave(context.Background())
	again := nextGen(t, testGroup(conn, "g-resume"))
	for _, a := range again.Assignments[groupTopic] {
		if want := map[bool]int64{true: 42, false: -1}[a.ID == 2]; a.Offset != want {
			t.Errorf("partition %d resumes at %d, want %d", a.ID, a.Offset, want)
		}
	}
}

// The coordinator moving to another broker costs no generation: the
// heartbeats find it again, and commits in the same generation succeed.
// (kafka-go's ConsumerGroup ended the generation here.)
func TestGroupSurvivesCoordinatorMove(t *testing.T) {
	c, conn := producerCluster(t, 3, groupTopic)
	gen := nextGen(t, testGroup(conn, "g-move"))
	before := c.CoordinatorFor("g-move")
	for c.CoordinatorFor("g-move") == before {
		c.RehashCoordinators()
	}
	time.Sleep(2 * time.Second) // ten heartbeats against the new coordinator
	if err := context.Cause(gen.Context()); err != nil {
		t.Fatalf("the generation ended after the coordinator moved: %v", err)
	}
	if err := gen.Commit(context.Background(), map[string]map[int]int64{groupTopic: {0: 7}}); err != nil {
		t.Fatalf("commit after the coordinator moved: %v", err)
	}
	if info := c.GroupInfo("g-move"); info == nil || info.Epoch != int32(gen.ID) {
		t.Fatalf("the group's generation moved on: %+v, want %d", info, gen.ID)
	}
}

// Heartbeats go to the group's coordinator wherever it is, not to the
// broker of the control connection: the generation outlives several
// session timeouts with its coordinator on each of three brokers in turn.
// (kafka-go's Client.Heartbeat does not route by group: there every
// heartbeat but the coordinator's own was answered NOT_COORDINATOR.)
func TestGroupHeartbeatsReachTheCoordinator(t *testing.T) {
	c, g := shortSessionGroup(t, 3, "g-beat")
	gen := nextGen(t, g)
	seen := map[int32]bool{}
	for len(seen) < 3 {
		seen[c.CoordinatorFor("g-beat")] = true
		time.Sleep(2500 * time.Millisecond) // over two session timeouts on this coordinator
		if err := context.Cause(gen.Context()); err != nil {
			t.Fatalf("the generation ended with the coordinator on broker %d: %v", c.CoordinatorFor("g-beat"), err)
		}
		for len(seen) < 3 && seen[c.CoordinatorFor("g-beat")] {
			c.RehashCoordinators() // move it to a broker it has not been on
		}
		// A member whose heartbeats reach no coordinator is dropped by it;
		// it would go on until told (see the silent-member tests).
		if info := c.GroupInfo("g-beat"); info == nil || info.Epoch != int32(gen.ID) || len(info.Members) != 1 {
			t.Fatalf("the coordinator on broker %d dropped the member: %+v, want generation %d", c.CoordinatorFor("g-beat"), info, gen.ID)
		}
	}
}

// A second member joining ends the first one's generation (a rebalance);
// both rejoin and split the partitions, and a commit in the old
// generation is refused as fenced.
func TestGroupRebalanceSplitsAndFencesTheOldGeneration(t *testing.T) {
	_, conn := producerCluster(t, 1, groupTopic)
	a := testGroup(conn, "g-split")
	first := nextGen(t, a)
	b := testGroup(conn, "g-split")
	joined := make(chan *Generation, 1)
	go func() {
		gen, err := b.Next(t.Context())
		if err != nil {
			t.Errorf("second member: %v", err)
		}
		joined <- gen
	}()
	select {
	case <-first.Context().Done():
	case <-time.After(30 * time.Second):
		t.Fatal("the first member's generation did not end when a second member joined")
	}
	if cause := context.Cause(first.Context()); !IsFenced(cause) {
		t.Fatalf("the generation ended with %v, want a rebalance", cause)
	}
	first.Stop()
	second := nextGen(t, a)
	other := <-joined
	if other == nil {
		t.FailNow()
	}
	t.Cleanup(other.Stop)
	if second.ID != other.ID || second.ID <= first.ID {
		t.Fatalf("generations %d and %d after %d", second.ID, other.ID, first.ID)
	}
	all := append(partitionsOf(second), partitionsOf(other)...)
	slices.Sort(all)
	if !slices.Equal(all, []int{0, 1, 2, 3, 4, 5}) || len(partitionsOf(second)) != 3 {
		t.Fatalf("split %v / %v", partitionsOf(second), partitionsOf(other))
	}
	err := first.Commit(context.Background(), map[string]map[int]int64{groupTopic: {0: 1}})
	if !IsFenced(err) {
		t.Fatalf("a commit in the ended generation: %v, want it fenced", err)
	}
}

// dropHeartbeats makes the cluster close the connection of every
// heartbeat until the returned function is called.
func dropHeartbeats(c *kfake.Cluster) (restore func()) {
	var dropping atomic.Bool
	dropping.Store(true)
	c.ControlKey(int16(kmsg.Heartbeat), func(kmsg.Request) (kmsg.Response, error, bool) {
		c.KeepControl()
		if !dropping.Load() {
			return nil, nil, false
		}
		return nil, errors.New("dropped"), true
	})
	return func() { dropping.Store(false) }
}

// shortSessionGroup is a membership of group id with a 1 s session and
// heartbeats every 100 ms, on a cluster of brokers that allows so short a
// session.
func shortSessionGroup(t *testing.T, brokers int, id string) (*kfake.Cluster, *Group) {
	t.Helper()
	c, err := kfake.NewCluster(kfake.NumBrokers(brokers), kfake.SeedTopics(6, groupTopic),
		kfake.GroupMinSessionTimeout(100*time.Millisecond))
	if err != nil {
		t.Fatalf("start kfake: %v", err)
	}
	t.Cleanup(c.Close)
	conn := PlainConn(c.ListenAddrs())
	t.Cleanup(func() { conn.Close() })
	return c, conn.NewGroup(GroupConfig{ID: id, Topics: []string{groupTopic}, Balancer: kafka.RangeGroupBalancer{},
		SessionTimeout: time.Second, Heartbeat: 100 * time.Millisecond})
}

// silentGroup is a lone member's generation with a 1 s session on a
// one-broker cluster.
func silentGroup(t *testing.T, id string) (*kfake.Cluster, *Generation) {
	t.Helper()
	c, g := shortSessionGroup(t, 1, id)
	return c, nextGen(t, g)
}

// A member whose heartbeats go unanswered for three session timeouts, but
// whom the coordinator has kept (its commits went through: a coordinator
// that failed over and loaded the group does the same), is still in its
// generation when heartbeats are answered again: unanswered heartbeats
// alone end nothing, so the writes in flight are not thrown away.
func TestGroupKeepsGenerationThroughUnansweredHeartbeats(t *testing.T) {
	c, gen := silentGroup(t, "g-silent-kept")
	restore := dropHeartbeats(c)
	for i := 0; i < 12; i++ {
		time.Sleep(250 * time.Millisecond)
		if err := gen.Commit(context.Background(), map[string]map[int]int64{groupTopic: {0: int64(i)}}); err != nil {
			t.Fatalf("commit %d while heartbeats go unanswered: %v", i, err)
		}
	}
	if err := context.Cause(gen.Context()); err != nil {
		t.Fatalf("the generation ended while its heartbeats went unanswered: %v", err)
	}
	restore()
	time.Sleep(2 * time.Second)
	if err := context.Cause(gen.Context()); err != nil {
		t.Fatalf("the generation ended after heartbeats were answered again: %v", err)
	}
	if info := c.GroupInfo("g-silent-kept"); info == nil || info.Epoch != int32(gen.ID) || len(info.Members) != 1 {
		t.Fatalf("the group moved on: %+v, want generation %d with its one member", info, gen.ID)
	}
}

// A member the coordinator dropped while its heartbeats went unanswered
// goes on until it is told: its first answered heartbeat ends the
// generation as fenced.
func TestGroupReplacedMemberLearnsAtFirstAnsweredHeartbeat(t *testing.T) {
	c, gen := silentGroup(t, "g-silent-dropped")
	restore := dropHeartbeats(c)
	time.Sleep(3 * time.Second) // the coordinator drops the member after 1 s
	if err := context.Cause(gen.Context()); err != nil {
		t.Fatalf("the generation ended before any coordinator said so: %v", err)
	}
	restore()
	select {
	case <-gen.Context().Done():
	case <-time.After(30 * time.Second):
		t.Fatal("the generation went on after the coordinator answered that the member is gone")
	}
	if cause := context.Cause(gen.Context()); !IsFenced(cause) {
		t.Fatalf("ended with %v, want fenced", cause)
	}
}

// A commit refused because the member was dropped ends the generation,
// even while its heartbeats still go unanswered.
func TestGroupFencedCommitEndsGeneration(t *testing.T) {
	c, gen := silentGroup(t, "g-silent-commit")
	dropHeartbeats(c)
	time.Sleep(3 * time.Second)
	err := gen.Commit(context.Background(), map[string]map[int]int64{groupTopic: {0: 1}})
	if !IsFenced(err) {
		t.Fatalf("commit of a dropped member: %v, want fenced", err)
	}
	if cause := context.Cause(gen.Context()); !IsFenced(cause) {
		t.Fatalf("generation after a fenced commit: %v, want ended as fenced", cause)
	}
}

// swappedError undoes kafka-go's field order in Heartbeat and LeaveGroup
// answers from v1 on: the throttle time's top half read as the error code,
// and its bottom half and the error code read as the throttle time.
func TestSwappedError(t *testing.T) {
	misread := func(throttleMS int32, code int16) (error, time.Duration) {
		var err error
		if hi := int16(uint32(throttleMS) >> 16); hi != 0 {
			err = kafka.Error(hi)
		}
		return err, time.Duration(int32(uint32(throttleMS)<<16|uint32(uint16(code)))) * time.Millisecond
	}
	for _, tc := range []struct {
		throttleMS int32
		code       int16
		want       error
	}{
		{0, 0, nil},
		{0, 27, kafka.RebalanceInProgress},
		{0, 25, kafka.UnknownMemberId},
		{250, 0, nil}, // a real throttle, no error
		{250, 22, kafka.IllegalGeneration},
	} {
		err, throttle := misread(tc.throttleMS, tc.code)
		if got := swappedError(err, throttle); !errors.Is(got, tc.want) || (tc.want == nil) != (got == nil) {
			t.Errorf("throttle %d ms, code %d: got %v, want %v", tc.throttleMS, tc.code, got, tc.want)
		}
	}
}

// coordinatedHeartbeat stands in for kafka-go's heartbeat.Request in the
// encoder, which walks fields by index: the two must have the same fields,
// in the same order, with the same types and tags.
func TestCoordinatedHeartbeatMatchesKafkaGo(t *testing.T) {
	ours, theirs := reflect.TypeOf(coordinatedHeartbeat{}), reflect.TypeOf(heartbeat.Request{})
	if ours.NumField() != theirs.NumField() {
		t.Fatalf("%d fields, kafka-go's request has %d", ours.NumField(), theirs.NumField())
	}
	for i := range ours.NumField() {
		a, b := ours.Field(i), theirs.Field(i)
		if a.Name != b.Name || a.Type != b.Type || a.Tag != b.Tag || a.Offset != b.Offset {
			t.Errorf("field %d: %s %s %q, kafka-go has %s %s %q", i, a.Name, a.Type, a.Tag, b.Name, b.Type, b.Tag)
		}
	}
}

// A session timeout the broker refuses is returned by Next at once, not
// retried until the context ends.
func TestGroupInvalidSessionTimeoutIsReturned(t *testing.T) {
	_, conn := producerCluster(t, 1, groupTopic)
	g := conn.NewGroup(GroupConfig{ID: "g-bad-timeout", Topics: []string{groupTopic}, Balancer: kafka.RangeGroupBalancer{},
		SessionTimeout: time.Second, Heartbeat: 100 * time.Millisecond})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	_, err := g.Next(ctx)
	if !errors.Is(err, kafka.InvalidSessionTimeout) {
		t.Fatalf("Next: %v, want INVALID_SESSION_TIMEOUT", err)
	}
}
