//go:build fault

package fault

import (
	"context"
	"syscall"
	"testing"
	"time"

	"github.com/sessiond/sessiond/reducer"
	"github.com/twmb/franz-go/pkg/kgo"
)

// Exactly once (issue 21): sessiond runs with --processing-guarantee
// exactly-once while a fault hits it, and the output topic is read by
// franz-go (an independent client) at read_committed: every update_id that
// `sessiond reduce` gives is there exactly once, each visitor's updates in
// reduce's order. The same topic read at read_uncommitted may hold the
// records of aborted transactions: the REPORT line counts them, and the
// kill -9 case checks that they exist, so that the read_committed result
// is not 0 duplicates by accident.

// eosArgs are the flags of an exactly-once member.
func (s *setup) eosArgs(extra ...string) []string {
	return s.runArgs(append([]string{"--processing-guarantee", "exactly-once"}, extra...)...)
}

// eosVerdict reads the output both ways, reports, and fails the test on a
// duplicate, a missing update or a reordered visitor for the
// read_committed reader. It returns the read_uncommitted duplicates.
func eosVerdict(t *testing.T, name string, s *setup, want map[string]string, order []string, note string) int {
	t.Helper()
	committed := isolatedOutput(t, s, want, 4*time.Minute, kgo.ReadCommitted())
	v := judge(t, committed, want)
	r := reordered(committed, order)
	raw := judge(t, isolatedOutput(t, s, want, time.Minute, kgo.ReadUncommitted()), want)
	t.Logf("REPORT eos-%s: expected=%d read_committed_emitted=%d duplicates=%d missing=%d reordered=%d conflicting=%d read_uncommitted_emitted=%d read_uncommitted_duplicates=%d %s",
		name, len(want), v.emitted, v.duplicates, v.missing, r, v.conflicting, raw.emitted, raw.duplicates, note)
	if v.duplicates != 0 {
		t.Errorf("%d duplicates for a read_committed reader, want 0", v.duplicates)
	}
	if v.missing != 0 {
		t.Errorf("%d updates missing for a read_committed reader, want 0", v.missing)
	}
	if r != 0 {
		t.Errorf("%d visitors' updates out of order for a read_committed reader", r)
	}
	return raw.duplicates
}

// kill -9 every few seconds, restarting each time: each kill leaves an
// open transaction that the next member's fencing aborts.
func TestFaultExactlyOnceKill9(t *testing.T) {
	s := newSetup(t, 6)
	kill9Case(t, "kill9", s, events(t, 31, faultVisitors, faultEvents), 31, s.eosArgs())
}

// kill9Case is the kill -9 case on setup s, sessiond run with args.
func kill9Case(t *testing.T, name string, s *setup, evs []*reducer.Event, seed uint64, args []string) {
	t.Helper()
	want, order := expected(t, evs), reduceOrder(t, evs)
	kills := killEvery(t, s, evs, seed, args)
	aborted := eosVerdict(t, name, s, want, order, "kills="+itoa(kills))
	if kills < 3 {
		t.Errorf("only %d kills happened; the stream was too short", kills)
	}
	if aborted == 0 {
		t.Errorf("a read_uncommitted reader saw no record twice after %d kills -9: the aborted transactions' records should be there (is the output written in transactions?)", kills)
	}
}

// Three members restarted one after the other with SIGTERM: each drain
// commits its last transaction.
func TestFaultExactlyOnceRollingRestart(t *testing.T) {
	s := newSetup(t, 6)
	evs := events(t, 32, faultVisitors, faultEvents)
	want, order := expected(t, evs), reduceOrder(t, evs)
	procs := make([]*proc, 3)
	var all []*proc
	for i := range procs {
		procs[i] = start(t, "member-"+itoa(i), s.eosArgs()...)
		all = append(all, procs[i])
	}
	defer func() { dumpLogs(t, all...) }()
	next, i := time.Now().Add(8*time.Second), 0
	err := newProducer(t, s).send(context.Background(), evs, faultRate, func(int) {
		if i >= len(procs) || time.Now().Before(next) {
			return
		}
		if err := procs[i].term(30 * time.Second); err != nil {
			t.Errorf("member %d did not drain: %v", i, err)
		}
		procs[i] = start(t, "member-"+itoa(i)+"-again", s.eosArgs()...)
		all = append(all, procs[i])
		i++
		next = time.Now().Add(8 * time.Second)
	})
	if err != nil {
		t.Fatal(err)
	}
	eosVerdict(t, "rolling-restart", s, want, order, "restarts="+itoa(i))
}

// The zombie: one of two members is frozen with SIGSTOP past the group
// session timeout, the other takes its partitions over (fencing their
// transactional ids), and the frozen one is resumed: whatever it had in
// flight must never commit.
func TestFaultExactlyOnceZombie(t *testing.T) {
	s := newSetup(t, 6)
	zombieCase(t, "zombie", s, events(t, 33, faultVisitors, faultEvents), s.eosArgs())
}

// zombieCase is the zombie case on setup s, each member run with args.
func zombieCase(t *testing.T, name string, s *setup, evs []*reducer.Event, args []string) {
	t.Helper()
	want, order := expected(t, evs), reduceOrder(t, evs)
	zombie := start(t, "zombie", args...)
	other := start(t, "other", args...)
	defer func() { dumpLogs(t, zombie, other) }()
	frozen := false
	err := newProducer(t, s).send(context.Background(), evs, faultRate, func(sent int) {
		if frozen || sent < len(evs)/3 {
			return
		}
		frozen = true
		zombie.cmd.Process.Signal(syscall.SIGSTOP)
		go func() {
			time.Sleep(15 * time.Second) // the session timeout is 6 s
			zombie.cmd.Process.Signal(syscall.SIGCONT)
		}()
	})
	if err != nil {
		t.Fatal(err)
	}
	eosVerdict(t, name, s, want, order, "frozen_for=15s session=6s")
	if err := zombie.wait(0); err == nil {
		t.Errorf("the resumed member exited; it should rejoin the group")
	}
}

// A member stalls longer than its transaction timeout (and the session
// timeout) and is alone: the coordinator aborts its open transaction and
// bumps the epoch; when it resumes it is fenced, rejoins and starts again
// from the last commit.
func TestFaultExactlyOnceTransactionTimeout(t *testing.T) {
	s := newSetup(t, 6)
	evs := events(t, 34, 10_000, 100_000)
	want, order := expected(t, evs), reduceOrder(t, evs)
	p := start(t, "sessiond", s.eosArgs("--transaction-timeout", "3s")...)
	defer func() { dumpLogs(t, p) }()
	frozen := false
	err := newProducer(t, s).send(context.Background(), evs, faultRate, func(sent int) {
		if frozen || sent < len(evs)/3 {
			return
		}
		frozen = true
		p.cmd.Process.Signal(syscall.SIGSTOP)
		go func() {
			time.Sleep(10 * time.Second)
			p.cmd.Process.Signal(syscall.SIGCONT)
		}()
	})
	if err != nil {
		t.Fatal(err)
	}
	eosVerdict(t, "transaction-timeout", s, want, order, "frozen_for=10s transaction_timeout=3s")
}

// The broker is restarted while sessiond commits a transaction a second:
// commits in flight fail or are retried, nothing is lost or doubled.
func TestFaultExactlyOnceBrokerRestart(t *testing.T) {
	restart := restartCommand(t)
	s := newSetup(t, 3)
	evs := events(t, 35, 5_000, 100_000)
	want, order := expected(t, evs), reduceOrder(t, evs)
	p := start(t, "sessiond", s.eosArgs()...)
	defer func() { dumpLogs(t, p) }()
	restarted := false
	err := newProducer(t, s).send(context.Background(), evs, faultRate, func(sent int) {
		if restarted || sent < len(evs)/3 {
			return
		}
		restarted = true
		if out, err := restart(); err != nil {
			t.Fatalf("broker restart: %v: %s", err, out)
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	eosVerdict(t, "broker-restart", s, want, order, "")
	if err := p.wait(0); err == nil {
		t.Errorf("sessiond exited during the broker restart")
	}
}

// On three brokers: sessiond killed with SIGKILL every few seconds, and the
// zombie, with replicated topics (the cluster suite's settings).
func TestClusterExactlyOnceKill9(t *testing.T) {
	clusterOf(t)
	s := clusterSetup(t, 6)
	kill9Case(t, "cluster-kill9", s, events(t, 36, clusterVisitors, clusterEvents), 36,
		append(s.clusterRunArgs(), "--processing-guarantee", "exactly-once", "--group-session-timeout", "6s"))
}

func TestClusterExactlyOnceZombie(t *testing.T) {
	clusterOf(t)
	s := clusterSetup(t, 6)
	zombieCase(t, "cluster-zombie", s, events(t, 37, clusterVisitors, clusterEvents),
		append(s.clusterRunArgs(), "--processing-guarantee", "exactly-once", "--group-session-timeout", "6s"))
}
