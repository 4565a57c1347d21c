package service

import (
	"github.com/prometheus/client_golang/prometheus"
	"github.com/sessiond/sessiond/internal/kclient"
)

// kafkaRequestMetrics exposes how the connection's Producer and
// FetchBatcher merge the pipeline's writes and fetches into requests:
// sessiond_kafka_requests_total{api} and sessiond_kafka_request_parts_total{api}
// (the writes, or the partition fetches, those requests carried), and
// sessiond_kafka_produced_records_total. Parts over requests is how many
// the batching merges.
func kafkaRequestMetrics(conn *kclient.Conn) []prometheus.Collector {
	counter := func(name, help, api string, v func() int64) prometheus.Collector {
		opts := prometheus.CounterOpts{Name: name, Help: help}
		if api != "" {
			opts.ConstLabels = prometheus.Labels{"api": api}
		}
		return prometheus.NewCounterFunc(opts, func() float64 { return float64(v()) })
	}
	const (
		requests = "Requests sent to the brokers by the process's batching producer (api=produce) and fetcher (api=fetch)."
		parts    = "What those requests carried: the writes handed to the producer (one per flush and target) and the single-partition fetches of the input readers."
	)
	p, f := conn.Producer(), conn.FetchBatcher()
	return []prometheus.Collector{
		counter("sessiond_kafka_requests_total", requests, "produce", func() int64 { return p.Stats().Requests }),
		counter("sessiond_kafka_requests_total", requests, "fetch", func() int64 { return f.Stats().Requests }),
		counter("sessiond_kafka_request_parts_total", parts, "produce", func() int64 { return p.Stats().Writes }),
		counter("sessiond_kafka_request_parts_total", parts, "fetch", func() int64 { return f.Stats().Fetches }),
		counter("sessiond_kafka_produced_records_total", "Records written by the process's producer (updates, changelog, dead letters).", "", func() int64 { return p.Stats().Records }),
	}
}
