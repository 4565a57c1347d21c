package emitter

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/sessiond/sessiond/reducer"
)

// retryLine is one summary line of the Nosto sink's retries.
type retryLine struct {
	Msg        string  `json:"msg"`
	Retries    int     `json:"retries"`
	Updates    int     `json:"updates"`
	LastError  string  `json:"last_error"`
	LastStatus float64 `json:"last_status"`
}

// retryLines returns the retry summaries among the JSON log lines.
func retryLines(t *testing.T, logs string) []retryLine {
	t.Helper()
	var out []retryLine
	for _, l := range strings.Split(strings.TrimSpace(logs), "\n") {
		var line retryLine
		if err := json.Unmarshal([]byte(l), &line); err != nil {
			t.Fatalf("log line %q: %v", l, err)
		}
		if strings.HasSuffix(line.Msg, "retrying") {
			out = append(out, line)
		}
	}
	return out
}

// A Nosto outage is a few summary lines per interval, not one line per
// retry per update, and the lines' counts add up to every retry.
func TestNostoRetryLogRateLimited(t *testing.T) {
	t.Parallel()
	const updates, every = 40, 300 * time.Millisecond
	f := newFakeNosto(t, testToken)
	f.fail = func(fakeRequest, int) (int, string, string) { return http.StatusServiceUnavailable, "", "" }
	s, dl, logs := newTestNostoSink(t, f, func(c *NostoConfig) { c.MaxRetry = 1500 * time.Millisecond })
	s.retries = newRetryLog(s.cfg.Logger, every)
	var batch []*reducer.Update
	for i := range updates {
		batch = append(batch, update(fmt.Sprint("u", i), fmt.Sprint("v", i), action(reducer.ActionViewCart), nil, fullCust))
	}
	start := time.Now()
	if err := s.Write(context.Background(), batch); err != nil {
		t.Fatal(err)
	}
	elapsed := time.Since(start)
	if len(dl.got) != updates {
		t.Fatalf("%d dead letters, want %d", len(dl.got), updates)
	}
	var m dto.Metric
	if err := s.m.Retries.Write(&m); err != nil {
		t.Fatal(err)
	}
	retries := int(m.GetCounter().GetValue())
	if retries < updates {
		t.Fatalf("%d retries of %d updates: the outage did not happen", retries, updates)
	}
	var lines []retryLine
	sum := 0
	deadline := time.Now().Add(5 * every) // the last interval's line
	for sum < retries && time.Now().Before(deadline) {
		time.Sleep(every / 10)
		lines, sum = retryLines(t, logs.String()), 0
		for _, l := range lines {
			sum += l.Retries
		}
	}
	if sum != retries {
		t.Errorf("the lines count %d retries, the sink made %d", sum, retries)
	}
	if bound := int(elapsed/every) + 2; len(lines) > bound {
		t.Errorf("%d retry lines in %v, want at most %d (one per %v)", len(lines), elapsed, bound, every)
	}
	if len(lines) == 0 || lines[0].Updates < 1 {
		t.Fatalf("lines %+v: want a summary of the retries", lines)
	}
	for _, l := range lines {
		if l.Updates < 1 || l.Updates > updates || l.Updates > l.Retries || l.LastStatus != http.StatusServiceUnavailable ||
			!strings.Contains(l.LastError, "503") {
			t.Errorf("line %+v: want 1..%d updates, no more than the retries, with the last 503", l, updates)
		}
	}
	// The 40 dead letters at the end of the outage are one line too (one
	// per nostoRetryLogEvery); the metric counts them all.
	if n := strings.Count(logs.String(), "dead-lettered\""); n != 1 || elapsed >= nostoRetryLogEvery {
		t.Errorf("%d dead-letter lines for %d dead letters in %v, want 1", n, updates, elapsed)
	}
	if out := logs.String(); strings.Contains(out, testToken) || strings.Contains(out, "a@example.com") || strings.Contains(out, "Ann") {
		t.Error("the token, an e-mail or a name reached the logs")
	}
}
