// Command sessiond-plot draws the scale curves and the latency
// distribution of BENCHMARKS.md as SVG files from sessiond-load's JSON
// reports (sessiond-load --json FILE):
//
//	sessiond-plot --out docs/bench report-*.json
//
// scale-visitors.svg: pipeline throughput and memory (peak RSS, Go heap at
// the end of phase 3) against the visitor count, for the reports with 12
// partitions; scale-partitions.svg: the same against the partition count,
// for the reports with 100,000 visitors; latency-cdf.svg: the action →
// update latency distribution of every report with a latency phase.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"sort"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgsvg"
)

// report is the part of sessiond-load's JSON report the plots read.
type report struct {
	Settings struct {
		Partitions int    `json:"partitions"`
		Visitors   int    `json:"visitors"`
		Rate       int    `json:"rate"`
		Wire       string `json:"wire_format"`
	} `json:"settings"`
	Pipeline *struct {
		Rate      float64 `json:"events_per_second"`
		PeakRSSMB float64 `json:"peak_rss_mb"`
		Metrics   struct {
			HeapMB float64 `json:"go_heap_inuse_mb"`
		} `json:"metrics"`
	} `json:"pipeline"`
	Latency *struct {
		Timestamp struct {
			CDF []float64 `json:"cdf"`
		} `json:"timestamp_latency_ms"`
	} `json:"latency"`
}

func main() {
	out := flag.String("out", ".", "directory for the SVG files")
	flag.Parse()
	if err := run(*out, flag.Args()); err != nil {
		fmt.Fprintln(os.Stderr, "sessiond-plot:", err)
		os.Exit(1)
	}
}

func run(out string, files []string) error {
	if len(files) == 0 {
		return fmt.Errorf("no report files given")
	}
	var reps []report
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			return err
		}
		var r report
		if err := json.Unmarshal(b, &r); err != nil {
			return fmt.Errorf("%s: %w", f, err)
		}
		reps = append(reps, r)
	}
	if err := os.MkdirAll(out, 0o755); err != nil {
		return err
	}
	if err := scale(filepath.Join(out, "scale-visitors.svg"), "visitors (12 partitions, log scale)", true, reps,
		func(r report) (float64, bool) { return float64(r.Settings.Visitors), r.Settings.Partitions == 12 }); err != nil {
		return err
	}
	if err := scale(filepath.Join(out, "scale-partitions.svg"), "partitions (100,000 visitors)", false, reps,
		func(r report) (float64, bool) { return float64(r.Settings.Partitions), r.Settings.Visitors == 100_000 }); err != nil {
		return err
	}
	return latencyCDF(filepath.Join(out, "latency-cdf.svg"), reps)
}

// scale draws throughput (top) and memory (bottom) against x for the
// reports keep selects, one point per report, sorted by x.
func scale(path, xLabel string, logX bool, reps []report, x func(report) (float64, bool)) error {
	var rate, rss, heap plotter.XYs
	for _, r := range reps {
		v, keep := x(r)
		if !keep || r.Pipeline == nil {
			continue
		}
		rate = append(rate, plotter.XY{X: v, Y: r.Pipeline.Rate / 1000})
		rss = append(rss, plotter.XY{X: v, Y: r.Pipeline.PeakRSSMB})
		heap = append(heap, plotter.XY{X: v, Y: r.Pipeline.Metrics.HeapMB})
	}
	for _, xy := range []plotter.XYs{rate, rss, heap} {
		sort.Slice(xy, func(i, j int) bool { return xy[i].X < xy[j].X })
	}
	if len(rate) == 0 {
		return nil
	}
	top, err := chart("sessiond run, end to end", xLabel, "thousand events/s", "events/s", rate)
	if err != nil {
		return err
	}
	bottom, err := chart("memory at the end of the run", xLabel, "MB", "peak RSS", rss, "Go heap in use", heap)
	if err != nil {
		return err
	}
	bottom.Legend.Top = false // below the lines, which rise
	if logX {
		for _, p := range []*plot.Plot{top, bottom} {
			p.X.Scale, p.X.Tick.Marker = plot.LogScale{}, plot.LogTicks{Prec: -1}
		}
	}
	return save(path, top, bottom)
}

// chart is a line plot of named series: name, points, name, points...
func chart(title, xLabel, yLabel string, lines ...any) (*plot.Plot, error) {
	p := plot.New()
	p.Title.Text, p.X.Label.Text, p.Y.Label.Text = title, xLabel, yLabel
	p.Add(plotter.NewGrid())
	if err := plotutil.AddLinePoints(p, lines...); err != nil {
		return nil, err
	}
	p.Y.Min = 0
	p.Legend.Top = true
	return p, nil
}

// save stacks plots vertically in one SVG.
func save(path string, plots ...*plot.Plot) error {
	const w, h = 16 * vg.Centimeter, 8 * vg.Centimeter
	c := vgsvg.New(w, h*vg.Length(len(plots)))
	dc := draw.New(c)
	tiles := draw.Tiles{Rows: len(plots), Cols: 1}
	for i, p := range plots {
		p.Draw(tiles.At(dc, 0, i))
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if _, err := c.WriteTo(f); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// latencyCDF draws each latency phase's distribution: the share of updates
// (y) emitted within x ms of their action.
func latencyCDF(path string, reps []report) error {
	var lines []any
	for _, r := range reps {
		cdf := []float64(nil)
		if r.Latency != nil {
			cdf = r.Latency.Timestamp.CDF
		}
		if len(cdf) != 101 {
			continue
		}
		var xy plotter.XYs
		for i, ms := range cdf[:99] {
			xy = append(xy, plotter.XY{X: ms, Y: float64(i + 1)})
		}
		xy = append(xy, plotter.XY{X: cdf[99], Y: 99.9}, plotter.XY{X: cdf[100], Y: 100})
		lines = append(lines, fmt.Sprintf("%d events/s, %d partitions, %s", r.Settings.Rate, r.Settings.Partitions, r.Settings.Wire), xy)
	}
	if len(lines) == 0 {
		return nil
	}
	p, err := chart("action → update latency", "milliseconds (Kafka timestamp of the action to that of the update)", "% of updates", lines...)
	if err != nil {
		return err
	}
	p.Legend.Top = false // below the curve, which rises to the right
	return save(path, p)
}
