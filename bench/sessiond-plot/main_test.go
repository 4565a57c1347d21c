package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestRunDrawsEveryPlot(t *testing.T) {
	dir := t.TempDir()
	var files []string
	for i, s := range []struct{ visitors, partitions int }{{10_000, 12}, {100_000, 12}, {1_000_000, 12}, {100_000, 3}, {100_000, 24}} {
		cdf := make([]float64, 101)
		for q := range cdf {
			cdf[q] = float64(q)
		}
		r := map[string]any{
			"settings": map[string]any{"visitors": s.visitors, "partitions": s.partitions, "rate": 10000, "wire_format": "raw"},
			"pipeline": map[string]any{"events_per_second": 90000.0 + float64(i), "peak_rss_mb": 400.0, "metrics": map[string]any{"go_heap_inuse_mb": 300.0}},
			"latency":  map[string]any{"timestamp_latency_ms": map[string]any{"cdf": cdf}},
		}
		b, _ := json.Marshal(r)
		f := filepath.Join(dir, filepath.Base(t.Name())+string(rune('a'+i))+".json")
		if err := os.WriteFile(f, b, 0o644); err != nil {
			t.Fatal(err)
		}
		files = append(files, f)
	}
	out := filepath.Join(dir, "plots")
	if err := run(out, files); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"scale-visitors.svg", "scale-partitions.svg", "latency-cdf.svg"} {
		b, err := os.ReadFile(filepath.Join(out, name))
		if err != nil || !strings.Contains(string(b), "<svg") || !strings.Contains(string(b), "</svg>") {
			t.Errorf("%s: not a whole SVG (%v)", name, err)
		}
	}
	if err := run(out, nil); err == nil {
		t.Error("no files: no error")
	}
}
