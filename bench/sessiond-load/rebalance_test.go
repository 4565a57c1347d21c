package main

import (
	"testing"
	"time"
)

// judge counts only the actions sent from the rebalance on: the longest
// wait, the updates over a second, and the longest time without any update
// (from the rebalance's start to the first update counts too).
func TestRebalanceJudge(t *testing.T) {
	t0 := time.Date(2026, 12, 4, 12, 0, 0, 0, time.UTC)
	at := func(ms int) time.Time { return t0.Add(time.Duration(ms) * time.Millisecond) }
	pt := func(sent, stamp int) updatePoint {
		return updatePoint{sent: at(sent), stamp: at(stamp), latencyMs: float64(stamp - sent)}
	}
	rb := &rebalancer{began: at(1000)}
	rb.judge([]updatePoint{
		pt(0, 5000),    // sent before the rebalance: left out
		pt(1000, 1400), // the first update after the start: a 400 ms gap
		pt(1100, 3600), // 2.5 s wait, then a 2.2 s gap
		pt(3000, 3650),
		pt(3500, 4700), // 1.2 s wait
	})
	r := rb.res
	if r.MaxLatencyMs != 2500 || r.Over1s != 2 || r.LongestGapMs != 2200 {
		t.Fatalf("judge = max %v ms, %d over 1 s, gap %v ms; want 2500, 2, 2200", r.MaxLatencyMs, r.Over1s, r.LongestGapMs)
	}
	none := &rebalancer{}
	none.judge([]updatePoint{pt(0, 10_000)})
	if none.res.MaxLatencyMs != 0 {
		t.Fatalf("judge without a rebalance counted %v ms", none.res.MaxLatencyMs)
	}
}

func TestRebalanceFlagValidated(t *testing.T) {
	for _, args := range [][]string{
		{"--rebalance", "sideways"},
		{"--rebalance", "restart", "--latency-seconds", "0"},
		{"--rebalance", "scale-out", "--soak", "1m"},
	} {
		if _, err := parseConfig(args, discard{}); err == nil {
			t.Errorf("%v: accepted", args)
		}
	}
	if _, err := parseConfig([]string{"--rebalance", "scale-out"}, discard{}); err != nil {
		t.Errorf("--rebalance scale-out: %v", err)
	}
}

type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }
