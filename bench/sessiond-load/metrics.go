package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"math"
	"net/http"
	"sort"
	"strconv"
	"strings"
)

// sample is one line of the Prometheus text format.
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

// parseMetrics parses the Prometheus text exposition format, enough of it
// for client_golang's output: no escaped quotes or commas in label values
// are expected, and timestamps are ignored.
func parseMetrics(r io.Reader) (metricSet, error) {
	set := metricSet{}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || line[0] == '#' {
			continue
		}
		name, s, err := parseSample(line)
		if err != nil {
			return nil, err
		}
		set[name] = append(set[name], s)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read metrics: %w", err)
	}
	return set, nil
}

func parseSample(line string) (string, sample, error) {
	s := sample{labels: map[string]string{}}
	name, rest := line, ""
	if i := strings.IndexByte(line, '{'); i >= 0 {
		j := strings.LastIndexByte(line, '}')
		if j < i {
			return "", s, fmt.Errorf("bad metric line %q", line)
		}
		name, rest = line[:i], line[j+1:]
		for _, kv := range strings.Split(line[i+1:j], ",") {
			k, v, ok := strings.Cut(kv, "=")
			if ok {
				s.labels[strings.TrimSpace(k)] = strings.Trim(strings.TrimSpace(v), `"`)
			}
		}
	} else {
		name, rest, _ = strings.Cut(line, " ")
	}
	f := strings.Fields(rest)
	if len(f) == 0 {
		return "", s, fmt.Errorf("bad metric line %q", line)
	}
	v, err := strconv.ParseFloat(f[0], 64)
	if err != nil {
		return "", s, fmt.Errorf("bad metric value in %q: %w", line, err)
	}
	s.value = v
	return name, s, nil
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
