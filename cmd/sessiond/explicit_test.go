package main

import (
	"bytes"
	"context"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/sessiond/sessiond/internal/kclient/kafkatest"
)

// An explicit empty or zero value is taken as given or refused; it never
// silently becomes the default (an unset variable in a backfill template
// must not join the production group).
func TestRunRefusesExplicitEmptyValues(t *testing.T) {
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"--group", ""}, "--group"},
		{[]string{"--session-ttl", "0"}, "--session-ttl"},
		{[]string{"--max-batch", "0"}, "--max-batch"},
		{[]string{"--cart-topic", ""}, "--cart-topic"},
		{[]string{"--output-topic", ""}, "--output-topic"},
		{[]string{"--drain-timeout", "0"}, "--drain-timeout"},
		{[]string{"--max-idle", "-1s"}, "--max-idle"},
		{[]string{"--commit-interval", "-1s"}, "--commit-interval"},
		{[]string{"--kafka-sasl-mechanism", "gssapi"}, "--kafka-sasl"},
		{[]string{"--session-ttl", "soon"}, "session-ttl"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			var stderr bytes.Buffer
			args := append([]string{"run", "--brokers", "127.0.0.1:1", "--http-addr", ""}, tt.args...)
			code := Main(context.Background(), args, stdio{in: strings.NewReader(""), out: &bytes.Buffer{}, err: &stderr})
			if code != 2 || !strings.Contains(stderr.String(), tt.want) {
				t.Errorf("exit %d, stderr %q: want 2 and a refusal naming %q", code, stderr.String(), tt.want)
			}
		})
	}
}

// Help goes to stdout with exit 0; a stray argument is refused with exit 2
// (`produce events.jsonl` used to ignore the file and read stdin).
func TestUsage(t *testing.T) {
	run := func(args ...string) (int, string, string) {
		var out, errs bytes.Buffer
		code := Main(context.Background(), args, stdio{in: strings.NewReader(""), out: &out, err: &errs})
		return code, out.String(), errs.String()
	}
	for _, args := range [][]string{{"-h"}, {"--help"}, {"help"}} {
		if code, out, _ := run(args...); code != 0 || !strings.Contains(out, "commands:") {
			t.Errorf("%v: exit %d, stdout %q; want 0 and the commands", args, code, out)
		}
	}
	for _, cmd := range []string{"run", "demo", "reduce", "produce", "replay"} {
		if code, out, _ := run(cmd, "-h"); code != 0 || !strings.Contains(out, "usage: sessiond "+cmd) {
			t.Errorf("%s -h: exit %d, stdout %q; want 0 and the flags", cmd, code, out)
		}
		if code, _, errs := run(cmd, "stray.jsonl"); code != 2 || !strings.Contains(errs, "stray.jsonl") {
			t.Errorf("%s stray.jsonl: exit %d, stderr %q; want 2 naming the argument", cmd, code, errs)
		}
		if code, _, errs := run(cmd, "--no-such-flag"); code != 2 || !strings.Contains(errs, "no-such-flag") {
			t.Errorf("%s --no-such-flag: exit %d, stderr %q; want 2", cmd, code, errs)
		}
	}
	if code, _, _ := run(); code != 2 {
		t.Errorf("no command: exit %d, want 2", code)
	}
}

// demo ends by itself once every update and dead letter it produced is
// printed, also when the stream is tiny or slow (issue: it only checked
// for completion when it printed an update).
func TestDemoEndsByItself(t *testing.T) {
	for _, args := range [][]string{{"--events", "5"}, {"--events", "20", "--rate", "20"}, {"--events", "200", "--rate", "2000", "--wire-format", "confluent"}} {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		var out, errs syncBuffer
		code := Main(ctx, append([]string{"demo", "--http-addr", "127.0.0.1:0"}, args...), stdio{in: strings.NewReader(""), out: &out, err: &errs})
		ended := ctx.Err() == nil
		cancel()
		if code != 0 || !ended || !strings.Contains(errs.String(), "2 records dead-lettered") {
			t.Errorf("demo %v: exit %d, ended by itself %v, stderr tail %q", args, code, ended, tail(errs.String(), 200))
		}
	}
}

func tail(s string, n int) string {
	if len(s) > n {
		return s[len(s)-n:]
	}
	return s
}

// produce to a missing topic or a dead broker fails at once, naming it.
func TestProduceFailsFast(t *testing.T) {
	brokers := kafkatest.Embedded(t)
	kafkatest.CreateTopics(t, brokers, 1, "cart-changed", "customer-changed")
	dead, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	deadAddr := dead.Addr().String()
	dead.Close()
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"--brokers", strings.Join(brokers, ","), "--action-topic", "no-such-topic"}, "no-such-topic"},
		{[]string{"--brokers", deadAddr}, deadAddr},
	}
	for _, tt := range tests {
		var errs bytes.Buffer
		begin := time.Now()
		code := Main(context.Background(), append([]string{"produce"}, tt.args...),
			stdio{in: strings.NewReader(designExample), out: &bytes.Buffer{}, err: &errs})
		t.Logf("exit %d after %v: %s", code, time.Since(begin).Round(time.Millisecond), strings.TrimSpace(errs.String()))
		if code == 0 || !strings.Contains(errs.String(), tt.want) {
			t.Errorf("produce %v: exit %d, stderr %q; want a failure naming %s", tt.args, code, errs.String(), tt.want)
		}
	}
}

func TestVersion(t *testing.T) {
	var out bytes.Buffer
	if code := Main(context.Background(), []string{"version"}, stdio{in: strings.NewReader(""), out: &out, err: &bytes.Buffer{}}); code != 0 {
		t.Fatalf("version exited %d", code)
	}
	for _, key := range []string{`"version":"dev"`, `"commit":`, `"go_version":"go`} {
		if !strings.Contains(out.String(), key) {
			t.Errorf("version printed %q, want %s", out.String(), key)
		}
	}
}

// produce --generate sends the demo's shopper stream (docker-compose's
// producer uses it).
func TestProduceGenerate(t *testing.T) {
	brokers := kafkatest.Embedded(t)
	kafkatest.CreateTopics(t, brokers, 2, "cart-changed", "customer-changed", "actions")
	var errs bytes.Buffer
	code := Main(context.Background(), []string{"produce", "--brokers", strings.Join(brokers, ","), "--generate", "500", "--visitors", "20"},
		stdio{in: strings.NewReader(""), out: &bytes.Buffer{}, err: &errs})
	if code != 0 || !strings.Contains(errs.String(), `{"produced":500,"rejected":0}`) {
		t.Fatalf("exit %d, stderr %q", code, errs.String())
	}
	var total int
	for _, topic := range []string{"cart-changed", "customer-changed", "actions"} {
		msgs, err := kafkatest.ReadAll(context.Background(), brokers, topic)
		if err != nil {
			t.Fatal(err)
		}
		total += len(msgs)
	}
	if total != 500 {
		t.Errorf("%d records on the input topics, want 500", total)
	}
}

// demo --nosto prints the mutations Nosto would receive, redacted.
func TestDemoNosto(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	var out, errs syncBuffer
	code := Main(ctx, []string{"demo", "--nosto", "--events", "100", "--http-addr", "127.0.0.1:0"}, stdio{in: strings.NewReader(""), out: &out, err: &errs})
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if code != 0 || ctx.Err() != nil || len(lines) == 0 || !strings.HasPrefix(lines[0], `{"mutation":"`) {
		t.Fatalf("exit %d, stdout %q, stderr tail %q", code, tail(out.String(), 300), tail(errs.String(), 300))
	}
	if strings.Contains(out.String(), "@") || !strings.Contains(out.String(), `"by":"BY_CID"`) {
		t.Errorf("the mutations leak e-mails or lack the lookup: %s", tail(out.String(), 500))
	}
	if strings.Contains(out.String(), `"variables":null`) || strings.Contains(errs.String(), "nosto does not answer") {
		t.Errorf("the start-up probe was printed as a mutation or did not pass: %s", tail(errs.String(), 500))
	}
}
