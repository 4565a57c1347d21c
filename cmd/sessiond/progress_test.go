package main

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"
)

// fakeClock is a clock the test moves.
type fakeClock struct{ t time.Time }

func (c *fakeClock) now() time.Time          { return c.t }
func (c *fakeClock) advance(d time.Duration) { c.t = c.t.Add(d) }

// The rate counts only what is done after the first observation, over the
// time since, and is not given before a window of minRateWindow.
func TestRateMeter(t *testing.T) {
	type step struct {
		after  time.Duration // since the previous step
		done   int64
		want   float64
		wantOK bool
	}
	tests := []struct {
		name  string
		steps []step
	}{
		{"first call with a large done", []step{
			{0, 584476, 0, false},
			{2 * time.Second, 784476, 100000, true},
			{2 * time.Second, 984476, 100000, true},
		}},
		{"window too short", []step{
			{0, 10, 0, false},
			{time.Millisecond, 5000, 0, false},
			{998 * time.Millisecond, 5000, 0, false},
			{time.Millisecond, 1010, 1000, true},
		}},
		{"nothing done", []step{
			{0, 0, 0, false},
			{3 * time.Second, 0, 0, true},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clock := &fakeClock{t: time.Unix(1e9, 0)}
			m := rateMeter{now: clock.now}
			for i, s := range tt.steps {
				clock.advance(s.after)
				got, ok := m.observe(s.done)
				if ok != s.wantOK || ok && got != s.want {
					t.Errorf("step %d: observe(%d) = %v, %v; want %v, %v", i, s.done, got, ok, s.want, s.wantOK)
				}
			}
		})
	}
}

// progressLine is one JSON progress line.
type progressLine struct {
	Msg             string
	Events, Total   int64
	EventsPerSecond *int64 `json:"events_per_second"`
	ETA             *string
}

// The JSON lines of a replay whose first report comes with 584476 events
// already done: no rate on the first line, then the rate of what followed.
func TestJSONProgress(t *testing.T) {
	clock := &fakeClock{t: time.Unix(1e9, 0)}
	var buf bytes.Buffer
	report := jsonProgress(&buf, clock.now)
	const total = 2584476
	calls := []struct {
		after time.Duration
		done  int64
	}{
		{0, 584476},                // logged: no rate yet
		{time.Second, 784476},      // within 5 s: not logged
		{4 * time.Second, 1584476}, // logged: 1,000,000 in 5 s
		{time.Second, 1784476},     // not logged
		{time.Second, total},       // the end: logged
	}
	for _, c := range calls {
		clock.advance(c.after)
		report(c.done, total)
	}
	var lines []progressLine
	for _, l := range strings.Split(strings.TrimSpace(buf.String()), "\n") {
		var p progressLine
		if err := json.Unmarshal([]byte(l), &p); err != nil {
			t.Fatalf("line %q: %v", l, err)
		}
		lines = append(lines, p)
	}
	if len(lines) != 3 {
		t.Fatalf("got %d lines, want 3:\n%s", len(lines), buf.String())
	}
	if p := lines[0]; p.Msg != "replay progress" || p.Events != 584476 || p.Total != total || p.EventsPerSecond != nil || p.ETA != nil {
		t.Errorf("first line %+v: want events and total, no rate or eta", p)
	}
	if p := lines[1]; p.EventsPerSecond == nil || *p.EventsPerSecond != 200000 || p.ETA == nil || *p.ETA != "5s" {
		t.Errorf("second line %s: want 200000 events/s, eta 5s", strings.Split(buf.String(), "\n")[1])
	}
	if p := lines[2]; p.Events != total || p.EventsPerSecond == nil || *p.EventsPerSecond != 2000000/7 || p.ETA == nil || *p.ETA != "0s" {
		t.Errorf("last line %s: want all events, 285714 events/s (2,000,000 in 7 s), eta 0s", strings.Split(buf.String(), "\n")[2])
	}
}

// A replay that ends before the first window has a last line without a
// rate.
func TestJSONProgressShortReplay(t *testing.T) {
	clock := &fakeClock{t: time.Unix(1e9, 0)}
	var buf bytes.Buffer
	jsonProgress(&buf, clock.now)(500, 500)
	if got := strings.TrimSpace(buf.String()); !strings.Contains(got, `"events":500,"total":500,"eta":"0s"}`) {
		t.Errorf("got %s, want events, total and eta 0s, no rate", got)
	}
}

// The bar, made at the first report with many events done, does not divide
// them by the microseconds since it was made (it drew "584476586
// events/s"): no rate on its first draw.
func TestBarProgressFirstDraw(t *testing.T) {
	clock := &fakeClock{t: time.Unix(1e9, 0)}
	var buf bytes.Buffer
	report := barProgress(&buf, clock.now)
	report(584476, 10000000)
	if out := buf.String(); strings.Contains(out, "/s") || !strings.Contains(out, "584476/10000000") {
		t.Errorf("first draw %q: want the count and no rate", out)
	}
	buf.Reset()
	clock.advance(2 * time.Second)
	report(784476, 10000000)
	if out := buf.String(); !strings.Contains(out, "replay 100000 events/s, ETA 1m32s") || !strings.Contains(out, "784476/10000000") {
		t.Errorf("second draw %q: want 100000 events/s, the ETA and the count", out)
	}
}

func TestBarDescription(t *testing.T) {
	tests := []struct {
		rate   float64
		rateOK bool
		left   int64
		want   string
	}{
		{0, false, 100, "replay"},
		{200000.7, true, 1000000, "replay 200000 events/s, ETA 5s"},
		{200000, true, 0, "replay 200000 events/s"},
		{0, true, 10, "replay 0 events/s"},
	}
	for _, tt := range tests {
		if got := barDescription(tt.rate, tt.rateOK, tt.left); got != tt.want {
			t.Errorf("barDescription(%v, %v, %d) = %q, want %q", tt.rate, tt.rateOK, tt.left, got, tt.want)
		}
	}
}
