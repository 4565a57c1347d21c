package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"slices"
	"sync"
	"time"

	"github.com/segmentio/kafka-go"
	"github.com/sessiond/sessiond/internal/kclient"
	"github.com/sessiond/sessiond/schemas"
	"github.com/sessiond/sessiond/schemas/confluent"
	"golang.org/x/sync/errgroup"
)

// latencyResult is phase 5's outcome. Latencies are in milliseconds.
type latencyResult struct {
	Seconds       float64      `json:"seconds"`
	TargetRate    int          `json:"target_events_per_second"`
	Produced      int          `json:"events_produced"`
	ProducedRate  float64      `json:"events_per_second"`
	Actions       int64        `json:"actions"`
	Updates       int64        `json:"updates_matched"`
	Missing       int64        `json:"updates_missing"`
	Duplicates    int64        `json:"updates_duplicated"`
	Unknown       int64        `json:"updates_unknown"`
	Timestamp     percentiles  `json:"timestamp_latency_ms"`
	Received      percentiles  `json:"received_latency_ms"`
	WriteMaxMs    float64      `json:"producer_write_max_ms"`
	EndToEnd      e2eHistogram `json:"sessiond_end_to_end_seconds"`
	BatchEvents   float64      `json:"mean_batch_events"`
	BatchFlushMs  float64      `json:"mean_batch_flush_ms"`
	CPU           cpuUse       `json:"cpu"`
	DeadLetters   float64      `json:"dead_letters"`
	EventsCounted float64      `json:"events_counted"`
	Late          float64      `json:"events_late"`
	Requests      requestRates `json:"kafka_requests_per_second"`
	// Rebalance is what --rebalance cost (nil without it).
	Rebalance *rebalanceResult `json:"rebalance,omitempty"`

	points []updatePoint // every matched update, for the rebalance's figures
}

// requestRates are sessiond's requests to the brokers per second during a
// phase, from sessiond_kafka_requests_total and _request_parts_total.
type requestRates struct {
	Produce      float64 `json:"produce"`
	ProduceParts float64 `json:"produce_writes"`
	Fetch        float64 `json:"fetch"`
	FetchParts   float64 `json:"fetch_partitions"`
}

// requestRatesOf reads the rates between two scrapes secs apart.
func requestRatesOf(before, after metricSet, secs float64) requestRates {
	rate := func(name, api string) float64 {
		return (after.sum(name, "api", api) - before.sum(name, "api", api)) / secs
	}
	return requestRates{
		Produce: rate("sessiond_kafka_requests_total", "produce"), ProduceParts: rate("sessiond_kafka_request_parts_total", "produce"),
		Fetch: rate("sessiond_kafka_requests_total", "fetch"), FetchParts: rate("sessiond_kafka_request_parts_total", "fetch"),
	}
}

// percentiles summarise a latency sample.
type percentiles struct {
	Count int     `json:"count"`
	P50   float64 `json:"p50"`
	P90   float64 `json:"p90"`
	P99   float64 `json:"p99"`
	Max   float64 `json:"max"`
	Mean  float64 `json:"mean"`
	// CDF is the distribution: the latency at each percentile 1..99, then
	// at 99.9 and the maximum (101 values), for plots.
	CDF []float64 `json:"cdf,omitempty"`
}

// e2eHistogram summarises sessiond_end_to_end_seconds over the phase, in ms.
type e2eHistogram struct {
	Count float64 `json:"count"`
	Mean  float64 `json:"mean_ms"`
	P50   float64 `json:"p50_ms"`
	P99   float64 `json:"p99_ms"`
}

// readersState is the output readers' end: done is closed when all have
// returned, err is the first error.
type readersState struct {
	done chan struct{}
	err  error
}

// update is one session update seen on the output topic.
type update struct {
	id       string
	stamp    time.Time // the output record's Kafka timestamp
	received time.Time
}

// sentLog remembers when each action was produced. Safe for concurrent use.
type sentLog struct {
	mu   sync.Mutex
	sent map[string]time.Time
	seen map[string]bool
}

func (s *sentLog) add(id string, at time.Time) {
	s.mu.Lock()
	s.sent[id] = at
	s.mu.Unlock()
}

// match returns the send time of update id and whether it was seen before.
func (s *sentLog) match(id string) (at time.Time, ok, dup bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	at, ok = s.sent[id]
	dup = s.seen[id]
	s.seen[id] = true
	return at, ok, dup
}

// latency produces the stream's next events at cfg.rate for
// cfg.latency() while reading the output topic, and measures the
// action→update latency of each update.
func latency(ctx context.Context, cfg *config, c *kafka.Client, t *topics, l *launcher, s *stream, codecs *schemas.Codecs,
	in instance, log *slog.Logger) (*latencyResult, error) {
	res := &latencyResult{Seconds: cfg.latency().Seconds(), TargetRate: cfg.rate}
	before, err := scrape(ctx, in)
	if err != nil {
		return nil, err
	}
	scrapedAt := time.Now()
	starts, err := endOffsets(ctx, c, t.output, t.partitionList)
	if err != nil {
		return nil, err
	}
	sent := &sentLog{sent: map[string]time.Time{}, seen: map[string]bool{}}
	updates := make(chan update, 4096)
	rctx, stopReaders := context.WithCancel(ctx)
	defer stopReaders()
	readers, rctx := errgroup.WithContext(rctx)
	for _, p := range t.partitionList {
		readers.Go(func() error { return readUpdates(rctx, cfg, t.output, p, starts[p], codecs, updates) })
	}
	rd := &readersState{done: make(chan struct{})}
	go func() {
		rd.err = readers.Wait()
		close(rd.done)
	}()
	cpu := startCPU(in.PID())
	actions0 := s.actions()
	rb := newRebalancer(cfg, t, l, in, log)
	rctx2, stopRebalance := context.WithCancel(ctx)
	defer stopRebalance()
	if cfg.rebalance != "" {
		go rb.run(rctx2, time.Now())
	} else {
		close(rb.done)
	}
	prodDone := make(chan error, 1)
	go func() { prodDone <- res.produce(ctx, cfg, s, sent, log) }()
	err = res.collect(ctx, rb, s, actions0, sent, updates, prodDone, rd)
	res.CPU = cpu.stop()
	stopReaders()
	<-rd.done
	stopRebalance()
	<-rb.done
	if err != nil {
		return nil, err
	}
	if cfg.rebalance != "" {
		if rb.err != nil {
			return nil, fmt.Errorf("rebalance: %w", rb.err)
		}
		rb.judge(res.points)
		res.Rebalance = &rb.res
	}
	if cfg.rebalance == rebalanceRestart { // before is another process's: no rates
		return res, nil
	}
	after, err := scrape(ctx, in)
	if err != nil {
		return nil, err
	}
	res.fromMetrics(before, after, time.Since(scrapedAt).Seconds())
	return res, nil
}

// produce writes the stream's next events in a batch every ~10 ms, as
// many as the rate owes by then, each record stamped with its send time.
func (r *latencyResult) produce(ctx context.Context, cfg *config, s *stream, sent *sentLog, log *slog.Logger) error {
	w := newSteadyWriter(cfg.conn)
	defer w.Close()
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	begin := time.Now()
	for {
		elapsed := time.Since(begin)
		if elapsed >= cfg.latency() {
			break
		}
		due := int(float64(cfg.rate)*elapsed.Seconds()) - r.Produced
		if due > 0 {
			if err := r.writeBatch(ctx, w, s, sent, due); err != nil {
				return err
			}
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-tick.C:
		}
	}
	r.ProducedRate = float64(r.Produced) / time.Since(begin).Seconds()
	log.Info("latency: produced", "events", r.Produced, "events_per_second", round(r.ProducedRate, 0))
	return nil
}

func (r *latencyResult) writeBatch(ctx context.Context, w kclient.MessageWriter, s *stream, sent *sentLog, n int) error {
	evs, msgs, err := s.next(n)
	if err != nil {
		return err
	}
	now := time.Now()
	for i, ev := range evs {
		msgs[i].Time = now
		if ev.Action != nil {
			sent.add(ev.EventID, now.Truncate(time.Millisecond)) // the record's Kafka timestamp
		}
	}
	if err := kclient.Write(ctx, w, msgs, kclient.DefaultRetryPolicy().WithMaxElapsed(time.Minute), nil); err != nil {
		return fmt.Errorf("produce: %w", err)
	}
	r.WriteMaxMs = max(r.WriteMaxMs, float64(time.Since(now))/1e6)
	r.Produced += n
	return nil
}

// collect matches updates to their actions until every action of the phase
// has its update, or 30 s after the last event was produced.
func (r *latencyResult) collect(ctx context.Context, rb *rebalancer, s *stream, actions0 int64, sent *sentLog,
	updates <-chan update, prodDone <-chan error, rd *readersState) error {
	var stamped, received []float64
	var grace <-chan time.Time
	for done := false; !done; {
		watched, exited := rb.exited()
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-exited:
			if rb.unexpected(watched) {
				return exitedErr(watched)
			}
		case <-rd.done:
			if rd.err == nil || errors.Is(rd.err, context.Canceled) {
				return errors.New("the output readers stopped early")
			}
			return rd.err
		case err := <-prodDone:
			if err != nil {
				return err
			}
			r.Actions = s.actions() - actions0
			grace = time.After(30 * time.Second)
		case <-grace:
			done = true
		case u := <-updates:
			at, ok, dup := sent.match(u.id)
			switch {
			case !ok:
				r.Unknown++
			case dup:
				r.Duplicates++
			default:
				r.Updates++
				stamped = append(stamped, float64(u.stamp.Sub(at))/1e6)
				r.points = append(r.points, updatePoint{sent: at, stamp: u.stamp, latencyMs: float64(u.stamp.Sub(at)) / 1e6})
				received = append(received, float64(u.received.Sub(at))/1e6)
			}
		}
		if grace != nil && r.Updates >= r.Actions {
			done = true
		}
	}
	r.Missing = r.Actions - r.Updates
	r.Timestamp, r.Received = summarise(stamped), summarise(received)
	return nil
}

// readUpdates reads partition p of the output topic from offset and sends
// each update's id and times until ctx ends. It reads with sessiond's own
// partition fetcher through the connection's FetchBatcher, merged with the
// other partitions' as a Java consumer's would be (a kafka-go Reader per
// partition sent one long poll per partition, answered each time sessiond
// wrote: load on the shared broker that is the harness's, not sessiond's),
// at the output's isolation: with exactly-once an update is received when
// its transaction has committed, and commit markers are skipped.
func readUpdates(ctx context.Context, cfg *config, topic string, p int, offset int64, codecs *schemas.Codecs, out chan<- update) error {
	iso := kclient.ReadUncommitted
	if cfg.exactlyOnce() {
		iso = kclient.ReadCommitted
	}
	f := kclient.NewPartitionFetcher(cfg.conn, topic, p, offset, iso)
	f.MaxBytes, f.MaxWait = 1<<20, 500*time.Millisecond
	for {
		var sendErr error
		_, err := f.Fetch(ctx, func(m kafka.Message, _ int64) bool {
			u, err := confluent.DecodeUpdate(codecs, m.Value)
			if err != nil {
				sendErr = fmt.Errorf("decode update at %s/%d@%d: %w", topic, p, m.Offset, err)
				return false
			}
			select {
			case out <- update{id: u.UpdateID, stamp: m.Time, received: time.Now()}:
				return true
			case <-ctx.Done():
				return false
			}
		})
		if sendErr != nil {
			return sendErr
		}
		if ctx.Err() != nil {
			return nil
		}
		if err != nil && !errors.Is(err, kclient.ErrStopped) {
			return fmt.Errorf("read %s/%d: %w", topic, p, err)
		}
	}
}

// summarise returns the percentiles of xs (nearest rank).
func summarise(xs []float64) percentiles {
	p := percentiles{Count: len(xs)}
	if len(xs) == 0 {
		return p
	}
	slices.Sort(xs)
	rank := func(q float64) float64 { return xs[min(len(xs)-1, int(math.Ceil(q*float64(len(xs))))-1)] }
	var sum float64
	for _, x := range xs {
		sum += x
	}
	p.P50, p.P90, p.P99, p.Max, p.Mean = rank(0.50), rank(0.90), rank(0.99), xs[len(xs)-1], sum/float64(len(xs))
	for q := 1; q <= 99; q++ {
		p.CDF = append(p.CDF, rank(float64(q)/100))
	}
	p.CDF = append(p.CDF, rank(0.999), p.Max)
	return p
}

// fromMetrics takes the phase's share of sessiond's own histograms.
func (r *latencyResult) fromMetrics(before, after metricSet, secs float64) {
	h := after.histogram("sessiond_end_to_end_seconds").minus(before.histogram("sessiond_end_to_end_seconds"))
	r.EndToEnd = e2eHistogram{Count: h.count, Mean: h.mean() * 1e3, P50: h.quantile(0.5) * 1e3, P99: h.quantile(0.99) * 1e3}
	b := after.histogram("sessiond_batch_events").minus(before.histogram("sessiond_batch_events"))
	f := after.histogram("sessiond_batch_flush_seconds").minus(before.histogram("sessiond_batch_flush_seconds"))
	r.BatchEvents, r.BatchFlushMs = b.mean(), f.mean()*1e3
	r.DeadLetters = after.sum("sessiond_dead_letters_total") - before.sum("sessiond_dead_letters_total")
	r.EventsCounted = after.sum("sessiond_events_total") - before.sum("sessiond_events_total")
	r.Late = after.sum("sessiond_events_total", "outcome", "late") - before.sum("sessiond_events_total", "outcome", "late")
	r.Requests = requestRatesOf(before, after, secs)
}
