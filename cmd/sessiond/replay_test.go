package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"
	"github.com/sessiond/sessiond/internal/kclient"
	"github.com/sessiond/sessiond/internal/kclient/kafkatest"
)

// occurredAt picks the occurred_at of an update line.
func occurredAt(t *testing.T, line string) string {
	t.Helper()
	i := strings.Index(line, `"occurred_at":"`)
	if i < 0 {
		t.Fatalf("no occurred_at in %s", line)
	}
	return line[i+15 : i+15+24]
}

// inWindow keeps the update lines whose occurred_at is in [from, to).
func inWindow(t *testing.T, lines []string, from, to string) []string {
	var out []string
	for _, l := range lines {
		if at := occurredAt(t, l); at >= from && at < to {
			out = append(out, l)
		}
	}
	return out
}

// replayCmd runs `sessiond replay` with the env's input topics and extra
// flags, and returns its exit code, stdout and stderr.
func (e *env) replayCmd(ctx context.Context, extra ...string) (int, string, string) {
	var out, errs syncBuffer
	code := Main(ctx, append(append([]string{"replay"}, e.topicFlags()...), extra...),
		stdio{in: strings.NewReader(""), out: &out, err: &errs})
	return code, out.String(), errs.String()
}

func (e *env) replayFile(t *testing.T, extra ...string) []string {
	t.Helper()
	file := filepath.Join(t.TempDir(), "updates.jsonl")
	code, _, errs := e.replayCmd(context.Background(), append(extra, "--output-file", file)...)
	if code != 0 {
		t.Fatalf("replay exited %d: %s", code, errs)
	}
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	return strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")
}

// committed returns the group's committed offsets of the input topics.
func (e *env) committed(t *testing.T) map[string]map[int]int64 {
	t.Helper()
	resp, err := kclient.PlainConn(e.brokers).Client().OffsetFetch(context.Background(), &kafka.OffsetFetchRequest{
		GroupID: e.grp, Topics: map[string][]int{e.cart: {0, 1, 2, 3}, e.customer: {0, 1, 2, 3}, e.action: {0, 1, 2, 3}}})
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]map[int]int64{}
	for topic, ps := range resp.Topics {
		out[topic] = map[int]int64{}
		for _, p := range ps {
			out[topic][p.Partition] = p.CommittedOffset
		}
	}
	return out
}

// A replay of a middle window writes exactly what the live pipeline
// emitted for it (same update_ids, same bytes), to a file and to a topic,
// and leaves the live group's offsets alone; partition ranges split it
// exactly; a replay cut short can be run again.
func TestPipelineReplayMatchesRun(t *testing.T) {
	e := newEnv(t, 4)
	lines := stream(t, 11, 120, 4000)
	e.produce(t, join(lines))
	want := reduceLines(t, lines)
	stop := e.start(t)
	live := dedupe(t, e.updates(t, len(want), 2*time.Minute))
	stop()
	before := e.committed(t)
	from, to := occurredAt(t, want[len(want)/3]), occurredAt(t, want[2*len(want)/3])
	window := inWindow(t, live, from, to)

	got := e.replayFile(t, "--from", from, "--to", to)
	assertSameUpdates(t, got, window)

	t.Run("partition ranges", func(t *testing.T) {
		a := e.replayFile(t, "--from", from, "--to", to, "--partitions", "0-1")
		b := e.replayFile(t, "--from", from, "--to", to, "--partitions", "2,3")
		assertSameUpdates(t, append(a, b...), window)
	})
	t.Run("output topic", func(t *testing.T) {
		out := kafkatest.Name("replayed")
		kafkatest.CreateTopics(t, e.brokers, 4, out)
		if code, _, errs := e.replayCmd(context.Background(), "--from", from, "--to", to, "--output-topic", out); code != 0 {
			t.Fatalf("replay exited %d: %s", code, errs)
		}
		msgs := kafkatest.ReadUntil(t, e.brokers, out, time.Minute, func(m []kafka.Message) bool { return len(m) >= len(window) })
		assertSameUpdates(t, decodeUpdates(t, msgs), window)
	})
	t.Run("cut short and run again", func(t *testing.T) {
		out := kafkatest.Name("rerun")
		kafkatest.CreateTopics(t, e.brokers, 4, out)
		ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
		e.replayCmd(ctx, "--from", from, "--to", to, "--output-topic", out, "--max-clock-skew", "1h")
		cancel()
		if code, _, errs := e.replayCmd(context.Background(), "--from", from, "--to", to, "--output-topic", out); code != 0 {
			t.Fatalf("replay exited %d: %s", code, errs)
		}
		msgs := kafkatest.ReadUntil(t, e.brokers, out, time.Minute, func(m []kafka.Message) bool { return len(m) >= len(window) })
		got := decodeUpdates(t, msgs)
		if dups := assertComplete(t, got, window); dups > 0 {
			t.Logf("%d updates written twice, identical (idempotent by update_id)", dups)
		}
	})
	t.Run("nosto", func(t *testing.T) {
		t.Setenv("SESSIOND_NOSTO_TOKEN", "replay-token")
		nosto := newNostoServer(t)
		if code, _, errs := e.replayCmd(context.Background(), "--from", from, "--to", to, "--nosto-endpoint", nosto.srv.URL); code != 0 {
			t.Fatalf("replay exited %d: %s", code, errs)
		}
		if nosto.count() != len(window) {
			t.Errorf("Nosto got %d requests, want the window's %d", nosto.count(), len(window))
		}
	})
	t.Run("dry run", func(t *testing.T) {
		code, out, errs := e.replayCmd(context.Background(), "--from", from, "--to", to, "--dry-run")
		if code != 0 || out != "" || !strings.Contains(errs, fmt.Sprintf(`"updates":%d`, len(window))) {
			t.Fatalf("dry run: exit %d, stdout %q, stderr %s", code, out, errs)
		}
	})
	if after := e.committed(t); !equalNested(before, after) {
		t.Errorf("the live group's offsets moved: %v → %v", before, after)
	}
}

func equalNested(a, b map[string]map[int]int64) bool {
	if len(a) != len(b) {
		return false
	}
	for k, m := range a {
		for p, o := range m {
			if b[k][p] != o {
				return false
			}
		}
	}
	return true
}

// --end-offsets bounds the read: with the ends of the first half, the
// replay equals reduce on the first half; --warmup from far enough back
// equals the full warm-up.
func TestPipelineReplayOffsetBoundsAndWarmup(t *testing.T) {
	e := newEnv(t, 1)
	t0 := time.Now().Add(-48 * time.Hour).Truncate(time.Second)
	var evs []timed
	for i := range 40 {
		at := t0.Add(time.Duration(i) * time.Minute)
		v := fmt.Sprintf("v%d", i%5)
		evs = append(evs, timed{fmt.Sprintf(`{"type":"cart_changed","visitor_id":%q,"event_id":"c%d","occurred_at":%q,"cart":{"items":[{"product_id":"p%d","name":"n","quantity":1,"unit_price":1,"price_currency_code":"EUR"}]}}`, v, i, rfc3339ms(at), i), at})
		evs = append(evs, timed{fmt.Sprintf(actionLine, v, fmt.Sprintf("a%d", i), rfc3339ms(at.Add(time.Second))), at.Add(time.Second)})
	}
	e.produceTimed(t, evs[:40])
	ends := endOffsets(t, e.brokers, e.cart)[0]
	endsA := endOffsets(t, e.brokers, e.action)[0]
	e.produceTimed(t, evs[40:])
	lineOf := func(ts []timed) []string {
		var out []string
		for _, x := range ts {
			out = append(out, x.line)
		}
		return out
	}
	from, to := rfc3339ms(t0.Add(10*time.Minute)), rfc3339ms(t0.Add(30*time.Minute))
	firstHalf := inWindow(t, reduceLines(t, lineOf(evs[:40])), from, to)
	got := e.replayFile(t, "--from", from, "--to", to,
		"--end-offsets", fmt.Sprintf("%s:0:%d,%s:0:%d", e.cart, ends, e.action, endsA))
	assertSameUpdates(t, got, firstHalf)

	all := inWindow(t, reduceLines(t, lineOf(evs)), from, to)
	assertSameUpdates(t, e.replayFile(t, "--from", from, "--to", to, "--warmup", "2h"), all)
	// A short warm-up starts at from − 1m by Kafka timestamp: the window's
	// updates are all there, each visitor's state built from what it read.
	short := e.replayFile(t, "--from", from, "--to", to, "--warmup", "1m")
	if len(short) != len(all) {
		t.Errorf("--warmup 1m wrote %d updates, want the window's %d", len(short), len(all))
	}
}

func TestReplayRefusesBadArguments(t *testing.T) {
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"--from", "2026-11-02T00:00:00Z", "--to", "2026-11-01T00:00:00Z", "--dry-run"}, "not before"},
		{[]string{"--from", "2026-11-01T00:00:00Z", "--dry-run", "--output-file", "x"}, "exactly one"},
		{[]string{"--from", "2026-11-01T00:00:00Z", "--nosto-endpoint", "https://api.nosto.com/v1/graphql", "--output-topic", "x"}, "exactly one"},
		{[]string{"--from", "2026-11-01T00:00:00Z"}, "exactly one"},
		{[]string{"--dry-run"}, "--from is required"},
		{[]string{"--from", "yesterday", "--dry-run"}, "--from"},
		{[]string{"--from", "2026-11-01T00:00:00Z", "--dry-run", "--partitions", "3-1"}, "--partitions"},
		{[]string{"--from", "2026-11-01T00:00:00Z", "--dry-run", "--start-offsets", "0:x"}, "--start-offsets"},
		{[]string{"--from", "2026-11-01T00:00:00Z", "--dry-run", "--end-offsets", "nosuch:0:5"}, "not an input topic"},
		{[]string{"--from", "2026-11-01T00:00:00Z", "--dry-run", "stray"}, "unexpected"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			var stderr bytes.Buffer
			code := Main(context.Background(), append([]string{"replay", "--brokers", "127.0.0.1:1"}, tt.args...),
				stdio{in: strings.NewReader(""), out: &bytes.Buffer{}, err: &stderr})
			if code != 2 || !strings.Contains(stderr.String(), tt.want) {
				t.Errorf("exit %d, stderr %q: want 2 and %q", code, stderr.String(), tt.want)
			}
		})
	}
}

func TestPipelineReplayRefusesUnknownPartition(t *testing.T) {
	e := newEnv(t, 2)
	code, _, errs := e.replayCmd(context.Background(), "--from", "2026-11-01T00:00:00Z", "--dry-run", "--partitions", "0-5")
	if code != 2 || !strings.Contains(errs, "partition 2") {
		t.Errorf("exit %d, stderr %q: want 2 naming partition 2", code, errs)
	}
}
