package emitter

import (
	"encoding/base64"
	"strconv"

	"github.com/prometheus/client_golang/prometheus"
)

// NostoMetrics are the Nosto sink's collectors:
//
//	sessiond_nosto_requests_total{outcome,status}  outcome: ok, retry, permanent
//	sessiond_nosto_retries_total
//	sessiond_nosto_request_seconds
//	sessiond_nosto_in_flight
//	sessiond_nosto_backlog                          updates handed to the sink, not yet acknowledged
//	sessiond_nosto_dead_lettered_total{reason}      reason: graphql, http, retries, reference
type NostoMetrics struct {
	Requests     *prometheus.CounterVec
	Retries      prometheus.Counter
	Seconds      prometheus.Histogram
	InFlight     prometheus.Gauge
	Backlog      prometheus.Gauge
	DeadLettered *prometheus.CounterVec
}

// NewNostoMetrics builds the collectors, the labelled ones at zero.
func NewNostoMetrics() *NostoMetrics {
	m := &NostoMetrics{
		Requests: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "sessiond_nosto_requests_total",
			Help: "Requests to Nosto's GraphQL API by outcome (ok, retry, permanent) and HTTP status (0: none)."}, []string{"outcome", "status"}),
		Retries: prometheus.NewCounter(prometheus.CounterOpts{Name: "sessiond_nosto_retries_total",
			Help: "Requests to Nosto retried after a transport error, a time-out, 408, 429 or 5xx."}),
		Seconds: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "sessiond_nosto_request_seconds",
			Help: "Duration of requests to Nosto.", Buckets: prometheus.ExponentialBuckets(0.005, 2, 12)}),
		InFlight: prometheus.NewGauge(prometheus.GaugeOpts{Name: "sessiond_nosto_in_flight",
			Help: "Requests to Nosto in flight."}),
		Backlog: prometheus.NewGauge(prometheus.GaugeOpts{Name: "sessiond_nosto_backlog",
			Help: "Updates handed to the Nosto sink and not yet acknowledged or dead-lettered."}),
		DeadLettered: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "sessiond_nosto_dead_lettered_total",
			Help: "Updates Nosto refused for good or that ran out of retries, dead-lettered, by reason."}, []string{"reason"}),
	}
	for _, r := range []string{"graphql", "http", "retries", "reference"} {
		m.DeadLettered.WithLabelValues(r)
	}
	m.Requests.WithLabelValues("ok", "200")
	return m
}

// Register adds the collectors to reg.
func (m *NostoMetrics) Register(reg prometheus.Registerer) error {
	for _, c := range []prometheus.Collector{m.Requests, m.Retries, m.Seconds, m.InFlight, m.Backlog, m.DeadLettered} {
		if err := reg.Register(c); err != nil {
			return err
		}
	}
	return nil
}

func (m *NostoMetrics) count(r attemptResult) {
	outcome := "retry"
	switch {
	case r.ok:
		outcome = "ok"
	case r.permanent:
		outcome = "permanent"
	}
	status := r.failure.Status
	if r.ok {
		status = 200
	}
	m.Requests.WithLabelValues(outcome, strconv.Itoa(status)).Inc()
}

func basicAuth(user, password string) string {
	return base64.StdEncoding.EncodeToString([]byte(user + ":" + password))
}
