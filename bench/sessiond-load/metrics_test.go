package main

import (
	"context"
	"math"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
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

// scrapeOnly is an instance that serves /metrics and nothing else.
type scrapeOnly struct {
	instance
	addr string
}

func (s scrapeOnly) Addr() string { return s.addr }

// TestScrapeClientGolang scrapes what client_golang's handler serves, as
// sessiond's /metrics does: typed histograms and summaries, and label
// values that need the text format's escaping.
func TestScrapeClientGolang(t *testing.T) {
	reg := prometheus.NewRegistry()
	events := prometheus.NewCounterVec(prometheus.CounterOpts{Name: "sessiond_events_total", Help: "Input events."}, []string{"kind", "outcome"})
	events.WithLabelValues("action", "applied").Add(550)
	events.WithLabelValues(`cart "b", 2`, "rejected").Add(2)
	latency := prometheus.NewHistogram(prometheus.HistogramOpts{Name: "sessiond_end_to_end_seconds", Help: "Latency.",
		Buckets: []float64{0.001, 0.002, 0.004}})
	for _, v := range []float64{0.0015, 0.003, 0.003, 0.01} {
		latency.Observe(v)
	}
	gc := prometheus.NewSummary(prometheus.SummaryOpts{Name: "go_gc_duration_seconds", Help: "GC pauses.",
		Objectives: map[float64]float64{0.5: 0.05}})
	gc.Observe(0.25)
	gc.Observe(0.5)
	heap := prometheus.NewGauge(prometheus.GaugeOpts{Name: "go_memstats_heap_inuse_bytes", Help: "Heap."})
	heap.Set(2.5e8)
	reg.MustRegister(events, latency, gc, heap)
	srv := httptest.NewServer(promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	defer srv.Close()

	m, err := scrape(context.Background(), scrapeOnly{addr: strings.TrimPrefix(srv.URL, "http://")})
	if err != nil {
		t.Fatal(err)
	}
	if got := m.sum("sessiond_events_total"); got != 552 {
		t.Errorf("sum = %v, want 552", got)
	}
	if got := m.by("sessiond_events_total", "kind")[`cart "b", 2`]; got != 2 {
		t.Errorf("escaped label = %v, want 2 (by kind: %v)", got, m.by("sessiond_events_total", "kind"))
	}
	h := m.histogram("sessiond_end_to_end_seconds")
	if want := []float64{0.001, 0.002, 0.004, math.Inf(1)}; !slices.Equal(h.bounds, want) {
		t.Errorf("bounds = %v, want %v", h.bounds, want)
	}
	if want := []float64{0, 1, 3, 4}; !slices.Equal(h.counts, want) {
		t.Errorf("counts = %v, want %v", h.counts, want)
	}
	if h.count != 4 || math.Abs(h.sum-0.0175) > 1e-12 {
		t.Errorf("count %v sum %v, want 4 and 0.0175", h.count, h.sum)
	}
	// A summary, as go_gc_duration_seconds is: its _sum and _count.
	if g := m.histogram("go_gc_duration_seconds"); g.count != 2 || g.sum != 0.75 {
		t.Errorf("gc count %v sum %v, want 2 and 0.75", g.count, g.sum)
	}
	if got := m.sum("go_memstats_heap_inuse_bytes"); got != 2.5e8 {
		t.Errorf("heap = %v, want 2.5e8", got)
	}
}
