package main

import (
	"context"
	"encoding/csv"
	"fmt"
	"log/slog"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/sessiond/sessiond/internal/kclient"
)

// soakSample is one look at the soaking sessiond.
type soakSample struct {
	Seconds   float64 `json:"seconds"`
	RSSMB     float64 `json:"rss_mb"`
	HeapMB    float64 `json:"heap_inuse_mb"`
	GCs       float64 `json:"gc_cycles"`
	GCPauseMs float64 `json:"gc_pause_ms"` // cumulative
	Lag       float64 `json:"lag"`
	Events    float64 `json:"events"`
	Snapshots float64 `json:"snapshots"`
}

// soakResult is the soak: the samples and the verdict on memory.
type soakResult struct {
	Seconds      float64      `json:"seconds"`
	Rate         int          `json:"target_events_per_second"`
	Produced     int          `json:"produced"`
	WarmupS      float64      `json:"warmup_seconds"`
	RSSMin       float64      `json:"rss_after_warmup_min_mb"`
	RSSMax       float64      `json:"rss_after_warmup_max_mb"`
	RSSGrowthPct float64      `json:"rss_after_warmup_growth_pct"` // spread of the samples: (max − min) / min
	RSSFirstMin  float64      `json:"rss_first_minute_mb"`         // mean RSS over the first minute after warm-up
	RSSLastMin   float64      `json:"rss_last_minute_mb"`          // mean RSS over the last minute
	RSSDriftPct  float64      `json:"rss_drift_pct"`               // last minute against first minute
	Flat         bool         `json:"flat"`                        // drift within ±10%
	Samples      []soakSample `json:"samples"`
}

// soakEvery is the sampling period of the soak.
const soakEvery = 5 * time.Second

// soak starts one sessiond on the (empty) topics and produces the stream at
// cfg.rate for cfg.soak, sampling its memory, GC and lag every soakEvery.
// The first fifth (at least a minute, when the soak is long enough), or
// --soak-warmup, is warm-up: the visitors' snapshots fill memory then (each
// remembers up to 32 action ids, so with V visitors the state stops growing
// after about 32·V actions).
func soak(ctx context.Context, cfg *config, t *topics, l *launcher, s *stream, log *slog.Logger) (*soakResult, error) {
	addr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	in, err := l.launch(runArgs{guarantee: cfg.sessiondGuarantee(), connCfg: cfg.connCfg, passwordFile: cfg.passwordFile, t: t, wire: &cfg.wire, httpAddr: addr, logLevel: "warn"})
	if err != nil {
		return nil, err
	}
	if err := waitReady(ctx, cfg, in, log); err != nil {
		return nil, err
	}
	res := &soakResult{Seconds: cfg.soak.Seconds(), Rate: cfg.rate, WarmupS: min(max(cfg.soak.Seconds()/5, 60), cfg.soak.Seconds()/2)}
	if cfg.soakWarmup > 0 {
		res.WarmupS = cfg.soakWarmup.Seconds()
	}
	w := newSteadyWriter(cfg.conn)
	defer w.Close()
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	begin, next := time.Now(), time.Now()
	for elapsed := time.Duration(0); elapsed < cfg.soak; elapsed = time.Since(begin) {
		if due := int(float64(cfg.rate)*elapsed.Seconds()) - res.Produced; due > 0 {
			if err := writeEvents(ctx, w, s, due); err != nil {
				return nil, err
			}
			res.Produced += due
		}
		if time.Now().After(next) {
			next = next.Add(soakEvery)
			smp, err := sampleSoak(ctx, in, elapsed)
			if err != nil {
				return nil, err
			}
			res.Samples = append(res.Samples, smp)
			log.Info("soak", "at", elapsed.Round(time.Second), "rss_mb", round(smp.RSSMB, 1), "heap_mb", round(smp.HeapMB, 1), "lag", smp.Lag)
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-in.Exited():
			return nil, exitedErr(in)
		case <-tick.C:
		}
	}
	res.judge()
	return res, nil
}

// writeEvents writes the stream's next n events.
func writeEvents(ctx context.Context, w kclient.MessageWriter, s *stream, n int) error {
	_, msgs, err := s.next(n)
	if err != nil {
		return err
	}
	return kclient.Write(ctx, w, msgs, kclient.DefaultRetryPolicy().WithMaxElapsed(time.Minute), nil)
}

func sampleSoak(ctx context.Context, in instance, at time.Duration) (soakSample, error) {
	m, err := scrape(ctx, in)
	if err != nil {
		return soakSample{}, err
	}
	gc := m.histogram("go_gc_duration_seconds")
	return soakSample{Seconds: round(at.Seconds(), 1), RSSMB: round(rssMB(in.PID()), 1),
		HeapMB: round(m.sum("go_memstats_heap_inuse_bytes")/1e6, 1), GCs: gc.count,
		GCPauseMs: round(gc.sum*1e3, 1), Lag: m.sum("sessiond_consumer_lag"), Events: m.sum("sessiond_events_total"),
		Snapshots: m.sum("sessiond_snapshots")}, nil
}

// judge compares the resident set after warm-up. Single samples swing
// with the GC's sawtooth (the heap grows to twice the live data before a
// cycle), so the verdict compares minute means: flat when the last
// minute's mean RSS is within 10% of the first minute's after warm-up.
// The samples' spread is reported beside it.
func (r *soakResult) judge() {
	if len(r.Samples) == 0 {
		return
	}
	var first, last []float64
	end, seen := r.Samples[len(r.Samples)-1].Seconds, false
	for _, s := range r.Samples {
		if s.Seconds < r.WarmupS {
			continue
		}
		if !seen || s.RSSMB < r.RSSMin {
			r.RSSMin = s.RSSMB
		}
		if !seen || s.RSSMB > r.RSSMax {
			r.RSSMax = s.RSSMB
		}
		seen = true
		if s.Seconds < r.WarmupS+60 {
			first = append(first, s.RSSMB)
		}
		if s.Seconds >= end-60 {
			last = append(last, s.RSSMB)
		}
	}
	if r.RSSMin > 0 {
		r.RSSGrowthPct = round((r.RSSMax-r.RSSMin)/r.RSSMin*100, 1)
	}
	if len(first) > 0 && len(last) > 0 {
		r.RSSFirstMin, r.RSSLastMin = round(mean(first), 1), round(mean(last), 1)
		r.RSSDriftPct = round((r.RSSLastMin-r.RSSFirstMin)/r.RSSFirstMin*100, 1)
		r.Flat = math.Abs(r.RSSDriftPct) <= 10
	}
}

func mean(xs []float64) float64 {
	var sum float64
	for _, x := range xs {
		sum += x
	}
	return sum / float64(len(xs))
}

// rssMB returns the current resident set (VmRSS) of pid (-1: this
// process) in MB; 0 when unknown.
func rssMB(pid int) float64 { return procStatusMB(pid, "VmRSS:") }

// writeCSV writes the samples to dir/soak.csv.
func (r *soakResult) writeCSV(dir string) error {
	f, err := os.Create(filepath.Join(dir, "soak.csv"))
	if err != nil {
		return err
	}
	w := csv.NewWriter(f)
	w.Write([]string{"seconds", "rss_mb", "heap_inuse_mb", "gc_cycles", "gc_pause_ms", "lag", "events", "snapshots"})
	for _, s := range r.Samples {
		w.Write([]string{ftoa(s.Seconds), ftoa(s.RSSMB), ftoa(s.HeapMB), ftoa(s.GCs), ftoa(s.GCPauseMs), ftoa(s.Lag), ftoa(s.Events), ftoa(s.Snapshots)})
	}
	w.Flush()
	if err := w.Error(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

func ftoa(x float64) string { return strconv.FormatFloat(x, 'f', -1, 64) }

// soakPhase runs the soak in place of the phases and writes its samples
// and plots when asked to.
func soakPhase(ctx context.Context, cfg *config, t *topics, l *launcher, s *stream, rep *report, log *slog.Logger) error {
	res, err := soak(ctx, cfg, t, l, s, log)
	if err != nil {
		return fmt.Errorf("soak: %w", err)
	}
	rep.Soak = res
	if cfg.plotDir == "" {
		return nil
	}
	if err := os.MkdirAll(cfg.plotDir, 0o755); err != nil {
		return err
	}
	if err := res.writeCSV(cfg.plotDir); err != nil {
		return err
	}
	return plotSoak(cfg.plotDir, res)
}
