package main

import (
	"fmt"
	"io"
	"log/slog"
	"os"
	"time"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"
)

// progressReporter draws a progress bar when stderr is a terminal, and
// writes a JSON progress line every few seconds otherwise.
func progressReporter(w io.Writer) func(done, total int64) {
	if f, ok := w.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		return barProgress(w, time.Now)
	}
	return jsonProgress(w, time.Now)
}

// minRateWindow is the shortest time a rate is measured over: below it a
// rate says more about when the first count arrived than about the replay.
const minRateWindow = time.Second

// rateMeter measures events per second over the events done since its
// first observation, over the time since then. The first observation is
// its baseline: the events counted before it (a replay's first report
// arrives a second in, with that second's events) are not in the rate, so
// neither is the time they took.
type rateMeter struct {
	now   func() time.Time
	begun bool
	since time.Time
	base  int64
}

// observe notes that done events are done and returns the rate since the
// first observation; ok is false on the first observation and until
// minRateWindow has passed.
func (m *rateMeter) observe(done int64) (perSecond float64, ok bool) {
	now := m.now()
	if !m.begun {
		m.begun, m.since, m.base = true, now, done
		return 0, false
	}
	elapsed := now.Sub(m.since)
	if elapsed < minRateWindow {
		return 0, false
	}
	return float64(done-m.base) / elapsed.Seconds(), true
}

// eta is the time left at perSecond for left events, to the second; ok is
// false when it cannot be known (no rate yet, or a rate of zero).
func eta(perSecond float64, rateOK bool, left int64) (time.Duration, bool) {
	switch {
	case left <= 0:
		return 0, true
	case !rateOK || perSecond <= 0:
		return 0, false
	}
	return time.Duration(float64(left) / perSecond * float64(time.Second)).Round(time.Second), true
}

// jsonLogEvery is how often jsonProgress writes a line.
const jsonLogEvery = 5 * time.Second

// jsonProgress writes a "replay progress" JSON line at the first call,
// then every jsonLogEvery and at the end: events, total, and, once
// rateMeter has a window, events_per_second and eta.
func jsonProgress(w io.Writer, now func() time.Time) func(done, total int64) {
	log := slog.New(newJSONHandler(w, slog.LevelInfo))
	meter := rateMeter{now: now}
	var last time.Time
	return func(done, total int64) {
		rate, rateOK := meter.observe(done)
		t := now()
		if !last.IsZero() && t.Sub(last) < jsonLogEvery && done < total {
			return
		}
		last = t
		attrs := []any{"events", done, "total", total}
		if rateOK {
			attrs = append(attrs, "events_per_second", int64(rate))
		}
		if left, ok := eta(rate, rateOK, total-done); ok {
			attrs = append(attrs, "eta", left.String())
		}
		log.Info("replay progress", attrs...)
	}
}

// barProgress draws a progress bar with the count, and the rate and ETA of
// rateMeter in its description. The bar's own rate and prediction are off:
// the bar is made at the first call, when many events are already done, so
// it would divide them by the microseconds since.
func barProgress(w io.Writer, now func() time.Time) func(done, total int64) {
	var bar *progressbar.ProgressBar
	meter := rateMeter{now: now}
	return func(done, total int64) {
		rate, rateOK := meter.observe(done)
		if bar == nil {
			bar = progressbar.NewOptions64(total, progressbar.OptionSetWriter(w), progressbar.OptionSetDescription("replay"),
				progressbar.OptionShowCount(), progressbar.OptionSetPredictTime(false), progressbar.OptionSetElapsedTime(true),
				progressbar.OptionOnCompletion(func() { fmt.Fprintln(w) }))
		}
		// No throttle: the calls come once a second, and the description
		// drawn by Describe is drawn again with the count by Set64.
		bar.Describe(barDescription(rate, rateOK, total-done))
		bar.Set64(done)
	}
}

// barDescription is the bar's description: "replay", then the rate and
// the ETA once they are known.
func barDescription(perSecond float64, rateOK bool, left int64) string {
	if !rateOK {
		return "replay"
	}
	d := fmt.Sprintf("replay %d events/s", int64(perSecond))
	if left > 0 {
		if e, ok := eta(perSecond, rateOK, left); ok {
			d += ", ETA " + e.String()
		}
	}
	return d
}
