package main

import (
	"context"
	"fmt"
	"io"
	"maps"
	"math"
	"net/http"
	"sort"
	"strconv"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// sample is one line of the Prometheus text format: a value and its labels.
type sample struct {
	labels map[string]string
	value  float64
}

// metricSet is a scrape: samples by metric name (histograms keep their
// _bucket, _sum and _count suffixes).
type metricSet map[string][]sample

// scrape reads the instance's /metrics.
func scrape(ctx context.Context, in instance) (metricSet, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+in.Addr()+"/metrics", nil)
	if err != nil {
		return nil, err
	}
	resp, err := opsClient.Do(req)
	if err != nil {
		return nil, fmt.Errorf("scrape metrics: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("scrape metrics: %s", resp.Status)
	}
	return parseMetrics(resp.Body)
}

// parseMetrics reads the Prometheus text exposition format with
// prometheus/common's parser and flattens it into samples as the text
// names them: a histogram into name_bucket (with its le label), name_sum
// and name_count, a summary into name (with quantile), name_sum and
// name_count. Timestamps are ignored.
func parseMetrics(r io.Reader) (metricSet, error) {
	parser := expfmt.NewTextParser(model.UTF8Validation)
	families, err := parser.TextToMetricFamilies(r)
	if err != nil {
		return nil, fmt.Errorf("parse metrics: %w", err)
	}
	set := metricSet{}
	for name, mf := range families {
		for _, m := range mf.GetMetric() {
			labels := map[string]string{}
			for _, lp := range m.GetLabel() {
				labels[lp.GetName()] = lp.GetValue()
			}
			set.add(name, labels, m)
		}
	}
	return set, nil
}

// add appends the samples of one metric of family name.
func (set metricSet) add(name string, labels map[string]string, m *dto.Metric) {
	put := func(name string, v float64, extra ...string) {
		s := sample{labels: labels, value: v}
		if len(extra) > 0 {
			s.labels = maps.Clone(labels)
			s.labels[extra[0]] = extra[1]
		}
		set[name] = append(set[name], s)
	}
	switch {
	case m.Counter != nil:
		put(name, m.Counter.GetValue())
	case m.Gauge != nil:
		put(name, m.Gauge.GetValue())
	case m.Untyped != nil:
		put(name, m.Untyped.GetValue())
	case m.Summary != nil:
		for _, q := range m.Summary.GetQuantile() {
			put(name, q.GetValue(), "quantile", formatFloat(q.GetQuantile()))
		}
		put(name+"_sum", m.Summary.GetSampleSum())
		put(name+"_count", float64(m.Summary.GetSampleCount()))
	case m.Histogram != nil:
		h := m.Histogram
		for _, b := range h.GetBucket() {
			n := float64(b.GetCumulativeCount())
			if b.CumulativeCountFloat != nil {
				n = b.GetCumulativeCountFloat()
			}
			put(name+"_bucket", n, "le", formatFloat(b.GetUpperBound()))
		}
		n := float64(h.GetSampleCount())
		if h.SampleCountFloat != nil {
			n = h.GetSampleCountFloat()
		}
		put(name+"_sum", h.GetSampleSum())
		put(name+"_count", n)
	}
}

// formatFloat writes a bound as the text format does ("+Inf" included),
// exactly enough for strconv.ParseFloat to give it back.
func formatFloat(f float64) string {
	return strconv.FormatFloat(f, 'g', -1, 64)
}

// sum adds the samples of name whose labels include every pair of match.
func (m metricSet) sum(name string, match ...string) float64 {
	var t float64
	for _, s := range m[name] {
		if s.matches(match) {
			t += s.value
		}
	}
	return t
}

func (s sample) matches(pairs []string) bool {
	for i := 0; i+1 < len(pairs); i += 2 {
		if s.labels[pairs[i]] != pairs[i+1] {
			return false
		}
	}
	return true
}

// by sums name by the value of one label.
func (m metricSet) by(name, label string) map[string]float64 {
	out := map[string]float64{}
	for _, s := range m[name] {
		out[s.labels[label]] += s.value
	}
	return out
}

// histogram is a cumulative Prometheus histogram.
type histogram struct {
	bounds []float64 // upper bounds, ascending, +Inf last
	counts []float64 // cumulative counts
	sum    float64
	count  float64
}

// histogram returns the histogram name (without suffix).
func (m metricSet) histogram(name string) histogram {
	type b struct{ le, n float64 }
	var bs []b
	for _, s := range m[name+"_bucket"] {
		le, err := strconv.ParseFloat(s.labels["le"], 64)
		if err == nil {
			bs = append(bs, b{le, s.value})
		}
	}
	sort.Slice(bs, func(i, j int) bool { return bs[i].le < bs[j].le })
	h := histogram{sum: m.sum(name + "_sum"), count: m.sum(name + "_count")}
	for _, x := range bs {
		h.bounds = append(h.bounds, x.le)
		h.counts = append(h.counts, x.n)
	}
	return h
}

// minus returns h with the observations of an earlier scrape removed.
func (h histogram) minus(earlier histogram) histogram {
	out := histogram{bounds: h.bounds, sum: h.sum - earlier.sum, count: h.count - earlier.count}
	out.counts = append([]float64(nil), h.counts...)
	if len(earlier.counts) == len(h.counts) {
		for i := range out.counts {
			out.counts[i] -= earlier.counts[i]
		}
	}
	return out
}

// mean is sum/count, 0 when empty.
func (h histogram) mean() float64 {
	if h.count == 0 {
		return 0
	}
	return h.sum / h.count
}

// quantile interpolates linearly within the bucket holding rank q·count,
// as PromQL's histogram_quantile does. 0 when empty.
func (h histogram) quantile(q float64) float64 {
	if len(h.counts) == 0 || h.counts[len(h.counts)-1] == 0 {
		return 0
	}
	total := h.counts[len(h.counts)-1]
	rank := q * total
	lower, below := 0.0, 0.0
	for i, c := range h.counts {
		if c >= rank {
			if math.IsInf(h.bounds[i], 1) {
				return lower // beyond the last finite bound
			}
			if c == below {
				return h.bounds[i]
			}
			return lower + (h.bounds[i]-lower)*(rank-below)/(c-below)
		}
		lower, below = h.bounds[i], c
	}
	return lower
}
