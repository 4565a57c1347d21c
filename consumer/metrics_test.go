package consumer

import (
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
)

// seriesCount counts the series c exports (as testutil.CollectAndCount
// does, without the dependency that package brings into go.mod).
func seriesCount(c prometheus.Collector) int {
	ch := make(chan prometheus.Metric)
	go func() { c.Collect(ch); close(ch) }()
	n := 0
	for range ch {
		n++
	}
	return n
}

// A released partition leaves none of its series behind (so that sums over
// members do not count a partition that moved twice), and the series of a
// partition still owned stay.
func TestPartitionMetricsReleaseDeletesItsSeries(t *testing.T) {
	m := NewMetrics()
	topics := [numKinds]string{"cart", "customer", "actions"}
	gone, kept := m.forPartition(0, topics), m.forPartition(1, topics)
	for _, pm := range []*partitionMetrics{gone, kept} {
		for k := range pm.lag {
			pm.lag[k].Set(5)
		}
		pm.snapshots.Set(3)
		pm.restored.Add(7)
		pm.restoreLeft.Set(1)
	}
	gone.release()
	for name, c := range map[string]prometheus.Collector{
		"sessiond_consumer_lag": m.Lag, "sessiond_snapshots": m.Snapshots,
		"sessiond_restore_records_total": m.Restored, "sessiond_restore_remaining_records": m.RestoreLeft,
	} {
		want := 1
		if c == m.Lag {
			want = numKinds
		}
		if n := seriesCount(c); n != want {
			t.Errorf("%s: %d series after releasing partition 0, want %d (partition 1's)", name, n, want)
		}
	}
	var lag dto.Metric
	if err := m.Lag.WithLabelValues("actions", "1").Write(&lag); err != nil || lag.GetGauge().GetValue() != 5 {
		t.Errorf("partition 1's lag = %v (%v), want 5", lag.GetGauge().GetValue(), err)
	}
}
