package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"
	"github.com/sessiond/sessiond/internal/kclient"
	"github.com/sessiond/sessiond/internal/kclient/kafkatest"
)

// tail prints what sessiond wrote without Python or an .avsc: updates in
// the reduce format, dead letters with their provenance; snapshot prints a
// visitor's state from the changelog.
func TestPipelineTailAndSnapshot(t *testing.T) {
	e := newEnv(t, 3)
	e.produce(t, designExample)
	w := kclient.PlainConn(e.brokers).Writer(e.action, &kafka.Murmur2Balancer{})
	defer w.Close()
	poison := kafka.Message{Key: []byte("v-poison"), Value: []byte(`{"type":"action"}`)}
	if err := kclient.Write(context.Background(), w, []kafka.Message{poison}, kclient.DefaultRetryPolicy(), nil); err != nil {
		t.Fatal(err)
	}
	e.start(t)
	e.updates(t, 1, time.Minute)
	kafkatest.ReadUntil(t, e.brokers, e.dlq, time.Minute, func(m []kafka.Message) bool { return len(m) >= 1 })

	cmd := func(args ...string) (int, string, string) {
		var out, errs bytes.Buffer
		code := Main(context.Background(), append(args, "--brokers", strings.Join(e.brokers, ",")),
			stdio{in: strings.NewReader(""), out: &out, err: &errs})
		return code, out.String(), errs.String()
	}
	code, out, errs := cmd("tail", e.out, "--from-beginning")
	want := reduceLines(t, strings.Split(strings.TrimSpace(designExample), "\n"))
	if code != 0 || strings.TrimSpace(out) != want[0] {
		t.Errorf("tail %s: exit %d, stdout %q, stderr %q; want the update %s", e.out, code, out, errs, want[0])
	}
	code, out, _ = cmd("tail", "--from-beginning", e.dlq)
	for _, s := range []string{`"dead_letter":{"topic":"` + e.action + `"`, `"reason":"decode"`, `"hint":"it starts with '{': JSON?`, `"key":"v-poison"`} {
		if code != 0 || !strings.Contains(out, s) {
			t.Errorf("tail %s: exit %d, stdout %q; want %s", e.dlq, code, out, s)
		}
	}
	if strings.Contains(out, `"type":"action"`) {
		t.Error("tail printed a dead letter's value")
	}
	// The changelog is written after the update: wait for the snapshot.
	var snap string
	waitFor(t, time.Minute, "v1's snapshot", func() bool {
		code, out, _ := cmd("snapshot", "v1", "--group", e.grp, "--action-topic", e.action)
		snap = out
		return code == 0 && strings.Contains(out, `"cart":{`)
	})
	for _, s := range []string{`{"visitor_id":"v1","last_seen":"2026-11-27T10:00:02.000Z"`, `"product_id":"181503"`, `"newsletter":true`, `"recent_actions":1`} {
		if !strings.Contains(snap, s) {
			t.Errorf("snapshot %q lacks %s", snap, s)
		}
	}
	if code, out, _ := cmd("snapshot", "nobody", "--group", e.grp, "--action-topic", e.action); code != 0 || strings.TrimSpace(out) != `{"visitor_id":"nobody","state":"unknown"}` {
		t.Errorf("snapshot of an unknown visitor: exit %d, %q; want state unknown", code, out)
	}
	if code, _, _ := cmd("tail", e.out); code != 2 {
		t.Errorf("tail without --from-beginning or --follow: exit %d, want 2", code)
	}
	if code, _, _ := cmd("snapshot"); code != 2 {
		t.Errorf("snapshot without a visitor: exit %d, want 2", code)
	}
}

// readyz returns a member's /readyz status code and body.
func readyz(addr string) (int, string) {
	resp, err := http.Get("http://" + addr + "/readyz")
	if err != nil {
		return 0, err.Error()
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

// metric scrapes one unlabelled series from a member's /metrics.
func metric(addr, name string) float64 {
	resp, err := http.Get("http://" + addr + "/metrics")
	if err != nil {
		return -1
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	for _, l := range strings.Split(string(body), "\n") {
		var v float64
		if _, err := fmt.Sscanf(l, name+" %g", &v); err == nil {
			return v
		}
	}
	return -1
}

// With more members than partitions, the member that owns nothing waits
// (it does not end the generation, which would rebalance the group over
// and over) and says it is not ready, and why; the other one is ready.
func TestPipelineMoreMembersThanPartitions(t *testing.T) {
	e := newEnv(t, 1)
	lines := stream(t, 5, 50, 1000)
	want := reduceLines(t, lines)
	e.produce(t, join(lines))
	addrs := []string{freeAddr(t), freeAddr(t)}
	e.start(t, "--http-addr", addrs[0])
	e.start(t, "--http-addr", addrs[1])
	assertComplete(t, e.updates(t, len(want), 2*time.Minute), want)
	var idle string
	waitFor(t, time.Minute, "one member ready, the other owning nothing", func() bool {
		a, whyA := readyz(addrs[0])
		b, whyB := readyz(addrs[1])
		const nothing = "owns no input partition"
		switch {
		case a == 200 && b == 503 && strings.Contains(whyB, nothing):
			idle = addrs[1]
		case a == 503 && b == 200 && strings.Contains(whyA, nothing):
			idle = addrs[0]
		default:
			return false
		}
		return true
	})
	// A stable group: the generation count stops growing.
	before := metric(idle, "sessiond_rebalances_total")
	time.Sleep(2 * time.Second)
	if after := metric(idle, "sessiond_rebalances_total"); after != before || after > 5 {
		t.Errorf("rebalances went from %v to %v: the group keeps rebalancing", before, after)
	}
}

// snapshot runs `sessiond snapshot visitor` against e's changelog and
// returns its exit status and stdout.
func (e *env) snapshot(t *testing.T, visitor string) (int, string) {
	t.Helper()
	var out, errs bytes.Buffer
	code := Main(context.Background(), []string{"snapshot", visitor, "--brokers", strings.Join(e.brokers, ","),
		"--group", e.grp, "--action-topic", e.action}, stdio{in: strings.NewReader(""), out: &out, err: &errs})
	if code != 0 {
		t.Logf("snapshot %s: exit %d: %s", visitor, code, errs.String())
	}
	return code, strings.TrimSpace(out.String())
}
