package consumer

import (
	"strconv"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/sessiond/sessiond/reducer"
)

// Metrics are the pipeline's Prometheus collectors. The package doc lists
// them; NewMetrics builds them unregistered, Register adds them to a
// registry.
type Metrics struct {
	Events        *prometheus.CounterVec // sessiond_events_total{kind,outcome}
	Updates       *prometheus.CounterVec // sessiond_updates_total{action}
	DeadLetters   *prometheus.CounterVec // sessiond_dead_letters_total{topic,reason}
	Expired       prometheus.Counter     // sessiond_snapshots_expired_total
	Swept         prometheus.Counter     // sessiond_snapshots_swept_total
	ClockSkew     *prometheus.CounterVec // sessiond_clock_skew_events_total{direction}
	Lag           *prometheus.GaugeVec   // sessiond_consumer_lag{topic,partition}
	BatchSeconds  prometheus.Histogram   // sessiond_batch_flush_seconds
	BatchEvents   prometheus.Histogram   // sessiond_batch_events
	EndToEnd      prometheus.Histogram   // sessiond_end_to_end_seconds
	Restored      *prometheus.CounterVec // sessiond_restore_records_total{partition}
	RestoreLeft   *prometheus.GaugeVec   // sessiond_restore_remaining_records{partition}
	RestoreTime   prometheus.Histogram   // sessiond_restore_seconds
	Assigned      prometheus.Gauge       // sessiond_assigned_partitions
	Rebalances    prometheus.Counter     // sessiond_rebalances_total
	WriteRetries  *prometheus.CounterVec // sessiond_write_retries_total{target}
	CommitFailure prometheus.Counter     // sessiond_commit_failures_total
	Snapshots     *prometheus.GaugeVec   // sessiond_snapshots{partition}
	Corrupt       prometheus.Counter     // sessiond_snapshots_corrupt_total
	// Exactly once (ProcessingGuarantee): transactions by outcome, how long
	// each was open (first write to committed), and producers fenced by a
	// partition's new owner.
	Transactions   *prometheus.CounterVec // sessiond_transactions_total{outcome}
	TxnSeconds     prometheus.Histogram   // sessiond_transaction_seconds
	ProducerFenced prometheus.Counter     // sessiond_producers_fenced_total
	collectors     []prometheus.Collector // everything above, for Register
	_              struct{}               // keep composite literals keyed
}

// NewMetrics builds the collectors.
func NewMetrics() *Metrics {
	m := &Metrics{
		Events: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "sessiond_events_total",
			Help: "Input events by kind and outcome (applied, late, duplicate, rejected)."}, []string{"kind", "outcome"}),
		Updates: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "sessiond_updates_total",
			Help: "Session updates acknowledged by the sink, by action type."}, []string{"action"}),
		DeadLetters: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "sessiond_dead_letters_total",
			Help: "Records sent to the dead-letter topic, by source topic and reason (decode, invalid)."}, []string{"topic", "reason"}),
		Expired: prometheus.NewCounter(prometheus.CounterOpts{Name: "sessiond_snapshots_expired_total",
			Help: "Snapshots discarded by the visitor's own event, after the session TTL of event-time inactivity."}),
		Swept: prometheus.NewCounter(prometheus.CounterOpts{Name: "sessiond_snapshots_swept_total",
			Help: "Idle snapshots dropped from memory and tombstoned by housekeeping."}),
		ClockSkew: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "sessiond_clock_skew_events_total",
			Help: "Accepted events whose occurred_at is more than --max-clock-skew ahead of or behind their Kafka timestamp (processed as usual)."}, []string{"direction"}),
		Lag: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "sessiond_consumer_lag",
			Help: "Records on the broker not yet processed, per input topic-partition."}, []string{"topic", "partition"}),
		BatchSeconds: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "sessiond_batch_flush_seconds",
			Help: "Time to flush a batch: sink, changelog, commit.", Buckets: prometheus.ExponentialBuckets(0.001, 2, 14)}),
		BatchEvents: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "sessiond_batch_events",
			Help: "Events per flushed batch.", Buckets: prometheus.ExponentialBuckets(1, 4, 8)}),
		EndToEnd: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "sessiond_end_to_end_seconds",
			Help: "From an action's Kafka timestamp to its update acknowledged by the sink.", Buckets: prometheus.ExponentialBuckets(0.001, 2, 16)}),
		Restored: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "sessiond_restore_records_total",
			Help: "Changelog records read while restoring, per partition."}, []string{"partition"}),
		RestoreLeft: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "sessiond_restore_remaining_records",
			Help: "Changelog records still to read before a partition is restored."}, []string{"partition"}),
		RestoreTime: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "sessiond_restore_seconds",
			Help: "Time to restore a partition's snapshots.", Buckets: prometheus.ExponentialBuckets(0.01, 2, 14)}),
		Assigned: prometheus.NewGauge(prometheus.GaugeOpts{Name: "sessiond_assigned_partitions",
			Help: "Input partition numbers owned by this member."}),
		Rebalances: prometheus.NewCounter(prometheus.CounterOpts{Name: "sessiond_rebalances_total",
			Help: "Consumer group generations joined."}),
		WriteRetries: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "sessiond_write_retries_total",
			Help: "Failed attempts to write or commit that were retried, by target (sink, changelog, dlq, commit)."}, []string{"target"}),
		Transactions: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "sessiond_transactions_total",
			Help: "Kafka transactions of exactly-once processing, by outcome (committed, aborted)."}, []string{"outcome"}),
		TxnSeconds: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "sessiond_transaction_seconds",
			Help: "How long a committed transaction was open: from its first write to EndTxn answered.", Buckets: prometheus.ExponentialBuckets(0.005, 2, 12)}),
		ProducerFenced: prometheus.NewCounter(prometheus.CounterOpts{Name: "sessiond_producers_fenced_total",
			Help: "Transactional producers of this member fenced by another owner of their partition (a zombie stopped)."}),
		CommitFailure: prometheus.NewCounter(prometheus.CounterOpts{Name: "sessiond_commit_failures_total",
			Help: "Offset commits given up (the generation ended first); the records are replayed."}),
		Snapshots: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "sessiond_snapshots",
			Help: "Visitors with a snapshot in memory, per partition."}, []string{"partition"}),
		Corrupt: prometheus.NewCounter(prometheus.CounterOpts{Name: "sessiond_snapshots_corrupt_total",
			Help: "Snapshots read back from the changelog that did not decode (the visitor starts afresh)."}),
	}
	m.initSeries()
	m.collectors = []prometheus.Collector{m.Events, m.Updates, m.DeadLetters, m.Expired, m.Swept, m.ClockSkew, m.Lag,
		m.BatchSeconds, m.BatchEvents, m.EndToEnd, m.Restored, m.RestoreLeft, m.RestoreTime,
		m.Assigned, m.Rebalances, m.WriteRetries, m.CommitFailure, m.Snapshots, m.Corrupt,
		m.Transactions, m.TxnSeconds, m.ProducerFenced}
	return m
}

// Register adds every collector to reg.
func (m *Metrics) Register(reg prometheus.Registerer) error {
	for _, c := range m.collectors {
		if err := reg.Register(c); err != nil {
			return err
		}
	}
	return nil
}

// partitionMetrics are the collectors one task updates, resolved once when
// the task starts: the per-partition children and the event counters by
// kind and outcome.
type partitionMetrics struct {
	shared      *Metrics
	label       string
	topics      [numKinds]string
	lag         [numKinds]prometheus.Gauge
	snapshots   prometheus.Gauge
	restored    prometheus.Counter
	restoreLeft prometheus.Gauge
	events      [numKinds][numOutcomes]prometheus.Counter
	skew        [3]prometheus.Counter // by skewAhead, skewBehind
}

func (m *Metrics) forPartition(partition int, topics [numKinds]string) *partitionMetrics {
	label := strconv.Itoa(partition)
	pm := &partitionMetrics{
		shared:      m,
		label:       label,
		topics:      topics,
		snapshots:   m.Snapshots.WithLabelValues(label),
		restored:    m.Restored.WithLabelValues(label),
		restoreLeft: m.RestoreLeft.WithLabelValues(label),
	}
	pm.skew[skewAhead] = m.ClockSkew.WithLabelValues("ahead")
	pm.skew[skewBehind] = m.ClockSkew.WithLabelValues("behind")
	for k := range numKinds {
		pm.lag[k] = m.Lag.WithLabelValues(topics[k], label)
		for o := range numOutcomes {
			pm.events[k][o] = m.Events.WithLabelValues(reducer.Kind(k).String(), outcomeNames[o])
		}
	}
	return pm
}

// release removes the partition's series when the task ends (snapshots,
// lag of each input topic, restore progress), so that a partition that
// moved to another member is not reported twice: sums over the members
// stay true after a rebalance. The next owner starts them afresh.
func (pm *partitionMetrics) release() {
	m := pm.shared
	m.Snapshots.DeleteLabelValues(pm.label)
	m.Restored.DeleteLabelValues(pm.label)
	m.RestoreLeft.DeleteLabelValues(pm.label)
	for _, topic := range pm.topics {
		m.Lag.DeleteLabelValues(topic, pm.label)
	}
}

// initSeries creates the labelled series whose labels are known up front at
// zero, so that alert rules see them before the first incident.
func (m *Metrics) initSeries() {
	for k := range reducer.NumKinds {
		for o := range numOutcomes {
			m.Events.WithLabelValues(reducer.Kind(k).String(), outcomeNames[o])
		}
	}
	for t := 1; t < reducer.NumActionTypes; t++ {
		m.Updates.WithLabelValues(reducer.ActionType(t).String())
	}
	for _, target := range []string{"sink", "changelog", "dlq", "commit"} {
		m.WriteRetries.WithLabelValues(target)
	}
	m.ClockSkew.WithLabelValues("ahead")
	m.ClockSkew.WithLabelValues("behind")
	m.Transactions.WithLabelValues("committed")
	m.Transactions.WithLabelValues("aborted")
}

// InitTopics creates the dead-letter series of the input topics at zero.
func (m *Metrics) InitTopics(topics ...string) {
	for _, t := range topics {
		for _, r := range []string{reasonDecode, reasonInvalid} {
			m.DeadLetters.WithLabelValues(t, r)
		}
	}
}
