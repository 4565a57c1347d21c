package main

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/segmentio/kafka-go"
)

// restoreResult is phase 4's outcome.
type restoreResult struct {
	DrainSeconds     float64 `json:"drain_seconds"`
	ChangelogRecords int64   `json:"changelog_records"`
	ReadySeconds     float64 `json:"start_to_ready_seconds"`
	WindowSeconds    float64 `json:"restore_window_seconds"`
	Partitions       int     `json:"partitions"`
	Records          int64   `json:"records"`
	Snapshots        int64   `json:"snapshots"`
	Corrupt          int64   `json:"corrupt"`
	RecordsRate      float64 `json:"records_per_second"`
	SnapshotsRate    float64 `json:"snapshots_per_second"`
	SlowestPartition float64 `json:"slowest_partition_seconds"`
	MetricRecords    float64 `json:"sessiond_restore_records_total"`
	MetricSecondsSum float64 `json:"sessiond_restore_seconds_sum"`
	MetricCount      float64 `json:"sessiond_restore_seconds_count"`
	CPU              cpuUse  `json:"cpu"`
	RSSMB            float64 `json:"rss_mb"`  // of the new process when ready
	HeapMB           float64 `json:"heap_mb"` // its go_memstats_heap_inuse_bytes then
}

// restore stops prev (SIGTERM, drain) and starts a new instance in the same
// group, timing how long it takes to restore the changelog and be ready. It
// returns the new instance, running.
func restore(ctx context.Context, cfg *config, c *kafka.Client, t *topics, l *launcher, prev instance, log *slog.Logger) (*restoreResult, instance, error) {
	res := &restoreResult{}
	begin := time.Now()
	if err := prev.Stop(60 * time.Second); err != nil {
		return nil, nil, fmt.Errorf("stop the first sessiond: %w", err)
	}
	res.DrainSeconds = time.Since(begin).Seconds()
	n, err := countRecords(ctx, c, t.changelog, t.partitionList)
	if err != nil {
		return nil, nil, err
	}
	res.ChangelogRecords = n
	addr, err := freeAddr()
	if err != nil {
		return nil, nil, err
	}
	begin = time.Now()
	in, err := l.launch(runArgs{guarantee: cfg.sessiondGuarantee(), connCfg: cfg.connCfg, passwordFile: cfg.passwordFile, t: t, wire: &cfg.wire, httpAddr: addr, logLevel: "info"})
	if err != nil {
		return nil, nil, err
	}
	cpu := startCPU(in.PID())
	if err := waitReady(ctx, cfg, in, log); err != nil {
		return nil, in, err
	}
	res.ReadySeconds = time.Since(begin).Seconds()
	res.CPU = cpu.stop()
	res.RSSMB = rssMB(in.PID())
	// The "restored" lines precede readiness; give the pipe a moment.
	waitFor(ctx, 5*time.Second, 20*time.Millisecond, func() error {
		if got := len(in.Logs().Restored()); got < len(t.partitionList) {
			return fmt.Errorf("%d restored lines", got)
		}
		return nil
	})
	res.fromLogs(in.Logs().Restored())
	m, err := scrape(ctx, in)
	if err != nil {
		return nil, in, err
	}
	h := m.histogram("sessiond_restore_seconds")
	res.MetricRecords, res.MetricSecondsSum, res.MetricCount = m.sum("sessiond_restore_records_total"), h.sum, h.count
	res.HeapMB = m.sum("go_memstats_heap_inuse_bytes") / 1e6
	return res, in, nil
}

// waitReady polls /readyz until it answers 200, logging restore progress.
func waitReady(ctx context.Context, cfg *config, in instance, log *slog.Logger) error {
	lastLog := time.Now()
	return waitFor(ctx, cfg.phaseTimeout, 20*time.Millisecond, func() error {
		select {
		case <-in.Exited():
			return permanent(exitedErr(in))
		default:
		}
		if ready(ctx, in) {
			return nil
		}
		if time.Since(lastLog) >= 2*time.Second {
			lastLog = time.Now()
			if m, err := scrape(ctx, in); err == nil {
				log.Info("restore: progress", "records", m.sum("sessiond_restore_records_total"),
					"remaining", m.sum("sessiond_restore_remaining_records"))
			}
		}
		return fmt.Errorf("not ready")
	})
}

// fromLogs sums the partitions' "restored" lines. The restore window runs
// from the earliest partition's start (its log time minus its seconds) to
// the latest one's end: the partitions restore concurrently.
func (r *restoreResult) fromLogs(lines []restoredLine) {
	var first, last time.Time
	for _, l := range lines {
		r.Partitions++
		r.Records += l.Records
		r.Snapshots += l.Snapshots
		r.Corrupt += l.Corrupt
		r.SlowestPartition = max(r.SlowestPartition, l.Seconds)
		start := l.Time.Add(-time.Duration(l.Seconds * float64(time.Second)))
		if first.IsZero() || start.Before(first) {
			first = start
		}
		if l.Time.After(last) {
			last = l.Time
		}
	}
	if r.Partitions == 0 {
		return
	}
	r.WindowSeconds = last.Sub(first).Seconds()
	if r.WindowSeconds > 0 {
		r.RecordsRate = float64(r.Records) / r.WindowSeconds
		r.SnapshotsRate = float64(r.Snapshots) / r.WindowSeconds
	}
}
