package main

import (
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestSoakJudgeAndPlots(t *testing.T) {
	r := &soakResult{Rate: 10000, WarmupS: 60}
	// Warm-up until 60 s, then a GC sawtooth around 400 MB with no trend.
	for i, rss := range []float64{100, 300, 380, 440, 380, 440, 390, 430} {
		r.Samples = append(r.Samples, soakSample{Seconds: float64(i) * 30, RSSMB: rss, HeapMB: rss / 2, GCs: float64(i * 10), Lag: 5})
	}
	r.judge()
	if r.RSSFirstMin != 410 || r.RSSLastMin != 420 || r.RSSDriftPct != 2.4 || !r.Flat || r.RSSMin != 380 || r.RSSMax != 440 {
		t.Fatalf("judge: %+v", r)
	}
	r.Samples = append(r.Samples, soakSample{Seconds: 240, RSSMB: 520}, soakSample{Seconds: 270, RSSMB: 540})
	r.judge()
	if r.Flat || r.RSSDriftPct < 20 {
		t.Fatalf("a rise to 530 MB judged flat (drift %v%%)", r.RSSDriftPct)
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

func TestConfigRefusesBadLoadFlags(t *testing.T) {
	for _, args := range [][]string{
		{"--soak", "-1m"},
		{"--wire-format", "json"},
		{"--evolved"},
		{"--kstreams-jar", "x.jar", "--wire-format", "confluent"},
		{"--kstreams-jar", "x.jar", "--soak", "1m"},
	} {
		if _, err := parseConfig(append([]string{"--brokers", "127.0.0.1:1"}, args...), io.Discard); err == nil {
			t.Errorf("%v accepted", args)
		}
	}
}
