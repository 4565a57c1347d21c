package check

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql/parser"
)

// exported is what a running sessiond serves on /metrics: every series
// name a query can select, with the label names it carries. A histogram
// family is selected by its _bucket (with le), _sum and _count series, a
// summary by its own name (with quantile), _sum and _count.
type exported map[string]map[string]bool

// scrapeDemo builds sessiond from the repository root, runs `sessiond
// demo` with the embedded broker, the embedded Schema Registry and the
// local Nosto-like server (so every collector the live service registers
// is there: the pipeline's, the Nosto sink's, the registry client's, the
// Kafka request counters, Go and process), waits for traffic to reach
// every part of it, and returns its scrape. It runs once per test binary.
var scrapeDemo = sync.OnceValues(func() (exported, error) {
	goBin, err := exec.LookPath("go")
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "sessiond-check")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	bin := filepath.Join(dir, "sessiond")
	build := exec.Command(goBin, "build", "-o", bin, "./cmd/sessiond")
	build.Dir = root
	if out, err := build.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("go build ./cmd/sessiond: %v\n%s", err, out)
	}
	cmd := exec.Command(bin, "demo", "--follow", "--nosto", "--wire-format", "confluent",
		"--rate", "100", "--http-addr", "127.0.0.1:0")
	cmd.Stdout = io.Discard
	stderr, err := cmd.StderrPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	defer func() {
		cmd.Process.Signal(os.Interrupt)
		done := make(chan struct{})
		go func() { cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(20 * time.Second):
			cmd.Process.Kill()
			<-done
		}
	}()
	addr := make(chan string, 1)
	var logTail lockedTail
	go func() {
		re := regexp.MustCompile(`metrics at (http://\S+/metrics)`)
		s := bufio.NewScanner(stderr)
		for s.Scan() {
			logTail.add(s.Text())
			if m := re.FindStringSubmatch(s.Text()); m != nil {
				addr <- m[1]
			}
		}
	}()
	var url string
	select {
	case url = <-addr:
	case <-time.After(60 * time.Second):
		return nil, fmt.Errorf("sessiond demo printed no metrics address in 60s:\n%s", logTail.String())
	}
	// Wait until the series that exist only once the member owns
	// partitions (lag, restore progress, snapshots per partition) are
	// served, and until updates went through Nosto and the registry.
	deadline := time.Now().Add(90 * time.Second)
	var last string
	for {
		fams, err := get(url)
		if err == nil {
			if last = notYet(fams); last == "" {
				return toExported(fams), nil
			}
		} else {
			last = err.Error()
		}
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("sessiond demo's metrics not complete after 90s (%s):\n%s", last, logTail.String())
		}
		time.Sleep(500 * time.Millisecond)
	}
})

func get(url string) (map[string]*dto.MetricFamily, error) {
	resp, err := http.Get(url)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	return p.TextToMetricFamilies(bytes.NewReader(b))
}

// notYet says what the scrape still lacks, or "".
func notYet(fams map[string]*dto.MetricFamily) string {
	for _, name := range []string{"sessiond_consumer_lag", "sessiond_restore_remaining_records",
		"sessiond_restore_records_total", "sessiond_snapshots"} {
		if f := fams[name]; f == nil || len(f.Metric) == 0 {
			return name + " not served yet"
		}
	}
	sum := func(name string) float64 {
		var v float64
		for _, m := range fams[name].GetMetric() {
			v += m.GetCounter().GetValue() + float64(m.GetHistogram().GetSampleCount())
		}
		return v
	}
	for _, name := range []string{"sessiond_updates_total", "sessiond_nosto_request_seconds",
		"sessiond_schema_registry_requests_total", "sessiond_end_to_end_seconds"} {
		if sum(name) == 0 {
			return name + " still 0"
		}
	}
	return ""
}

func toExported(fams map[string]*dto.MetricFamily) exported {
	e := exported{}
	add := func(name string, extra ...string) {
		if e[name] == nil {
			e[name] = map[string]bool{}
		}
		for _, l := range extra {
			e[name][l] = true
		}
	}
	for name, f := range fams {
		var labels []string
		for _, m := range f.Metric {
			for _, lp := range m.Label {
				labels = append(labels, lp.GetName())
			}
		}
		switch f.GetType() {
		case dto.MetricType_HISTOGRAM:
			add(name+"_bucket", append(labels, "le")...)
			add(name+"_sum", labels...)
			add(name+"_count", labels...)
		case dto.MetricType_SUMMARY:
			add(name, append(labels, "quantile")...)
			add(name+"_sum", labels...)
			add(name+"_count", labels...)
		default:
			add(name, labels...)
		}
	}
	return e
}

type lockedTail struct {
	mu    sync.Mutex
	lines []string
}

func (l *lockedTail) add(s string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.lines = append(l.lines, s)
	if len(l.lines) > 30 {
		l.lines = l.lines[1:]
	}
}

func (l *lockedTail) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.Join(l.lines, "\n")
}

// targetLabels are added by Prometheus or the Prometheus operator to every
// scraped series; sessiond does not export them.
var targetLabels = map[string]bool{"job": true, "instance": true, "namespace": true, "pod": true,
	"service": true, "endpoint": true, "container": true}

// prometheusSeries are series Prometheus makes for every target itself.
var prometheusSeries = map[string]bool{"up": true}

var promql = parser.NewParser(parser.Options{})

// checkQuery parses q and returns an error for every series name it
// selects that sessiond does not export (or that is not named at all),
// every label it matches that the series does not have, and every label
// an aggregation groups by that none of the series it aggregates has. It
// returns the names it selects.
func checkQuery(q string, exp exported, allowed map[string]bool) ([]string, []error) {
	expr, err := promql.ParseExpr(q)
	if err != nil {
		return nil, []error{fmt.Errorf("does not parse: %v", err)}
	}
	var names []string
	var errs []error
	namesIn := func(n parser.Node) []string {
		var out []string
		parser.Inspect(n, func(n parser.Node, _ []parser.Node) error {
			if vs, ok := n.(*parser.VectorSelector); ok {
				out = append(out, selectorName(vs))
			}
			return nil
		})
		return out
	}
	hasLabel := func(names []string, l string) bool {
		for _, n := range names {
			if exp[n][l] {
				return true
			}
		}
		return false
	}
	parser.Inspect(expr, func(n parser.Node, _ []parser.Node) error {
		switch n := n.(type) {
		case *parser.VectorSelector:
			name := selectorName(n)
			names = append(names, name)
			switch {
			case name == "":
				errs = append(errs, fmt.Errorf("a selector without a series name: %s", n))
			case allowed[name]:
			case exp[name] == nil:
				errs = append(errs, fmt.Errorf("%s is not exported by sessiond", name))
			default:
				for _, m := range n.LabelMatchers {
					if m.Name != model.MetricNameLabel && !targetLabels[m.Name] && !exp[name][m.Name] {
						errs = append(errs, fmt.Errorf("%s has no label %s", name, m.Name))
					}
				}
			}
		case *parser.AggregateExpr:
			inner := namesIn(n.Expr)
			for _, l := range n.Grouping {
				if !n.Without && !targetLabels[l] && !hasLabel(inner, l) {
					errs = append(errs, fmt.Errorf("%s groups by %s, which none of %v has", n.Op, l, inner))
				}
			}
		}
		return nil
	})
	return names, errs
}

func selectorName(vs *parser.VectorSelector) string {
	if vs.Name != "" {
		return vs.Name
	}
	for _, m := range vs.LabelMatchers {
		if m.Name == model.MetricNameLabel && m.Type == labels.MatchEqual {
			return m.Value
		}
	}
	return ""
}

// dashboard is the part of Grafana's dashboard JSON the checks read.
type dashboard struct {
	UID        string  `json:"uid"`
	Title      string  `json:"title"`
	Panels     []panel `json:"panels"`
	Templating struct {
		List []struct {
			Name       string          `json:"name"`
			Type       string          `json:"type"`
			Query      json.RawMessage `json:"query"`
			Datasource *datasource     `json:"datasource"`
		} `json:"list"`
	} `json:"templating"`
}

type panel struct {
	ID         int         `json:"id"`
	Type       string      `json:"type"`
	Title      string      `json:"title"`
	Datasource *datasource `json:"datasource"`
	Panels     []panel     `json:"panels"` // a collapsed row's
	Targets    []struct {
		Expr       string      `json:"expr"`
		RefID      string      `json:"refId"`
		Datasource *datasource `json:"datasource"`
	} `json:"targets"`
}

type datasource struct {
	Type string `json:"type"`
	UID  string `json:"uid"`
}

// grafanaVars stand in for the dashboard's variables and Grafana's own
// before a query is parsed; a query with any other $variable fails.
var grafanaVars = strings.NewReplacer("$__rate_interval", "5m", "$__interval", "1m", "$__range", "1h",
	"$namespace", ".*", "$instance", ".*")

func loadDashboard(t *testing.T) dashboard {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(root, "deploy", "grafana", "sessiond.json"))
	if err != nil {
		t.Fatal(err)
	}
	var d dashboard
	dec := json.NewDecoder(bytes.NewReader(b))
	if err := dec.Decode(&d); err != nil {
		t.Fatalf("sessiond.json: %v", err)
	}
	return d
}

// TestDashboardQueries parses every query of deploy/grafana/sessiond.json
// with Prometheus's PromQL parser and checks that it selects only series
// (and labels) that a running sessiond serves.
func TestDashboardQueries(t *testing.T) {
	d := loadDashboard(t)
	if d.UID == "" || d.Title == "" {
		t.Error("the dashboard has no uid or title")
	}
	exp, err := scrapeDemo()
	if err != nil {
		t.Fatal(err)
	}
	check := func(where, q string) []string {
		q2 := grafanaVars.Replace(q)
		if strings.Contains(q2, "$") {
			t.Errorf("%s: an unknown variable in %q", where, q)
			return nil
		}
		names, errs := checkQuery(q2, exp, nil)
		for _, err := range errs {
			t.Errorf("%s: %q: %v", where, q, err)
		}
		return names
	}
	isVar := map[string]bool{}
	for _, v := range d.Templating.List {
		isVar[v.Name] = true
		switch v.Type {
		case "datasource":
			if v.Name != "datasource" || string(v.Query) != `"prometheus"` {
				t.Errorf("datasource variable %s: query %s, want a Prometheus datasource named datasource", v.Name, v.Query)
			}
		case "query":
			checkDatasource(t, "variable "+v.Name, v.Datasource)
			var q struct{ Query string }
			if err := json.Unmarshal(v.Query, &q); err != nil {
				t.Errorf("variable %s: %v", v.Name, err)
				continue
			}
			m := regexp.MustCompile(`^label_values\((.*), *(\w+)\)$`).FindStringSubmatch(q.Query)
			if m == nil {
				t.Errorf("variable %s: %q is not label_values(selector, label)", v.Name, q.Query)
				continue
			}
			check("variable "+v.Name, m[1])
		}
	}
	if !isVar["datasource"] {
		t.Error("no ${datasource} variable")
	}
	used := map[string]bool{}
	ids := map[int]string{}
	var walk func([]panel)
	walk = func(ps []panel) {
		for _, p := range ps {
			if prev, dup := ids[p.ID]; dup {
				t.Errorf("panels %q and %q share id %d", prev, p.Title, p.ID)
			}
			ids[p.ID] = p.Title
			if p.Type == "row" {
				walk(p.Panels)
				continue
			}
			checkDatasource(t, "panel "+p.Title, p.Datasource)
			if len(p.Targets) == 0 {
				t.Errorf("panel %q has no query", p.Title)
			}
			for _, tg := range p.Targets {
				checkDatasource(t, "panel "+p.Title, tg.Datasource)
				for _, n := range check(fmt.Sprintf("panel %q, query %s", p.Title, tg.RefID), tg.Expr) {
					used[n] = true
				}
			}
		}
	}
	walk(d.Panels)
	// What the dashboard is for: each of these is on it.
	for _, want := range []string{"sessiond_consumer_lag", "sessiond_events_total", "sessiond_updates_total",
		"sessiond_end_to_end_seconds_bucket", "sessiond_restore_remaining_records", "sessiond_restore_records_total",
		"sessiond_dead_letters_total", "sessiond_clock_skew_events_total", "sessiond_snapshots_swept_total",
		"sessiond_nosto_requests_total", "sessiond_nosto_retries_total", "sessiond_nosto_backlog",
		"sessiond_schema_registry_requests_total", "sessiond_kafka_requests_total",
		"go_gc_duration_seconds_count", "go_memstats_heap_inuse_bytes", "go_gc_gomemlimit_bytes"} {
		if !used[want] {
			t.Errorf("the dashboard shows no %s", want)
		}
	}
}

func checkDatasource(t *testing.T, where string, ds *datasource) {
	t.Helper()
	if ds == nil || ds.UID != "${datasource}" || ds.Type != "prometheus" {
		t.Errorf("%s: datasource %+v, want the ${datasource} variable", where, ds)
	}
}

// TestScrapeIsComplete guards the check itself: the scrape it compares
// against holds every family sessiond documents, histograms as their
// _bucket, _sum and _count series.
func TestScrapeIsComplete(t *testing.T) {
	exp, err := scrapeDemo()
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(root, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	documented := regexp.MustCompile("`(sessiond_[a-z_]+)").FindAllStringSubmatch(string(b), -1)
	var missing []string
	for _, m := range documented {
		n := m[1]
		if exp[n] == nil && exp[n+"_bucket"] == nil {
			missing = append(missing, n)
		}
	}
	sort.Strings(missing)
	missing = slices.Compact(missing)
	if len(missing) > 0 {
		t.Errorf("the README names metrics the demo does not serve: %v", missing)
	}
	for _, h := range []string{"sessiond_end_to_end_seconds", "sessiond_nosto_request_seconds"} {
		for _, s := range []string{"_bucket", "_sum", "_count"} {
			if exp[h+s] == nil {
				t.Errorf("no %s%s in the scrape", h, s)
			}
		}
	}
}
