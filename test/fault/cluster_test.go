//go:build fault

package fault

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"
	"github.com/sessiond/sessiond/internal/kclient"
	"github.com/sessiond/sessiond/internal/kclient/kafkatest"
	"github.com/sessiond/sessiond/reducer"
	"github.com/sessiond/sessiond/schemas"
	"github.com/sessiond/sessiond/schemas/eventjson"
	"github.com/twmb/franz-go/pkg/kgo"
)

// The three-broker fault suite: each case runs one sessiond under a paced
// stream on a cluster of three brokers (scripts/kafka.sh up --brokers 3,
// topics with replication factor 3 and min.insync.replicas 2), injects a
// fault into the cluster, and checks the output topic with an independent
// client (franz-go): every update_id that `sessiond reduce` gives is there,
// none twice, and each visitor's updates in reduce's order. sessiond itself
// is never killed here, so the idempotent producer must leave 0
// duplicates. KAFKA_CLUSTER_SH is the kafka.sh command of the cluster
// (with its environment); without it the cases skip.

// Sizes of a cluster case: a 30 s stream.
const (
	clusterEvents   = 120_000
	clusterVisitors = 10_000
	clusterRate     = 4_000
)

// cluster runs kafka.sh subcommands on the cluster under test.
type cluster struct {
	t  *testing.T
	sh string
}

func clusterOf(t *testing.T) *cluster {
	t.Helper()
	sh := os.Getenv("KAFKA_CLUSTER_SH")
	if sh == "" || !kafkatest.External() {
		t.Skip("the three-broker suite needs KAFKA_CLUSTER_SH (scripts/kafka.sh of a cluster from `up --brokers 3`) and KAFKA_BROKERS")
	}
	c := &cluster{t: t, sh: sh}
	t.Cleanup(func() { // leave every broker up and in sync for the next case
		for n := 1; n <= 3; n++ {
			if pid, err := c.pid(n); err == nil {
				syscall.Kill(pid, syscall.SIGCONT)
			} else {
				c.run("start", strconv.Itoa(n))
			}
		}
		c.run("wait-isr")
	})
	return c
}

// run runs `kafka.sh args...` and returns its output.
func (c *cluster) run(args ...string) (string, error) {
	out, err := exec.Command("bash", "-c", c.sh+" "+strings.Join(args, " ")).CombinedOutput()
	return string(out), err
}

func (c *cluster) must(args ...string) {
	c.t.Helper()
	if out, err := c.run(args...); err != nil {
		c.t.Fatalf("kafka.sh %s: %v\n%s", strings.Join(args, " "), err, out)
	}
}

func (c *cluster) pid(n int) (int, error) {
	out, err := exec.Command("bash", "-c", c.sh+" pid "+strconv.Itoa(n)).Output()
	if err != nil {
		return 0, err
	}
	return strconv.Atoi(strings.TrimSpace(string(out)))
}

// clusterSetup is a setup whose topics are replicated three times.
func clusterSetup(t *testing.T, partitions int) *setup {
	t.Helper()
	s := newSetup(t, partitions)
	c := kclient.PlainConn(s.brokers).Client()
	reps, brokers, err := kclient.Replications(context.Background(), c, s.cart, s.out)
	if err != nil {
		t.Fatal(err)
	}
	if brokers < 3 || reps[s.cart].Factor < 3 || reps[s.out].Factor < 3 {
		t.Skipf("needs three brokers and replication factor 3 by default; have %d brokers, %+v", brokers, reps)
	}
	return s
}

// clusterRunArgs: the changelog and dead letters replicated, as a
// production deployment sets them, and the default 10 s group session
// (the single-broker suite's 6 s, for quick reassignment after kill -9,
// is as long as the brokers' own fencing: a member whose heartbeats could
// not reach the coordinator that took over from a frozen broker within
// 6 s of its failover was dropped, 1 run in about 8; see the README).
func (s *setup) clusterRunArgs() []string {
	return s.runArgs("--replication-factor", "3", "--min-insync-replicas", "2", "--group-session-timeout", "10s")
}

// leaders counts, per broker, the partitions it leads among topics.
func leaders(t *testing.T, brokers []string, topics ...string) map[int]int {
	t.Helper()
	md, err := kclient.PlainConn(brokers).Client().Metadata(context.Background(), &kafka.MetadataRequest{Topics: topics})
	if err != nil {
		t.Fatal(err)
	}
	out := map[int]int{}
	for _, tp := range md.Topics {
		for _, p := range tp.Partitions {
			out[p.Leader.ID]++
		}
	}
	return out
}

// busiest is the broker leading the most partitions of topics.
func busiest(t *testing.T, brokers []string, topics ...string) int {
	t.Helper()
	best, most := 0, -1
	for id, n := range leaders(t, brokers, topics...) {
		if n > most || (n == most && id < best) {
			best, most = id, n
		}
	}
	return best
}

// coordinator is the broker coordinating group.
func coordinator(t *testing.T, brokers []string, group string) int {
	t.Helper()
	res, err := kclient.PlainConn(brokers).Client().FindCoordinator(context.Background(),
		&kafka.FindCoordinatorRequest{Key: group, KeyType: kafka.CoordinatorKeyTypeConsumer})
	if err != nil || res.Error != nil {
		t.Fatalf("find the coordinator of %s: %v %v", group, err, res.Error)
	}
	return int(res.Coordinator.NodeID)
}

// waitTopic waits until topic exists (sessiond creates its changelog).
func waitTopic(t *testing.T, brokers []string, topic string) {
	t.Helper()
	c := kclient.PlainConn(brokers).Client()
	deadline := time.Now().Add(time.Minute)
	for {
		if _, err := kclient.PartitionCounts(context.Background(), c, topic); err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s was not created within a minute", topic)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// clusterOutput reads the output topic with franz-go until every wanted
// update_id is there and no record has come for quiet, or timeout.
func clusterOutput(t *testing.T, s *setup, want map[string]string, timeout time.Duration) output {
	t.Helper()
	return isolatedOutput(t, s, want, timeout, kgo.ReadUncommitted())
}

// isolatedOutput is clusterOutput at isolation level iso: read_committed
// leaves aborted transactions' records out and waits for open ones.
func isolatedOutput(t *testing.T, s *setup, want map[string]string, timeout time.Duration, iso kgo.IsolationLevel) output {
	t.Helper()
	codecs, err := schemas.Load()
	if err != nil {
		t.Fatal(err)
	}
	cl, err := kgo.NewClient(kgo.SeedBrokers(s.brokers...), kgo.ConsumeTopics(s.out),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()), kgo.FetchIsolationLevel(iso))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	type rec struct {
		part   int32
		offset int64
		line   string
		at     time.Time
	}
	var recs []rec
	seen := map[string]bool{}
	deadline := time.Now().Add(timeout)
	lastNew := time.Now()
	for time.Now().Before(deadline) {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		fs := cl.PollFetches(ctx)
		cancel()
		n := 0
		fs.EachRecord(func(r *kgo.Record) {
			u, err := codecs.DecodeUpdate(r.Value)
			if err != nil {
				t.Fatalf("undecodable update at %d/%d: %v", r.Partition, r.Offset, err)
			}
			recs = append(recs, rec{r.Partition, r.Offset, string(eventjson.AppendUpdate(nil, u)), r.Timestamp})
			seen[u.UpdateID] = true
			n++
		})
		if n > 0 {
			lastNew = time.Now()
		}
		if len(seen) >= len(want) && time.Since(lastNew) > 3*time.Second {
			break
		}
	}
	sort.Slice(recs, func(i, j int) bool {
		if recs[i].part != recs[j].part {
			return recs[i].part < recs[j].part
		}
		return recs[i].offset < recs[j].offset
	})
	var o output
	for _, r := range recs {
		o.lines = append(o.lines, r.line)
		o.times = append(o.times, r.at)
	}
	return o
}

// reordered counts the visitors whose updates on the output topic (first
// copies, in offset order: a visitor's updates share a partition) are not
// in the order `reduce` gives them.
func reordered(o output, evsOrder []string) int {
	rank := make(map[string]int, len(evsOrder))
	for i, id := range evsOrder {
		rank[id] = i
	}
	last := map[string]int{}
	bad := map[string]bool{}
	seen := map[string]bool{}
	for _, l := range o.lines {
		id := updateID(l)
		if seen[id] {
			continue
		}
		seen[id] = true
		var u struct {
			VisitorID string `json:"visitor_id"`
		}
		json.Unmarshal([]byte(l), &u)
		r, ok := rank[id]
		if !ok {
			continue
		}
		if prev, ok := last[u.VisitorID]; ok && r < prev {
			bad[u.VisitorID] = true
		}
		last[u.VisitorID] = r
	}
	return len(bad)
}

// clusterCase runs one case: sessiond on the cluster, the stream paced,
// fault called once a third of it is sent, then the judgement and a REPORT
// line with the longest output pause from the fault's start.
func clusterCase(t *testing.T, name string, seed uint64, fault func(s *setup) (began time.Time, note string)) {
	t.Helper()
	clusterCaseWith(t, name, seed, false, fault)
}

// clusterCaseWith is clusterCase; with exactlyOnce, sessiond runs with
// --processing-guarantee exactly-once and the output is judged as a
// read_committed reader sees it.
func clusterCaseWith(t *testing.T, name string, seed uint64, exactlyOnce bool, fault func(s *setup) (began time.Time, note string)) {
	t.Helper()
	s := clusterSetup(t, 6)
	evs := events(t, seed, clusterVisitors, clusterEvents)
	want := expected(t, evs)
	order := reduceOrder(t, evs)
	args := s.clusterRunArgs()
	if exactlyOnce {
		args = append(args, "--processing-guarantee", "exactly-once")
	}
	p := start(t, "sessiond", args...)
	defer func() { dumpLogs(t, p) }()
	if dir := os.Getenv("FAULT_LOG_DIR"); dir != "" { // keep the member's log to read it
		defer func() { os.WriteFile(dir+"/"+name+".log", []byte(p.output()), 0o644) }()
	}
	waitTopic(t, s.brokers, s.grp+"-snapshots")
	// The fault runs beside the stream, not in it: the events keep coming
	// at the paced rate while brokers die, so an output pause is sessiond's
	// (and its producer's) and not a gap in the input.
	var began time.Time
	var note string
	faulted := make(chan struct{})
	started := false
	err := newIdempotentProducer(t, s).send(context.Background(), evs, clusterRate, func(sent int) {
		if started || sent < len(evs)/3 {
			return
		}
		started = true
		go func() {
			defer close(faulted)
			began, note = fault(s)
		}()
	})
	if err != nil {
		t.Fatal(err)
	}
	<-faulted
	o := clusterOutput(t, s, want, 4*time.Minute)
	if exactlyOnce {
		o = isolatedOutput(t, s, want, 4*time.Minute, kgo.ReadCommitted())
	}
	v := judge(t, o, want)
	r := reordered(o, order)
	pause := maxGap(o.times, began.Add(-time.Second), began.Add(90*time.Second)).Round(10 * time.Millisecond)
	before := maxGap(o.times, time.Time{}, began.Add(-time.Second)).Round(10 * time.Millisecond)
	if exactlyOnce {
		name = "eos-" + name
	}
	t.Logf("REPORT cluster-%s: events=%d expected=%d emitted=%d duplicates=%d missing=%d reordered=%d conflicting=%d longest_output_pause=%s largest_gap_before=%s %s",
		name, len(evs), len(want), v.emitted, v.duplicates, v.missing, r, v.conflicting, pause, before, note)
	if v.duplicates != 0 {
		t.Errorf("%d duplicates on the output topic, want 0: sessiond was not killed, so every retry must have been idempotent", v.duplicates)
	}
	if r != 0 {
		t.Errorf("%d visitors' updates out of order on the output topic", r)
	}
	if err := p.wait(0); err == nil {
		t.Errorf("sessiond exited during the fault")
	}
	dlq, err := kafkatest.ReadAll(context.Background(), s.brokers, s.dlq)
	if err == nil && len(dlq) != 0 {
		t.Errorf("%d records dead-lettered during the fault, want 0", len(dlq))
	}
}

// reduceOrder is `sessiond reduce`'s update_ids, in its order.
func reduceOrder(t *testing.T, evs []*reducer.Event) []string {
	t.Helper()
	var in strings.Builder
	for _, ev := range evs {
		in.Write(eventjson.AppendEvent(nil, ev))
		in.WriteByte('\n')
	}
	cmd := exec.Command(binary(t), "reduce")
	cmd.Stdin = strings.NewReader(in.String())
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("reduce: %v", err)
	}
	var ids []string
	for _, l := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		ids = append(ids, updateID(l))
	}
	return ids
}

// newIdempotentProducer writes the inputs through sessiond's own
// idempotent producer, so that a broker fault does not duplicate an input
// event upstream of sessiond (what a Java producer with its defaults
// guarantees too).
func newIdempotentProducer(t *testing.T, s *setup) *producer {
	t.Helper()
	c, err := schemas.Load()
	if err != nil {
		t.Fatal(err)
	}
	conn := kclient.PlainConn(s.brokers)
	t.Cleanup(func() { conn.Close() })
	return &producer{t: t, s: s, w: conn.BatchWriter("", &kafka.Murmur2Balancer{}), codecs: c, kp: conn.Producer()}
}

// The broker leading the most input, output and changelog partitions is
// killed with SIGKILL and started again 15 s later.
func TestClusterKillBusiestLeader(t *testing.T) {
	c := clusterOf(t)
	clusterCase(t, "kill-leader", 21, killBusiest(t, c))
}

// killBusiest is the fault of the kill-leader cases: the broker leading the
// most input, output and changelog partitions killed with SIGKILL and
// started again 15 s later.
func killBusiest(t *testing.T, c *cluster) func(s *setup) (time.Time, string) {
	return func(s *setup) (time.Time, string) {
		n := busiest(t, s.brokers, s.cart, s.customer, s.action, s.out, s.grp+"-snapshots")
		began := time.Now()
		c.must("kill", strconv.Itoa(n))
		time.Sleep(15 * time.Second)
		c.must("start", strconv.Itoa(n))
		return began, fmt.Sprintf("killed=broker-%d", n)
	}
}

// The group coordinator's broker is killed with SIGKILL and started again.
func TestClusterKillCoordinator(t *testing.T) {
	c := clusterOf(t)
	clusterCase(t, "kill-coordinator", 22, func(s *setup) (time.Time, string) {
		n := coordinator(t, s.brokers, s.grp)
		began := time.Now()
		c.must("kill", strconv.Itoa(n))
		time.Sleep(15 * time.Second)
		c.must("start", strconv.Itoa(n))
		return began, fmt.Sprintf("killed=broker-%d", n)
	})
}

// Every broker is stopped (controlled shutdown) and started in turn, as an
// operator upgrades the cluster.
func TestClusterRollingRestart(t *testing.T) {
	c := clusterOf(t)
	clusterCase(t, "roll", 23, func(s *setup) (time.Time, string) {
		began := time.Now()
		c.must("roll")
		return began, "took=" + time.Since(began).Round(time.Second).String()
	})
}

// The partitions of the inputs and the changelog are reassigned with
// kafka-reassign-partitions (each replica list rotated by one) and a
// preferred-leader election moves their leaders to the new first replica.
func TestClusterReassignment(t *testing.T) {
	c := clusterOf(t)
	clusterCase(t, "reassign", 24, func(s *setup) (time.Time, string) {
		topics := []string{s.cart, s.customer, s.action, s.grp + "-snapshots"}
		plan := reassignmentPlan(t, s.brokers, topics...)
		dir := t.TempDir()
		planFile := dir + "/plan.json"
		if err := os.WriteFile(planFile, plan, 0o644); err != nil {
			t.Fatal(err)
		}
		bootstrap := s.brokers[0]
		began := time.Now()
		before := leaders(t, s.brokers, topics...)
		c.must("tool", "org.apache.kafka.tools.reassign.ReassignPartitionsCommand", "--bootstrap-server", bootstrap,
			"--reassignment-json-file", planFile, "--execute")
		for i := 0; ; i++ {
			out, _ := c.run("tool", "org.apache.kafka.tools.reassign.ReassignPartitionsCommand", "--bootstrap-server", bootstrap,
				"--reassignment-json-file", planFile, "--verify")
			if !strings.Contains(out, "still in progress") || i > 60 {
				break
			}
			time.Sleep(time.Second)
		}
		c.must("tool", "org.apache.kafka.tools.LeaderElectionCommand", "--bootstrap-server", bootstrap,
			"--election-type", "PREFERRED", "--all-topic-partitions")
		return began, fmt.Sprintf("leaders_before=%v leaders_after=%v", before, leaders(t, s.brokers, topics...))
	})
}

// reassignmentPlan rotates each partition's replica list by one.
func reassignmentPlan(t *testing.T, brokers []string, topics ...string) []byte {
	t.Helper()
	md, err := kclient.PlainConn(brokers).Client().Metadata(context.Background(), &kafka.MetadataRequest{Topics: topics})
	if err != nil {
		t.Fatal(err)
	}
	type part struct {
		Topic     string `json:"topic"`
		Partition int    `json:"partition"`
		Replicas  []int  `json:"replicas"`
	}
	plan := struct {
		Version    int    `json:"version"`
		Partitions []part `json:"partitions"`
	}{Version: 1}
	for _, tp := range md.Topics {
		for _, p := range tp.Partitions {
			var reps []int
			for _, r := range p.Replicas {
				reps = append(reps, r.ID)
			}
			reps = append(reps[1:], reps[0])
			plan.Partitions = append(plan.Partitions, part{tp.Name, p.ID, reps})
		}
	}
	b, _ := json.Marshal(plan)
	return b
}

// The busiest leader is frozen with SIGSTOP for 40 s, longer than the
// 30 s request timeout, then resumed with SIGCONT: its requests hang
// rather than fail, the controller fences it after 6 s without a
// heartbeat, and it comes back as a follower that must catch up.
func TestClusterFrozenBroker(t *testing.T) {
	c := clusterOf(t)
	clusterCase(t, "freeze", 25, func(s *setup) (time.Time, string) {
		n := busiest(t, s.brokers, s.cart, s.customer, s.action, s.out, s.grp+"-snapshots")
		pid, err := c.pid(n)
		if err != nil {
			t.Fatalf("pid of broker %d: %v", n, err)
		}
		began := time.Now()
		syscall.Kill(pid, syscall.SIGSTOP)
		time.Sleep(40 * time.Second)
		syscall.Kill(pid, syscall.SIGCONT)
		return began, fmt.Sprintf("frozen=broker-%d for=40s", n)
	})
}

// Two brokers are stopped: with min.insync.replicas 2 no write can be
// acknowledged, so sessiond's writes wait (nothing is lost, nothing
// dead-lettered); 20 s later one broker comes back and the flow resumes.
func TestClusterMinInsyncReplicasNotMet(t *testing.T) {
	c := clusterOf(t)
	clusterCase(t, "min-isr", 26, func(s *setup) (time.Time, string) {
		began := time.Now()
		c.must("kill", "2")
		c.must("kill", "3")
		time.Sleep(20 * time.Second)
		c.must("start", "2")
		return began, "down=broker-2,broker-3 for=20s"
	})
}

// Exactly once on three brokers: the busiest leader killed with SIGKILL
// (transactions in flight lose their partitions' leader, and some their
// coordinator) and started again 15 s later.
func TestClusterExactlyOnceKillBusiestLeader(t *testing.T) {
	c := clusterOf(t)
	clusterCaseWith(t, "kill-leader", 27, true, killBusiest(t, c))
}

// Exactly once on three brokers through a rolling restart of the cluster.
func TestClusterExactlyOnceRollingRestart(t *testing.T) {
	c := clusterOf(t)
	clusterCaseWith(t, "roll", 28, true, func(s *setup) (time.Time, string) {
		began := time.Now()
		c.must("roll")
		return began, "took=" + time.Since(began).Round(time.Second).String()
	})
}
