package service

import (
	"context"
	"html/template"
	"net/http"
	"sync"
	"time"

	"github.com/sessiond/sessiond/consumer"
	"github.com/sessiond/sessiond/internal/buildinfo"
)

// The status page at /: server-rendered HTML that refreshes itself, no
// JavaScript. It shows the member, its generation and readiness, the
// partitions it owns with their lag and restore progress, event and update
// rates, and the latest dead-letter reasons (never values).

// Page settings.
const (
	pageRefreshSeconds = 5
	rateSampleEvery    = 5 * time.Second
	rateWindow         = 12 // samples: one minute
)

// rateSample is the counters at one moment.
type rateSample struct {
	at              time.Time
	events, updates int64
}

// rates keeps the last minute of samples to compute rates from.
type rates struct {
	mu      sync.Mutex
	samples []rateSample
}

func (r *rates) add(s rateSample) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.samples = append(r.samples, s)
	if len(r.samples) > rateWindow+1 {
		r.samples = r.samples[1:]
	}
}

// perSecond returns events/s and updates/s over the samples, or false with
// fewer than two.
func (r *rates) perSecond() (events, updates float64, ok bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.samples) < 2 {
		return 0, 0, false
	}
	a, b := r.samples[0], r.samples[len(r.samples)-1]
	secs := b.at.Sub(a.at).Seconds()
	return float64(b.events-a.events) / secs, float64(b.updates-a.updates) / secs, true
}

// sampleRates samples the status every rateSampleEvery until ctx ends.
func (s *Service) sampleRates(ctx context.Context) error {
	tick := time.NewTicker(rateSampleEvery)
	defer tick.Stop()
	for {
		r := s.Status().Report()
		s.rates.add(rateSample{at: time.Now(), events: r.Events, updates: r.Updates})
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
		}
	}
}

// pageData is what the template renders.
type pageData struct {
	consumer.StatusReport
	Build           buildinfo.Info
	Group, Kafka    string
	Refresh         int
	Now             time.Time
	HasRates        bool
	EventsPerSecond float64
	UpdatesPerSec   float64
	ContactAgo      string
}

var pageTemplate = template.Must(template.New("status").Funcs(template.FuncMap{
	"ago": func(now, t time.Time) string { return now.Sub(t).Round(time.Second).String() },
}).Parse(`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="refresh" content="{{.Refresh}}">
<title>sessiond {{.Group}} — {{if .Ready}}ready{{else}}not ready{{end}}</title>
<style>
body{font:14px/1.4 system-ui,sans-serif;margin:2em;color:#222}
table{border-collapse:collapse;margin:.5em 0 1.5em}
th,td{border:1px solid #ccc;padding:.25em .6em;text-align:left}
th{background:#f4f4f4}
.ok{color:#176f2c;font-weight:bold}.bad{color:#a11;font-weight:bold}
td.num{text-align:right;font-variant-numeric:tabular-nums}
</style>
</head>
<body>
<h1>sessiond <small>{{.Build.Version}}</small></h1>
<p id="readiness">{{if .Ready}}<span class="ok">ready</span>{{else}}<span class="bad">not ready</span>: {{.Why}}{{end}}</p>
{{if .Warnings}}<ul id="warnings">{{range .Warnings}}<li class="bad">{{.}}</li>{{end}}</ul>
{{end}}<table id="member">
<tr><th>group</th><td>{{.Group}}</td></tr>
<tr><th>member</th><td>{{if .Member}}{{.Member}}{{else}}—{{end}}</td></tr>
<tr><th>generation</th><td>{{.Generation}}</td></tr>
<tr><th>brokers</th><td>{{.Kafka}}</td></tr>
<tr><th>last answer from the brokers</th><td>{{if .Contact.IsZero}}never{{else}}{{ago .Now .Contact}} ago{{end}}</td></tr>
<tr><th>build</th><td>{{.Build.Commit}}, {{.Build.GoVersion}}</td></tr>
</table>
<h2>Partitions</h2>
<table id="partitions">
<tr><th>partition</th><th>state</th><th>lag (records)</th><th>restore: changelog records left</th></tr>
{{range .Partitions}}<tr><td class="num">{{.Partition}}</td><td>{{if .Restored}}consuming{{else}}restoring{{end}}</td><td class="num">{{.Lag}}</td><td class="num">{{if .Restored}}—{{else}}{{.RestoreLeft}}{{end}}</td></tr>
{{else}}<tr><td colspan="4">none owned</td></tr>
{{end}}</table>
<h2>Throughput</h2>
<table id="rates">
<tr><th></th><th>since start</th><th>per second, last minute</th></tr>
<tr><th>events</th><td class="num">{{.Events}}</td><td class="num">{{if .HasRates}}{{printf "%.1f" .EventsPerSecond}}{{else}}—{{end}}</td></tr>
<tr><th>updates</th><td class="num">{{.Updates}}</td><td class="num">{{if .HasRates}}{{printf "%.1f" .UpdatesPerSec}}{{else}}—{{end}}</td></tr>
<tr><th>dead letters</th><td class="num">{{.Rejected}}</td><td></td></tr>
</table>
<h2>Latest dead letters</h2>
<table id="dead-letters">
<tr><th>when</th><th>where</th><th>reason</th><th>error</th><th>hint</th></tr>
{{range .Rejections}}<tr><td>{{.At.UTC.Format "15:04:05"}}</td><td>{{.Topic}}/{{.Partition}}@{{.Offset}}</td><td>{{.Reason}}</td><td>{{.Error}}</td><td>{{.Hint}}</td></tr>
{{else}}<tr><td colspan="5">none</td></tr>
{{end}}</table>
<p><a href="/metrics">/metrics</a> · <a href="/readyz">/readyz</a> · <a href="/livez">/livez</a> · refreshes every {{.Refresh}} s</p>
</body>
</html>
`))

// page serves the status page.
func (s *Service) page(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != "/" {
		http.NotFound(w, r)
		return
	}
	d := pageData{StatusReport: s.Status().Report(), Build: buildinfo.Get(), Group: s.cfg.Consumer.Group,
		Kafka: s.parts.conn.String(), Refresh: pageRefreshSeconds, Now: time.Now()}
	d.EventsPerSecond, d.UpdatesPerSec, d.HasRates = s.rates.perSecond()
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	if err := pageTemplate.Execute(w, d); err != nil {
		s.log.Warn("status page", "error", err)
	}
}
