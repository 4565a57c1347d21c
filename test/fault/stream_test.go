//go:build fault

package fault

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"
	"github.com/sessiond/sessiond/internal/gen"
	"github.com/sessiond/sessiond/internal/kclient"
	"github.com/sessiond/sessiond/internal/kclient/kafkatest"
	"github.com/sessiond/sessiond/reducer"
	"github.com/sessiond/sessiond/schemas"
	"github.com/sessiond/sessiond/schemas/eventjson"
)

// setup is one test's topics on the external broker.
type setup struct {
	brokers                               []string
	cart, customer, action, out, dlq, grp string
	partitions                            int
}

func newSetup(t *testing.T, partitions int) *setup {
	t.Helper()
	if !kafkatest.External() {
		t.Skip("the fault suite needs a real Kafka: run scripts/test.sh, or set KAFKA_BROKERS")
	}
	s := &setup{
		brokers: kafkatest.Brokers(t), partitions: partitions,
		cart: kafkatest.Name("f-cart"), customer: kafkatest.Name("f-customer"), action: kafkatest.Name("f-actions"),
		out: kafkatest.Name("f-updates"), dlq: kafkatest.Name("f-dlq"), grp: kafkatest.Name("f-sessiond"),
	}
	kafkatest.CreateTopics(t, s.brokers, partitions, s.cart, s.customer, s.action, s.out, s.dlq)
	return s
}

// runArgs are the flags of `sessiond run` for this setup.
func (s *setup) runArgs(extra ...string) []string {
	return append([]string{"run", "--brokers", strings.Join(s.brokers, ","), "--group", s.grp,
		"--cart-topic", s.cart, "--customer-topic", s.customer, "--action-topic", s.action,
		"--output-topic", s.out, "--dlq-topic", s.dlq, "--http-addr", "", "--log-level", "info",
		"--group-session-timeout", "6s"}, extra...)
}

func (s *setup) topic(k reducer.Kind) string {
	return [3]string{s.cart, s.customer, s.action}[k]
}

// events generates n events over visitors shoppers, in the pipeline's merge
// order: event time, then kind (the generator may give an order and the
// cart reset after it the same millisecond), so that `sessiond reduce` in
// file order gives what the pipeline should.
func events(t *testing.T, seed uint64, visitors, n int) []*reducer.Event {
	t.Helper()
	g, err := gen.New(gen.Config{Seed: seed, Visitors: visitors})
	if err != nil {
		t.Fatal(err)
	}
	evs := g.Take(n)
	sort.SliceStable(evs, func(i, j int) bool { return reducer.Before(evs[i], evs[j]) })
	return evs
}

// expected runs `sessiond reduce` on the events: the updates a correct run
// must emit, by update_id.
func expected(t *testing.T, evs []*reducer.Event) map[string]string {
	t.Helper()
	var in bytes.Buffer
	for _, ev := range evs {
		in.Write(eventjson.AppendEvent(nil, ev))
		in.WriteByte('\n')
	}
	cmd := exec.Command(binary(t), "reduce")
	cmd.Stdin = &in
	var out, errs bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errs
	if err := cmd.Run(); err != nil {
		t.Fatalf("reduce: %v: %s", err, errs.String())
	}
	want := map[string]string{}
	for _, l := range strings.Split(strings.TrimSpace(out.String()), "\n") {
		want[updateID(l)] = l
	}
	return want
}

func updateID(line string) string {
	const k = `{"update_id":"`
	rest := strings.TrimPrefix(line, k)
	return rest[:strings.IndexByte(rest, '"')]
}

// producer paces events onto the input topics.
type producer struct {
	t      *testing.T
	s      *setup
	w      kclient.MessageWriter
	codecs *schemas.Codecs
	kp     *kclient.Producer // sessiond's own producer behind w, when it is
}

func newProducer(t *testing.T, s *setup) *producer {
	t.Helper()
	c, err := schemas.Load()
	if err != nil {
		t.Fatal(err)
	}
	w := kclient.PlainConn(s.brokers).Writer("", &kafka.Murmur2Balancer{})
	t.Cleanup(func() { w.Close() })
	return &producer{t: t, s: s, w: w, codecs: c}
}

// send writes evs at about rate events/s in 20 ms slices, calling tick
// after each slice (for fault injection). Writes are retried until ctx ends,
// so a broker restart only pauses it.
func (p *producer) send(ctx context.Context, evs []*reducer.Event, rate int, tick func(sent int)) error {
	per := max(1, rate/50)
	next := time.Now()
	for i := 0; i < len(evs); i += per {
		msgs := make([]kafka.Message, 0, per)
		for _, ev := range evs[i:min(i+per, len(evs))] {
			v, err := p.codecs.EncodeEvent(nil, ev)
			if err != nil {
				return err
			}
			msgs = append(msgs, kafka.Message{Topic: p.s.topic(ev.Kind), Key: []byte(ev.VisitorID), Value: v})
		}
		if err := p.write(ctx, msgs); err != nil {
			return fmt.Errorf("produce: %w", err)
		}
		if tick != nil {
			tick(min(i+per, len(evs)))
		}
		next = next.Add(20 * time.Millisecond)
		time.Sleep(time.Until(next))
	}
	return nil
}

// stallAfter is how long one write of the input may take before the
// watchdog logs the producer's state and every goroutine's stack (a write
// that waits through a fault takes seconds, one that hangs never ends).
const stallAfter = 90 * time.Second

// write writes msgs with Write's retries, logging the first retries' errors
// and, if the write stalls, the producer's state and the goroutines.
func (p *producer) write(ctx context.Context, msgs []kafka.Message) error {
	retries := 0
	notify := func(err error, d time.Duration) {
		if retries++; retries <= 5 {
			p.t.Logf("input write retried in %s: %v", d, err)
		}
	}
	done := make(chan struct{})
	defer close(done)
	go func() {
		select {
		case <-done:
			return
		case <-time.After(stallAfter):
		}
		state := "(kafka-go writer)"
		if p.kp != nil {
			state = p.kp.DebugState()
		}
		buf := make([]byte, 8<<20)
		buf = buf[:runtime.Stack(buf, true)]
		p.t.Errorf("input write of %d records stalled for %s; producer state:\n%s\ngoroutines:\n%s", len(msgs), stallAfter, state, buf)
	}()
	return kclient.Write(ctx, p.w, msgs, kclient.DefaultRetryPolicy(), notify)
}

// output is what the output topic holds, decoded.
type output struct {
	lines []string    // reduce format
	times []time.Time // Kafka timestamps, same order
}

// readOutput reads the output topic until it holds every wanted update_id
// (or timeout).
func readOutput(t *testing.T, s *setup, want map[string]string, timeout time.Duration) output {
	t.Helper()
	codecs, _ := schemas.Load()
	deadline := time.Now().Add(timeout)
	for {
		msgs, err := kafkatest.ReadAll(context.Background(), s.brokers, s.out)
		if err == nil {
			var o output
			seen := map[string]bool{}
			for _, m := range msgs {
				u, err := codecs.DecodeUpdate(m.Value)
				if err != nil {
					t.Fatalf("undecodable update at offset %d: %v", m.Offset, err)
				}
				o.lines = append(o.lines, string(eventjson.AppendUpdate(nil, u)))
				o.times = append(o.times, m.Time)
				seen[u.UpdateID] = true
			}
			if len(seen) >= len(want) || time.Now().After(deadline) {
				return o
			}
		} else if time.Now().After(deadline) {
			t.Fatalf("read output: %v", err)
		}
		time.Sleep(time.Second)
	}
}

// verdict compares the output with the expected updates.
type verdict struct {
	emitted, distinct, duplicates, missing, conflicting, differFromReduce int
}

func judge(t *testing.T, o output, want map[string]string) verdict {
	t.Helper()
	var v verdict
	first := map[string]string{}
	for _, l := range o.lines {
		id := updateID(l)
		v.emitted++
		if prev, ok := first[id]; ok {
			v.duplicates++
			if prev != l {
				v.conflicting++
				t.Errorf("update %s seen twice with different content:\n%s\n%s", id, prev, l)
			}
			continue
		}
		first[id] = l
	}
	v.distinct = len(first)
	for id, l := range want {
		got, ok := first[id]
		if !ok {
			v.missing++
			if v.missing <= 5 {
				t.Logf("missing update: %s", l)
			}
			continue
		}
		if got != l {
			v.differFromReduce++
			if v.differFromReduce <= 2 {
				t.Logf("differs from reduce (a live merge decision):\n got %s\nwant %s", got, l)
			}
		}
	}
	if v.missing > 0 {
		t.Errorf("%d of %d expected updates missing", v.missing, len(want))
	}
	if v.distinct != len(want) {
		t.Errorf("%d distinct updates emitted, %d expected", v.distinct, len(want))
	}
	return v
}

func dumpLogs(t *testing.T, ps ...*proc) {
	if !t.Failed() {
		return
	}
	for _, p := range ps {
		out := p.output()
		if len(out) > 4000 {
			out = out[len(out)-4000:]
		}
		t.Logf("log of pid %d (tail):\n%s", p.cmd.Process.Pid, out)
	}
	if os.Getenv("FAULT_KEEP_LOGS") != "" {
		for _, p := range ps {
			t.Logf("full log: %s", p.log)
		}
	}
}
