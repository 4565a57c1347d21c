package main

import (
	"fmt"
	"path/filepath"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"
)

// series is one line of a plot.
type series struct {
	name string
	pts  plotter.XYs
}

// lineChart draws series against a shared x axis as an SVG file.
func lineChart(path, title, xLabel, yLabel string, lines ...series) error {
	p := plot.New()
	p.Title.Text, p.X.Label.Text, p.Y.Label.Text = title, xLabel, yLabel
	p.Add(plotter.NewGrid())
	var args []any
	for _, l := range lines {
		args = append(args, l.name, l.pts)
	}
	if err := plotutil.AddLinePoints(p, args...); err != nil {
		return fmt.Errorf("plot %s: %w", title, err)
	}
	p.Y.Min = 0
	p.Legend.Top = true
	return p.Save(16*vg.Centimeter, 9*vg.Centimeter, path)
}

// plotSoak draws the soak's memory, lag and GC over time into dir.
func plotSoak(dir string, r *soakResult) error {
	var rss, heap, lag, gc plotter.XYs
	for i, s := range r.Samples {
		m := s.Seconds / 60
		rss = append(rss, plotter.XY{X: m, Y: s.RSSMB})
		heap = append(heap, plotter.XY{X: m, Y: s.HeapMB})
		lag = append(lag, plotter.XY{X: m, Y: s.Lag})
		if i > 0 { // GC cycles per minute over the last sample period
			prev := r.Samples[i-1]
			if dt := (s.Seconds - prev.Seconds) / 60; dt > 0 {
				gc = append(gc, plotter.XY{X: m, Y: (s.GCs - prev.GCs) / dt})
			}
		}
	}
	title := fmt.Sprintf("sessiond soak at %d events/s", r.Rate)
	if err := lineChart(filepath.Join(dir, "soak-memory.svg"), title+": memory", "minutes", "MB",
		series{"RSS", rss}, series{"Go heap in use", heap}); err != nil {
		return err
	}
	if err := lineChart(filepath.Join(dir, "soak-lag.svg"), title+": consumer lag", "minutes", "records behind",
		series{"lag (all partitions)", lag}); err != nil {
		return err
	}
	return lineChart(filepath.Join(dir, "soak-gc.svg"), title+": garbage collection", "minutes", "GC cycles per minute",
		series{"GC cycles/min", gc})
}
