package confluent

import "github.com/prometheus/client_golang/prometheus"

// Metrics are the registry client's collectors:
//
//	sessiond_schema_registry_requests_total{op,result}  op: fetch, register; result: ok, not_found, error
//	sessiond_schema_registry_retries_total              failed requests that are retried
//	sessiond_schema_registry_cached_schemas             writer schemas held (never evicted)
type Metrics struct {
	Requests *prometheus.CounterVec
	Retries  prometheus.Counter
	Cached   prometheus.Gauge
}

// NewMetrics builds the collectors, the labelled ones at zero.
func NewMetrics() *Metrics {
	m := &Metrics{
		Requests: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "sessiond_schema_registry_requests_total",
			Help: "Requests to the Schema Registry by operation (fetch, register) and result (ok, not_found, error)."}, []string{"op", "result"}),
		Retries: prometheus.NewCounter(prometheus.CounterOpts{Name: "sessiond_schema_registry_retries_total",
			Help: "Schema Registry requests that failed and are retried (registry unreachable, 5xx, 429, refused credentials)."}),
		Cached: prometheus.NewGauge(prometheus.GaugeOpts{Name: "sessiond_schema_registry_cached_schemas",
			Help: "Writer schemas fetched and kept for the life of the process."}),
	}
	for _, op := range []string{"fetch", "register"} {
		for _, r := range []string{"ok", "not_found", "error"} {
			m.Requests.WithLabelValues(op, r)
		}
	}
	return m
}

// Register adds the collectors to reg.
func (m *Metrics) Register(reg prometheus.Registerer) error {
	for _, c := range []prometheus.Collector{m.Requests, m.Retries, m.Cached} {
		if err := reg.Register(c); err != nil {
			return err
		}
	}
	return nil
}
