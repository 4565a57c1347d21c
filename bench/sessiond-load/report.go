package main

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"strconv"
	"strings"
)

// Targets of the end-to-end benchmark (issue 14's).
const (
	targetRate      = 150_000 // events/s through the pipeline
	targetRatio     = 0.5     // of the baseline
	targetKStreams  = 2.5     // × the Kafka Streams implementation's events/s
	targetP99Ms     = 50      // action→update p99 at targetLatencyAt
	targetP50Ms     = 15      // and p50
	targetLatencyAt = 10_000  // events/s
	targetRestore   = 200_000 // snapshots/s
	targetReplay    = 1.5     // × the pipeline's events/s
)

// report is everything a run measured.
type report struct {
	Command string  `json:"command"`
	Machine machine `json:"machine"`
	Brokers string  `json:"brokers"`
	Mode    string  `json:"sessiond"`
	// Replication is the output topic's replication factor as created
	// (every write is acks=all, sessiond's and Kafka Streams').
	Replication int            `json:"replication_factor"`
	Source      string         `json:"source,omitempty"`
	Settings    map[string]any `json:"settings"`
	// Background is the machine's busy cores in the 2 s before the run.
	Background float64           `json:"background_cores_before_run"`
	Preload    *preloadResult    `json:"preload,omitempty"`
	Baseline   *baselineResult   `json:"baseline,omitempty"`
	KStreams   []*kstreamsResult `json:"kafka_streams,omitempty"`
	Pipeline   *pipelineResult   `json:"pipeline,omitempty"`
	Restore    *restoreResult    `json:"restore,omitempty"`
	Replay     *replayResult     `json:"replay,omitempty"`
	Latency    *latencyResult    `json:"latency,omitempty"`
	// ExactlyOnce: with --processing-guarantee both, phases 3 and 5 again
	// with exactly-once, beside the at-least-once ones above.
	ExactlyOnce *exactlyOnceResult `json:"exactly_once,omitempty"`
	Soak        *soakResult        `json:"soak,omitempty"`
	Warnings    []string           `json:"sessiond_warnings,omitempty"`
	Failure     string             `json:"failure,omitempty"`
}

// markdown writes the summary tables.
func (r *report) markdown(w io.Writer) {
	fmt.Fprintf(w, "## sessiond-load results\n\n`%s`\n\n", r.Command)
	fmt.Fprintf(w, "%s; brokers %s (topics with replication factor %d, writes acks=all); sessiond %s", r.Machine, r.Brokers, r.Replication, r.Mode)
	if r.Source != "" {
		fmt.Fprintf(w, ", built from %s", r.Source)
	}
	fmt.Fprintf(w, ". Busy before the run: %.2f cores.\n\n", r.Background)
	fmt.Fprintln(w, "| phase | result | target | met |")
	fmt.Fprintln(w, "|---|---|---|---|")
	for _, row := range r.rows() {
		fmt.Fprintf(w, "| %s | %s | %s | %s |\n", row[0], row[1], row[2], row[3])
	}
	fmt.Fprintln(w)
	r.guaranteeTable(w)
	r.cpuTable(w)
	for _, x := range r.Warnings {
		fmt.Fprintf(w, "\n%s\n", x)
	}
	if r.Failure != "" {
		fmt.Fprintf(w, "\n**Run failed:** %s\n", strings.ReplaceAll(r.Failure, "\n", " "))
	}
}

func (r *report) rows() [][4]string {
	var rows [][4]string
	if s := r.Soak; s != nil && len(s.Samples) > 0 {
		last := s.Samples[len(s.Samples)-1]
		rows = append(rows, [4]string{"soak", fmt.Sprintf("%s events at %s events/s for %.0f s; mean RSS over the first minute after the %.0f s warm-up %.1f MB, over the last %.1f MB (%+.1f%%; samples %.1f–%.1f MB); Go heap at the end %.1f MB; %.0f GC cycles, %.0f ms of pauses; lag at the end %.0f; %.0f snapshots",
			num(float64(s.Produced)), num(float64(s.Rate)), s.Seconds, s.WarmupS, s.RSSFirstMin, s.RSSLastMin, s.RSSDriftPct, s.RSSMin, s.RSSMax, last.HeapMB, last.GCs, last.GCPauseMs, last.Lag, last.Snapshots),
			"flat: RSS within 10% after warm-up (minute means)", met(s.Flat)})
	}
	if p := r.Preload; p != nil {
		rows = append(rows, [4]string{"1 preload", fmt.Sprintf("%s events/s produced (%s events, %s actions, %.0f MB at %.0f MB/s, %s records per write; generate + encode %s events/s)",
			num(p.Rate), num(float64(p.Events)), num(float64(p.Actions)), float64(p.Bytes)/1e6, p.MBPerSecond, num(float64(p.BatchMessages)), num(p.GenRate)), "—", "—"})
	}
	if b := r.Baseline; b != nil {
		rows = append(rows, [4]string{"2 baseline", fmt.Sprintf("%s events/s read + decoded (%s events in %.2f s; read only: %s events/s; %d decode failures; started after %.1f s of settling)",
			num(b.Rate), num(float64(b.Events)), b.Seconds, num(b.ReadRate), b.DecodeFailures, b.Settled), "—", "—"})
	}
	if p := r.Pipeline; p != nil {
		rows = append(rows, [4]string{"3 pipeline", fmt.Sprintf("%s events/s end to end (%s events → %s updates in %.2f s from process start; ready after %.2f s, first update at %.2f s; %s events/s after ready; started after %.1f s of settling)",
			num(p.Rate), num(float64(p.Events)), num(float64(p.Updates)), p.Seconds, p.ReadySeconds, p.FirstUpdate, num(p.RateAfterReady), p.Settled),
			"≥ " + num(targetRate) + " events/s", met(p.Rate >= targetRate)})
		rows = append(rows, [4]string{"3 vs baseline", fmt.Sprintf("%.1f%% of the baseline's %s events/s", 100*p.RatioToBaseline, num(r.Baseline.Rate)),
			fmt.Sprintf("≥ %.0f%%", 100*targetRatio), met(p.RatioToBaseline >= targetRatio)})
		m, o := p.Metrics, p.EventsByOutcome
		rows = append(rows, [4]string{"3 /metrics", fmt.Sprintf("events_total %s (applied %s, late %s, duplicate %s, rejected %s), updates_total %s, dead letters %s, %s batches of %.0f events (mean flush %.1f ms), write retries %s, snapshots %s, peak RSS %.0f MB",
			num(m.Events), num(o["applied"]), num(o["late"]), num(o["duplicate"]), num(o["rejected"]), num(m.Updates), num(m.DeadLetters), num(m.Batches), m.BatchEvents, m.BatchFlushMs, num(m.WriteRetries), num(m.Snapshots), p.PeakRSSMB),
			"all applied, one update per action", met(o["applied"] == float64(p.Events) && m.Updates == float64(r.Preload.Actions))})
	}
	for _, k := range r.KStreams {
		rows = append(rows, [4]string{"3k Kafka Streams, " + k.Mode, fmt.Sprintf("%s events/s end to end (%s events → %s updates, %s dead letters, in %.2f s from process start; RUNNING after %.2f s, first update at %.2f s; %s events/s after RUNNING; %.2f cores, peak RSS %.0f MB; started after %.1f s of settling)",
			num(k.Rate), num(float64(k.Events)), num(float64(k.Updates)), num(float64(k.DeadLetters)), k.Seconds, k.RunningAfter, k.FirstUpdate, num(k.RateAfterRun), k.CPU.Sessiond, k.PeakRSSMB, k.Settled), "—", "—"})
		if r.Pipeline != nil {
			target, ok := "—", "—"
			if k.Mode == "tuned" {
				target, ok = fmt.Sprintf("≥ %.1f×", targetKStreams), met(k.SessiondRatio >= targetKStreams)
			}
			rate, who := r.Pipeline.Rate, "sessiond"
			if e := r.ExactlyOnce; e != nil && e.Pipeline != nil && strings.HasSuffix(k.Mode, eosSuffix) {
				rate, who = e.Pipeline.Rate, "sessiond exactly-once" // both: each peer mode against its own guarantee
			}
			rows = append(rows, [4]string{"3 vs Kafka Streams, " + k.Mode, fmt.Sprintf("%s %.2f× (%s vs %s events/s)", who, k.SessiondRatio, num(rate), num(k.Rate)), target, ok})
		}
	}
	if s := r.Restore; s != nil {
		rows = append(rows, [4]string{"4 restore", fmt.Sprintf("%s snapshots/s, %s changelog records/s (%s snapshots, %s records, %d partitions in a %.2f s window, slowest partition %.2f s; start → ready %.2f s; drain of the first process %.2f s; RSS when ready %.0f MB, Go heap in use %.0f MB)",
			num(s.SnapshotsRate), num(s.RecordsRate), num(float64(s.Snapshots)), num(float64(s.Records)), s.Partitions, s.WindowSeconds, s.SlowestPartition, s.ReadySeconds, s.DrainSeconds, s.RSSMB, s.HeapMB),
			"≥ " + num(targetRestore) + " snapshots/s", met(s.SnapshotsRate >= targetRestore)})
		rows = append(rows, [4]string{"4 /metrics", fmt.Sprintf("restore_records_total %s (changelog holds %s), restore_seconds sum %.2f s over %s partitions",
			num(s.MetricRecords), num(float64(s.ChangelogRecords)), s.MetricSecondsSum, num(s.MetricCount)), "cross-check", met(s.MetricRecords == float64(s.ChangelogRecords))})
	}
	if x := r.Replay; x != nil && r.Pipeline != nil {
		rows = append(rows, [4]string{"6 replay", fmt.Sprintf("%s events/s (%s events → %s updates to a topic in %.2f s from process start, whole history as the window), %.2f× the pipeline's %s events/s",
			num(x.Rate), num(float64(x.Events)), num(float64(x.Updates)), x.Seconds, x.RatioToPipeline, num(r.Pipeline.Rate)),
			fmt.Sprintf("≥ %.1f× the pipeline", targetReplay), met(x.RatioToPipeline >= targetReplay && x.Updates == r.replayExpected())})
	}
	if l := r.Latency; l != nil {
		t := l.Timestamp
		rows = append(rows, [4]string{"5 latency", fmt.Sprintf("p99 %.0f ms (p50 %.0f, p90 %.0f, max %.0f, mean %.1f ms; %s updates of %s actions, %d missing, %d duplicated; %s events at %s events/s for %.0f s)",
			t.P99, t.P50, t.P90, t.Max, t.Mean, num(float64(l.Updates)), num(float64(l.Actions)), l.Missing, l.Duplicates, num(float64(l.Produced)), num(l.ProducedRate), l.Seconds),
			fmt.Sprintf("p99 < %d ms, p50 < %d ms at %s events/s", targetP99Ms, targetP50Ms, num(targetLatencyAt)), met(t.P99 < targetP99Ms && t.P50 < targetP50Ms && l.Missing == 0 && l.TargetRate >= targetLatencyAt)})
		rv, e := l.Received, l.EndToEnd
		q := l.Requests
		rows = append(rows, [4]string{"5 other views", fmt.Sprintf("received by a reader: p50 %.0f, p99 %.0f, max %.0f ms; sessiond_end_to_end_seconds: p50 %.0f, p99 %.0f, mean %.1f ms over %s updates (bucket-interpolated); batches of %.0f events, mean flush %.1f ms; %s events counted, %s late, %s dead letters; producer write max %.0f ms; sessiond's requests/s: produce %s (carrying %s writes), fetch %s (carrying %s partition fetches)",
			rv.P50, rv.P99, rv.Max, e.P50, e.P99, e.Mean, num(e.Count), l.BatchEvents, l.BatchFlushMs, num(l.EventsCounted), num(l.Late), num(l.DeadLetters), l.WriteMaxMs,
			num(q.Produce), num(q.ProduceParts), num(q.Fetch), num(q.FetchParts)), "—", "—"})
		if rb := l.Rebalance; rb != nil {
			rows = append(rows, [4]string{"5 rebalance", fmt.Sprintf("%s at %.0f s: the new member ready %.2f s after its start (drain of the old %.2f s; %d partitions, %s snapshots from %s changelog records restored; RSS %.0f MB); of the actions sent from then on, the longest wait %.0f ms, %s updates over 1 s; longest output gap %.0f ms",
				rb.Kind, rb.AtSeconds, rb.ReadySeconds, rb.DrainSeconds, rb.Partitions, num(float64(rb.Snapshots)), num(float64(rb.Records)), rb.RSSMB, rb.MaxLatencyMs, num(float64(rb.Over1s)), rb.LongestGapMs), "—", "—"})
		}
	}
	return rows
}

// replayExpected is how many updates the replay must write: one per
// action of the preload, the records it reads (replayPhase).
func (r *report) replayExpected() int64 { return r.Preload.Actions }

func (r *report) cpuTable(w io.Writer) {
	type row struct {
		name string
		wall float64
		u    cpuUse
	}
	var rows []row
	if b := r.Baseline; b != nil {
		rows = append(rows, row{"2 baseline (read + decode)", b.Seconds, b.CPU})
	}
	for _, k := range r.KStreams {
		rows = append(rows, row{"3k Kafka Streams " + k.Mode + " (its JVM in the sessiond column)", k.Seconds, k.CPU})
	}
	if p := r.Pipeline; p != nil {
		rows = append(rows, row{"3 pipeline", p.Seconds, p.CPU})
	}
	if s := r.Restore; s != nil {
		rows = append(rows, row{"4 restore (start → ready)", s.ReadySeconds, s.CPU})
	}
	if l := r.Latency; l != nil {
		rows = append(rows, row{"5 latency", l.Seconds, l.CPU})
	}
	if len(rows) == 0 {
		return
	}
	fmt.Fprintf(w, "CPU in cores (CPU seconds per wall second, of %d)", r.Machine.CPUs)
	if strings.HasPrefix(r.Mode, "in this process") {
		fmt.Fprint(w, "; sessiond runs in sessiond-load, so its column holds both")
	}
	fmt.Fprint(w, ":\n\n")
	fmt.Fprintln(w, "| phase | wall s | machine | sessiond | sessiond-load | broker (JVM) | irq + softirq | other processes |")
	fmt.Fprintln(w, "|---|---|---|---|---|---|---|---|")
	for _, x := range rows {
		fmt.Fprintf(w, "| %s | %.1f | %.2f | %.2f | %.2f | %.2f | %.2f | %.2f |\n",
			x.name, x.wall, x.u.Machine, x.u.Sessiond, x.u.Load, x.u.Broker, x.u.IRQ, x.u.Other)
	}
}

// writeJSON writes the report to path ("-": stdout).
func (r *report) writeJSON(path string) error {
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return fmt.Errorf("encode json: %w", err)
	}
	b = append(b, '\n')
	if path == "-" {
		_, err = os.Stdout.Write(b)
		return err
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

func met(ok bool) string {
	if ok {
		return "yes"
	}
	return "**no**"
}

// num formats x rounded to an integer with thousands separators.
func num(x float64) string {
	if math.IsNaN(x) || math.IsInf(x, 0) {
		return "n/a"
	}
	s := strconv.FormatInt(int64(math.Round(math.Abs(x))), 10)
	var b strings.Builder
	if x < 0 {
		b.WriteByte('-')
	}
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return b.String()
}

// guaranteeTable writes, for --processing-guarantee both, the two
// guarantees side by side.
func (r *report) guaranteeTable(w io.Writer) {
	e := r.ExactlyOnce
	if e == nil || e.Pipeline == nil || r.Pipeline == nil {
		return
	}
	fmt.Fprintln(w, "| guarantee | events/s end to end | latency written p50 / p99 | latency visible p50 / p99 |")
	fmt.Fprintln(w, "|---|---|---|---|")
	lat := func(l *latencyResult) (string, string) {
		if l == nil {
			return "—", "—"
		}
		return fmt.Sprintf("%.0f / %.0f ms", l.Timestamp.P50, l.Timestamp.P99), fmt.Sprintf("%.0f / %.0f ms", l.Received.P50, l.Received.P99)
	}
	a1, a2 := lat(r.Latency)
	fmt.Fprintf(w, "| at-least-once | %s | %s | %s |\n", num(r.Pipeline.Rate), a1, a2)
	e1, e2 := lat(e.Latency)
	fmt.Fprintf(w, "| exactly-once (read_committed) | %s (cost %.1f%%) | %s | %s |\n\n", num(e.Pipeline.Rate), 100*e.ThroughputCost, e1, e2)
}
