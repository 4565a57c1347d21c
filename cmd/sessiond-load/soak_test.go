package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestSoakJudgeAndPlots(t *testing.T) {
	r := &soakResult{Rate: 10000, WarmupS: 60}
	for i, rss := range []float64{100, 300, 400, 410, 420, 405} { // warm-up until 60 s
		r.Samples = append(r.Samples, soakSample{Seconds: float64(i) * 30, RSSMB: rss, HeapMB: rss / 2, GCs: float64(i * 10), Lag: 5})
	}
	r.judge()
	if r.RSSMin != 400 || r.RSSMax != 420 || r.RSSGrowthPct != 5 || !r.Flat {
		t.Fatalf("judge: min %v max %v growth %v flat %v", r.RSSMin, r.RSSMax, r.RSSGrowthPct, r.Flat)
	}
	r.Samples = append(r.Samples, soakSample{Seconds: 180, RSSMB: 480})
	r.judge()
	if r.Flat {
		t.Fatalf("20%% growth judged flat (%v%%)", r.RSSGrowthPct)
	}
	dir := t.TempDir()
	if err := r.writeCSV(dir); err != nil {
		t.Fatal(err)
	}
	if err := plotSoak(dir, r); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"soak-memory.svg", "soak-lag.svg", "soak-gc.svg"} {
		b, err := os.ReadFile(filepath.Join(dir, f))
		if err != nil || !strings.Contains(string(b), "<svg") {
			t.Errorf("%s: not an SVG (%v)", f, err)
		}
	}
	csv, _ := os.ReadFile(filepath.Join(dir, "soak.csv"))
	if lines := strings.Count(string(csv), "\n"); lines != len(r.Samples)+1 {
		t.Errorf("soak.csv has %d lines, want %d", lines, len(r.Samples)+1)
	}
}
