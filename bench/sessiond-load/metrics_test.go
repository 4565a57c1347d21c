package main

import (
	"math"
	"strings"
	"testing"
)

const sampleMetrics = `# HELP sessiond_events_total Input events.
# TYPE sessiond_events_total counter
sessiond_events_total{kind="action",outcome="applied"} 550
sessiond_events_total{kind="cart",outcome="applied"} 300
sessiond_events_total{kind="cart",outcome="rejected"} 2
sessiond_end_to_end_seconds_bucket{le="0.001"} 0
sessiond_end_to_end_seconds_bucket{le="0.002"} 10
sessiond_end_to_end_seconds_bucket{le="0.004"} 90
sessiond_end_to_end_seconds_bucket{le="+Inf"} 100
sessiond_end_to_end_seconds_sum 0.25
sessiond_end_to_end_seconds_count 100
process_cpu_seconds_total 1.5e+00
`

func TestParseMetrics(t *testing.T) {
	m, err := parseMetrics(strings.NewReader(sampleMetrics))
	if err != nil {
		t.Fatal(err)
	}
	if got := m.sum("sessiond_events_total"); got != 852 {
		t.Errorf("sum = %v, want 852", got)
	}
	if got := m.sum("sessiond_events_total", "kind", "cart"); got != 302 {
		t.Errorf("cart sum = %v, want 302", got)
	}
	if got := m.by("sessiond_events_total", "outcome")["rejected"]; got != 2 {
		t.Errorf("rejected = %v, want 2", got)
	}
	if got := m.sum("process_cpu_seconds_total"); got != 1.5 {
		t.Errorf("cpu = %v, want 1.5", got)
	}
	h := m.histogram("sessiond_end_to_end_seconds")
	if h.count != 100 || h.mean() != 0.0025 {
		t.Errorf("count %v mean %v, want 100 and 0.0025", h.count, h.mean())
	}
	// Rank 50 lies in (0.002, 0.004], 40 of its 80 observations in.
	if got := h.quantile(0.5); math.Abs(got-0.003) > 1e-12 {
		t.Errorf("p50 = %v, want 0.003", got)
	}
	// Rank 99 lies in the +Inf bucket: the last finite bound.
	if got := h.quantile(0.99); got != 0.004 {
		t.Errorf("p99 = %v, want 0.004", got)
	}
	if got := h.minus(h); got.count != 0 || got.quantile(0.5) != 0 {
		t.Errorf("h - h = %+v, want empty", got)
	}
}

func TestSummarise(t *testing.T) {
	xs := make([]float64, 100)
	for i := range xs {
		xs[i] = float64(100 - i) // 100 … 1
	}
	p := summarise(xs)
	if p.Count != 100 || p.P50 != 50 || p.P90 != 90 || p.P99 != 99 || p.Max != 100 || p.Mean != 50.5 {
		t.Errorf("summarise = %+v", p)
	}
	if p := summarise(nil); p.Count != 0 || p.P99 != 0 {
		t.Errorf("summarise(nil) = %+v", p)
	}
}

func TestRestoreWindow(t *testing.T) {
	var r restoreResult
	lines := `{"time":"2026-11-27T01:00:01.5Z","level":"INFO","msg":"restored","partition":0,"records":900,"snapshots":100,"corrupt":0,"seconds":1.5}
{"time":"2026-11-27T01:00:02Z","level":"INFO","msg":"restored","partition":1,"records":100,"snapshots":100,"corrupt":0,"seconds":1}
`
	var s logSink
	s.Write([]byte(lines))
	r.fromLogs(s.Restored())
	if r.Partitions != 2 || r.Records != 1000 || r.Snapshots != 200 || r.WindowSeconds != 2 || r.SnapshotsRate != 100 {
		t.Errorf("fromLogs = %+v", r)
	}
}
