//go:build fault

package fault

import (
	"context"
	"math/rand/v2"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/sessiond/sessiond/internal/kclient/kafkatest"
	"github.com/sessiond/sessiond/reducer"
)

// Stream sizes: at least 200,000 events over many visitors, paced so that
// the faults land while events flow.
const (
	faultEvents   = 200_000
	faultVisitors = 20_000
	faultRate     = 5_000 // events/s: a 40 s stream
)

// TestFaultKill9 kills sessiond with SIGKILL at random moments while the
// stream flows, restarting it each time, and checks that every expected
// update was emitted and that duplicates are identical.
func TestFaultKill9(t *testing.T) {
	s := newSetup(t, 6)
	evs := events(t, 11, faultVisitors, faultEvents)
	want := expected(t, evs)
	kills := killEvery(t, s, evs, 11, s.runArgs())
	o := readOutput(t, s, want, 3*time.Minute)
	v := judge(t, o, want)
	t.Logf("REPORT kill9: events=%d visitors=%d kills=%d expected=%d emitted=%d distinct=%d duplicates=%d conflicting=%d missing=%d differ_from_reduce=%d",
		len(evs), faultVisitors, kills, len(want), v.emitted, v.distinct, v.duplicates, v.conflicting, v.missing, v.differFromReduce)
	if kills < 3 {
		t.Errorf("only %d kills happened; the stream was too short", kills)
	}
}

// killEvery runs sessiond with args while evs are sent, killing it with
// SIGKILL every 3-7 s (jitter from seed) and starting it again, and
// returns the number of kills.
func killEvery(t *testing.T, s *setup, evs []*reducer.Event, seed uint64, args []string) int {
	t.Helper()
	p := start(t, "sessiond-0", args...)
	procs := []*proc{p}
	t.Cleanup(func() { dumpLogs(t, procs...) }) // at the test's end, once it is judged
	rng := rand.New(rand.NewPCG(seed, 0))
	kills := 0
	nextKill := time.Now().Add(jitter(rng, 3*time.Second, 6*time.Second))
	err := newProducer(t, s).send(context.Background(), evs, faultRate, func(int) {
		if time.Now().Before(nextKill) {
			return
		}
		p.kill9()
		kills++
		p = start(t, "sessiond-"+itoa(kills), args...)
		procs = append(procs, p)
		nextKill = time.Now().Add(jitter(rng, 3*time.Second, 7*time.Second))
	})
	if err != nil {
		t.Fatal(err)
	}
	return kills
}

// TestFaultRollingRestart restarts three members of one group one after
// the other (SIGTERM, drain, start again) while events flow, and reports the
// pause in output around each restart.
func TestFaultRollingRestart(t *testing.T) {
	s := newSetup(t, 6)
	evs := events(t, 12, faultVisitors, faultEvents)
	want := expected(t, evs)
	procs := make([]*proc, 3)
	all := []*proc{}
	for i := range procs {
		procs[i] = start(t, "member-"+itoa(i), s.runArgs()...)
		all = append(all, procs[i])
	}
	defer func() { dumpLogs(t, all...) }()
	var restarts []time.Time
	next, i := time.Now().Add(8*time.Second), 0
	err := newProducer(t, s).send(context.Background(), evs, faultRate, func(int) {
		if i >= len(procs) || time.Now().Before(next) {
			return
		}
		restarts = append(restarts, time.Now())
		if err := procs[i].term(30 * time.Second); err != nil {
			t.Errorf("member %d did not drain: %v", i, err)
		}
		procs[i] = start(t, "member-"+itoa(i)+"-again", s.runArgs()...)
		all = append(all, procs[i])
		i++
		next = time.Now().Add(8 * time.Second)
	})
	if err != nil {
		t.Fatal(err)
	}
	o := readOutput(t, s, want, 3*time.Minute)
	v := judge(t, o, want)
	pauses := make([]string, len(restarts))
	for k, at := range restarts {
		pauses[k] = maxGap(o.times, at.Add(-time.Second), at.Add(20*time.Second)).Round(10 * time.Millisecond).String()
	}
	baseline := maxGap(o.times, time.Time{}, restarts[0].Add(-time.Second)).Round(10 * time.Millisecond)
	t.Logf("REPORT rolling-restart: events=%d members=3 restarts=%d expected=%d emitted=%d distinct=%d duplicates=%d conflicting=%d missing=%d differ_from_reduce=%d output_pause_per_restart=[%s] largest_gap_before_restarts=%s",
		len(evs), len(restarts), len(want), v.emitted, v.distinct, v.duplicates, v.conflicting, v.missing, v.differFromReduce,
		strings.Join(pauses, " "), baseline)
	if len(restarts) != 3 {
		t.Errorf("%d restarts happened, want 3", len(restarts))
	}
}

// TestFaultSIGTERMUnderLoad stops sessiond with SIGTERM while a fast
// producer keeps it busy, starts it again, and expects zero duplicates: the
// write in flight at SIGTERM is finished under the drain, not cancelled and
// sent again, and the last batch's offsets are committed before it exits.
func TestFaultSIGTERMUnderLoad(t *testing.T) {
	const events300k, fast = 300_000, 60_000 // events/s: the member is busy
	s := newSetup(t, 6)
	evs := events(t, 14, faultVisitors, events300k)
	want := expected(t, evs)
	p := start(t, "sessiond", s.runArgs()...)
	procs := []*proc{p}
	defer func() { dumpLogs(t, procs...) }()
	termAt := time.Now().Add(3500 * time.Millisecond)
	stopped := false
	err := newProducer(t, s).send(context.Background(), evs, fast, func(int) {
		if stopped || time.Now().Before(termAt) {
			return
		}
		stopped = true
		if err := p.term(30 * time.Second); err != nil {
			t.Errorf("sessiond did not drain after SIGTERM: %v", err)
		}
		p = start(t, "sessiond-again", s.runArgs()...)
		procs = append(procs, p)
	})
	if err != nil {
		t.Fatal(err)
	}
	if !stopped {
		t.Fatal("the stream ended before SIGTERM")
	}
	o := readOutput(t, s, want, 3*time.Minute)
	v := judge(t, o, want)
	t.Logf("REPORT sigterm-under-load: events=%d expected=%d emitted=%d distinct=%d duplicates=%d conflicting=%d missing=%d differ_from_reduce=%d",
		len(evs), len(want), v.emitted, v.distinct, v.duplicates, v.conflicting, v.missing, v.differFromReduce)
	if v.duplicates != 0 {
		t.Errorf("%d updates written twice across a SIGTERM, want 0", v.duplicates)
	}
}

// TestFaultBrokerRestart restarts the Kafka broker mid-stream; sessiond
// must recover on its own.
func TestFaultBrokerRestart(t *testing.T) {
	restart := restartCommand(t)
	s := newSetup(t, 3)
	evs := events(t, 13, 5_000, 100_000)
	want := expected(t, evs)
	p := start(t, "sessiond", s.runArgs()...)
	defer func() { dumpLogs(t, p) }()
	restarted := false
	var took time.Duration
	err := newProducer(t, s).send(context.Background(), evs, faultRate, func(sent int) {
		if restarted || sent < len(evs)/3 {
			return
		}
		restarted = true
		begin := time.Now()
		if out, err := restart(); err != nil {
			t.Fatalf("broker restart: %v: %s", err, out)
		}
		took = time.Since(begin)
	})
	if err != nil {
		t.Fatal(err)
	}
	o := readOutput(t, s, want, 4*time.Minute)
	v := judge(t, o, want)
	t.Logf("REPORT broker-restart: events=%d broker_down_and_up=%s expected=%d emitted=%d distinct=%d duplicates=%d conflicting=%d missing=%d differ_from_reduce=%d",
		len(evs), took.Round(100*time.Millisecond), len(want), v.emitted, v.distinct, v.duplicates, v.conflicting, v.missing, v.differFromReduce)
	if err := p.wait(0); err == nil {
		t.Errorf("sessiond exited during the broker restart")
	}
}

// TestFaultUnequalPartitions: sessiond refuses to start on input topics
// that are not co-partitioned, with a clear error.
func TestFaultUnequalPartitions(t *testing.T) {
	s := newSetup(t, 4)
	s.customer = kafkatest.Name("f-customer")
	kafkatest.CreateTopics(t, s.brokers, 2, s.customer)
	p := start(t, "sessiond", s.runArgs()...)
	err := p.wait(60 * time.Second)
	out := p.output()
	if err == nil || !strings.Contains(out, "equal partition counts") {
		t.Fatalf("want a non-zero exit naming the partition counts; err=%v output:\n%s", err, out)
	}
	t.Logf("REPORT unequal-partitions: refused with %q", strings.TrimSpace(out))
}

func maxGap(times []time.Time, from, to time.Time) time.Duration {
	var in []time.Time
	for _, x := range times {
		if !x.Before(from) && x.Before(to) {
			in = append(in, x)
		}
	}
	sort.Slice(in, func(i, j int) bool { return in[i].Before(in[j]) })
	var gap time.Duration
	for i := 1; i < len(in); i++ {
		gap = max(gap, in[i].Sub(in[i-1]))
	}
	return gap
}

func jitter(rng *rand.Rand, lo, hi time.Duration) time.Duration {
	return lo + time.Duration(rng.Int64N(int64(hi-lo)))
}

func itoa(i int) string { return strconv.Itoa(i) }
