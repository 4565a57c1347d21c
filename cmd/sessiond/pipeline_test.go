package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"
	"github.com/sessiond/sessiond/emitter"
	"github.com/sessiond/sessiond/internal/gen"
	"github.com/sessiond/sessiond/internal/kclient"
	"github.com/sessiond/sessiond/internal/kclient/kafkatest"
	"github.com/sessiond/sessiond/reducer"
	"github.com/sessiond/sessiond/schemas"
	"github.com/sessiond/sessiond/schemas/eventjson"
)

// stream returns n generated events as JSON lines in the pipeline's merge
// order (event time, then kind), so that reduce's file order matches it.
func stream(t *testing.T, seed uint64, visitors, n int) []string {
	t.Helper()
	g, err := gen.New(gen.Config{Seed: seed, Visitors: visitors})
	if err != nil {
		t.Fatal(err)
	}
	evs := g.Take(n)
	sort.SliceStable(evs, func(i, j int) bool { return reducer.Before(evs[i], evs[j]) })
	lines := make([]string, n)
	for i, ev := range evs {
		lines[i] = string(eventjson.AppendEvent(nil, ev))
	}
	return lines
}

// reduceLines runs `sessiond reduce` over lines and returns its updates.
func reduceLines(t *testing.T, lines []string) []string {
	t.Helper()
	var out, errs bytes.Buffer
	in := strings.Join(lines, "\n") + "\n"
	if code := Main(context.Background(), []string{"reduce"}, stdio{in: strings.NewReader(in), out: &out, err: &errs}); code != 0 {
		t.Fatalf("reduce exited %d: %s", code, errs.String())
	}
	return strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
}

func ofKind(lines []string, kind string) []string {
	var out []string
	for _, l := range lines {
		if strings.Contains(l, `"type":"`+kind+`"`) && strings.HasPrefix(l, `{"type":"`+kind+`"`) {
			out = append(out, l)
		}
	}
	return out
}

func join(lines []string) string { return strings.Join(lines, "\n") + "\n" }

// updateID and visitorID pick fields out of an update line.
func fields(t *testing.T, line string) (id, visitor string) {
	t.Helper()
	var u struct {
		UpdateID  string `json:"update_id"`
		VisitorID string `json:"visitor_id"`
	}
	if err := json.Unmarshal([]byte(line), &u); err != nil {
		t.Fatalf("bad update %q: %v", line, err)
	}
	return u.UpdateID, u.VisitorID
}

// assertSameUpdates checks that got (as read from the output topic) holds
// exactly want: same updates, each visitor's in the same order.
func assertSameUpdates(t *testing.T, got, want []string) {
	t.Helper()
	g, w := slices.Clone(got), slices.Clone(want)
	slices.Sort(g)
	slices.Sort(w)
	if !slices.Equal(g, w) {
		t.Fatalf("updates differ: got %d, want %d\n%s", len(got), len(want), firstDiff(g, w))
	}
	if a, b := perVisitor(t, got), perVisitor(t, want); !equalOrders(a, b) {
		t.Fatalf("some visitor's updates came out of order")
	}
}

// assertComplete checks at-least-once: every wanted update is there, and an
// update_id seen more than once always has the same content.
func assertComplete(t *testing.T, got, want []string) (dups int) {
	t.Helper()
	byID := map[string]string{}
	for _, l := range got {
		id, _ := fields(t, l)
		if prev, ok := byID[id]; ok {
			dups++
			if prev != l {
				t.Errorf("update %s emitted twice with different content:\n%s\n%s", id, prev, l)
			}
		}
		byID[id] = l
	}
	missing := 0
	for _, l := range want {
		id, _ := fields(t, l)
		if _, ok := byID[id]; !ok {
			missing++
		}
	}
	if missing > 0 || len(byID) != len(want) {
		t.Fatalf("%d of %d updates missing, %d distinct emitted", missing, len(want), len(byID))
	}
	return dups
}

func perVisitor(t *testing.T, lines []string) map[string][]string {
	m := map[string][]string{}
	for _, l := range lines {
		id, v := fields(t, l)
		m[v] = append(m[v], id)
	}
	return m
}

func equalOrders(a, b map[string][]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if !slices.Equal(v, b[k]) {
			return false
		}
	}
	return true
}

func firstDiff(a, b []string) string {
	for i := 0; i < len(a) && i < len(b); i++ {
		if a[i] != b[i] {
			return fmt.Sprintf("first difference (sorted) at %d:\n got %s\nwant %s", i, a[i], b[i])
		}
	}
	return "one is a prefix of the other"
}

func TestPipelineMatchesReduce(t *testing.T) {
	e := newEnv(t, 4)
	lines := stream(t, 1, 200, 6000)
	want := reduceLines(t, lines)
	e.produce(t, join(lines))
	e.start(t)
	assertSameUpdates(t, e.updates(t, len(want), 2*time.Minute), want)
}

func TestPipelineScrambledInterleaving(t *testing.T) {
	e := newEnv(t, 3)
	lines := stream(t, 2, 150, 4000)
	want := reduceLines(t, lines)
	// All actions first, then carts, then customers: only the event-time
	// merge can put them back in order.
	e.produce(t, join(ofKind(lines, "action")))
	e.produce(t, join(ofKind(lines, "cart_changed")))
	e.produce(t, join(ofKind(lines, "customer_changed")))
	e.start(t)
	assertSameUpdates(t, e.updates(t, len(want), 2*time.Minute), want)
}

func TestPipelineRestartRestoresState(t *testing.T) {
	e := newEnv(t, 3)
	lines := stream(t, 3, 100, 6000)
	want := reduceLines(t, lines)
	first := reduceLines(t, lines[:3000])
	e.produce(t, join(lines[:3000]))
	stop := e.start(t)
	e.updates(t, len(first), 2*time.Minute)
	stop()
	// The second half needs the first half's carts and customers: they can
	// only come from the changelog.
	e.produce(t, join(lines[3000:]))
	e.start(t)
	got := e.updates(t, len(want), 2*time.Minute)
	if dups := assertComplete(t, got, want); dups > 0 {
		t.Logf("%d updates re-emitted (identical content)", dups)
	}
	assertSameUpdates(t, dedupe(t, got), want)
}

// dedupe keeps the first copy of each update_id.
func dedupe(t *testing.T, lines []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, l := range lines {
		id, _ := fields(t, l)
		if !seen[id] {
			seen[id] = true
			out = append(out, l)
		}
	}
	return out
}

func TestPipelineTwoMembersSplitPartitions(t *testing.T) {
	e := newEnv(t, 4)
	lines := stream(t, 4, 200, 5000)
	want := reduceLines(t, lines)
	e.produce(t, join(lines))
	addrs := []string{freeAddr(t), freeAddr(t)}
	e.start(t, "--http-addr", addrs[0])
	e.start(t, "--http-addr", addrs[1])
	got := e.updates(t, len(want), 2*time.Minute)
	assertComplete(t, got, want)
	waitFor(t, time.Minute, "both members to own partitions", func() bool {
		a, b := assigned(addrs[0]), assigned(addrs[1])
		return a > 0 && b > 0 && a+b == 4
	})
}

func TestPipelinePoisonRecords(t *testing.T) {
	e := newEnv(t, 2)
	lines := stream(t, 5, 50, 1000)
	want := reduceLines(t, lines)
	e.produce(t, join(lines[:500]))
	poison := poisonRecords(t, e)
	e.produce(t, join(lines[500:]))
	e.start(t)
	assertSameUpdates(t, e.updates(t, len(want), 2*time.Minute), want)
	dead := kafkatest.ReadUntil(t, e.brokers, e.dlq, time.Minute, func(m []kafka.Message) bool { return len(m) >= len(poison) })
	if len(dead) != len(poison) {
		t.Fatalf("%d dead letters, want %d", len(dead), len(poison))
	}
	for _, m := range dead {
		h := headers(m)
		src := h[emitter.HeaderSourceTopic] + "@" + h[emitter.HeaderSourceOffset]
		if _, ok := poison[src]; !ok || h[emitter.HeaderError] == "" || h[emitter.HeaderSourcePartition] == "" {
			t.Errorf("dead letter without provenance: %v", h)
		}
		if !bytes.Equal(m.Value, poison[src]) {
			t.Errorf("dead letter %s does not carry the original bytes", src)
		}
	}
}

// poisonRecords writes, to every input topic, garbage bytes and a
// well-formed Avro record that breaks a validation rule, and returns them
// by topic@offset.
func poisonRecords(t *testing.T, e *env) map[string][]byte {
	t.Helper()
	codecs, err := schemas.Load()
	if err != nil {
		t.Fatal(err)
	}
	bad := map[string][]byte{
		e.cart:     encodeUnchecked(t, codecs, &reducer.Event{Kind: reducer.KindCart, VisitorID: "v-bad", EventID: "p1", Cart: &reducer.Cart{Items: []reducer.Item{{ProductID: "1", Name: "x", Quantity: -1, PriceCurrencyCode: "EUR"}}}}),
		e.customer: encodeUnchecked(t, codecs, &reducer.Event{Kind: reducer.KindCustomer, VisitorID: "", EventID: "p2", Customer: &reducer.Customer{}}),
		e.action:   encodeUnchecked(t, codecs, &reducer.Event{Kind: reducer.KindAction, VisitorID: "v-bad", EventID: "p3", Action: &reducer.Action{Type: reducer.ActionViewProduct}}),
	}
	out := map[string][]byte{}
	w := kclient.PlainConn(e.brokers).Writer("", &kafka.Murmur2Balancer{})
	defer w.Close()
	for topic, value := range bad {
		for _, v := range [][]byte{[]byte("\x00\xffgarbage"), value} {
			before := endOffsets(t, e.brokers, topic)
			if err := w.WriteMessages(context.Background(), kafka.Message{Topic: topic, Key: []byte("v-bad"), Value: v}); err != nil {
				t.Fatal(err)
			}
			after := endOffsets(t, e.brokers, topic)
			for p, end := range after {
				if end > before[p] {
					out[fmt.Sprintf("%s@%d", topic, end-1)] = v
				}
			}
		}
	}
	return out
}

// encodeUnchecked encodes an event that Validate would refuse, as a broken
// producer might.
func encodeUnchecked(t *testing.T, c *schemas.Codecs, ev *reducer.Event) []byte {
	t.Helper()
	b, err := c.EncodeEvent(nil, ev)
	if err != nil {
		t.Fatalf("encode: %v", err)
	}
	return b
}

func endOffsets(t *testing.T, brokers []string, topic string) map[int]int64 {
	t.Helper()
	c := kclient.PlainConn(brokers).Client()
	counts, err := kclient.PartitionCounts(context.Background(), c, topic)
	if err != nil {
		t.Fatal(err)
	}
	parts := make([]int, counts[topic])
	for i := range parts {
		parts[i] = i
	}
	offs, err := kclient.Offsets(context.Background(), c, topic, parts...)
	if err != nil {
		t.Fatal(err)
	}
	out := map[int]int64{}
	for p, r := range offs {
		out[p] = r.End
	}
	return out
}

func headers(m kafka.Message) map[string]string {
	h := map[string]string{}
	for _, x := range m.Headers {
		h[x.Key] = string(x.Value)
	}
	return h
}

func TestPipelineRefusesUnequalPartitionCounts(t *testing.T) {
	e := newEnv(t, 2)
	e.action = kafkatest.Name("actions")
	kafkatest.CreateTopics(t, e.brokers, 3, e.action)
	var errs bytes.Buffer
	code := Main(context.Background(), append([]string{"run"}, e.runFlags()...), stdio{in: strings.NewReader(""), out: io.Discard, err: &errs})
	if code == 0 || !strings.Contains(errs.String(), "equal partition counts") {
		t.Fatalf("exit %d, stderr %q: want a refusal naming the partition counts", code, errs.String())
	}
}

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// assigned scrapes sessiond_assigned_partitions from a member's /metrics.
func assigned(addr string) int { return int(metric(addr, "sessiond_assigned_partitions")) }

func waitFor(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func TestPipelineRefusesMissingOutputTopic(t *testing.T) {
	e := newEnv(t, 2)
	e.out = kafkatest.Name("missing")
	var errs bytes.Buffer
	code := Main(context.Background(), append([]string{"run"}, e.runFlags()...), stdio{in: strings.NewReader(""), out: io.Discard, err: &errs})
	if code == 0 || !strings.Contains(errs.String(), "output topic") {
		t.Fatalf("exit %d, stderr %q: want a refusal naming the output topic", code, errs.String())
	}
}
