package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/segmentio/kafka-go"
	"github.com/sessiond/sessiond/internal/kclient"
)

// The Kafka Streams phase runs bench/kstreams (the same job written with
// Kafka Streams' Processor API and a RocksDB store with a changelog) on
// the preloaded topics, once with Kafka Streams' defaults and once tuned,
// each as a fresh application from the earliest offsets with its own output
// topic, and times it as phase 3 times sessiond: from process start until
// the output topic holds one update per action.

// kstreamsModes are the runs of the phase, in order.
var kstreamsModes = []kstreamsMode{
	{Name: "default", JVM: nil},
	{Name: "tuned", Args: []string{"--tuned"}, JVM: []string{"-XX:+UseParallelGC"}},
}

// kstreamsModesFor returns the modes for cfg: with sessiond's exactly-once,
// the same two with Kafka Streams' processing.guarantee=exactly_once_v2.
func kstreamsModesFor(cfg *config) []kstreamsMode {
	if !cfg.exactlyOnce() && cfg.guarantee != guaranteeBoth {
		return kstreamsModes
	}
	eos := []string{"--config", "processing.guarantee=exactly_once_v2"}
	var out []kstreamsMode
	if cfg.guarantee == guaranteeBoth {
		out = append(out, kstreamsModes...)
	}
	for _, m := range kstreamsModes {
		out = append(out, kstreamsMode{Name: m.Name + eosSuffix, Args: append(append([]string(nil), m.Args...), eos...), JVM: m.JVM})
	}
	return out
}

// eosSuffix ends the names of the peer's exactly_once_v2 modes.
const eosSuffix = "-eos"

// kstreamsMode is one configuration of the Kafka Streams application.
type kstreamsMode struct {
	Name string
	Args []string // the application's own flags
	JVM  []string // java's flags, before -jar
}

// kstreamsResult is one mode's outcome.
type kstreamsResult struct {
	Mode          string   `json:"mode"`
	Command       string   `json:"command"`
	Events        int64    `json:"events"`
	Updates       int64    `json:"updates"`
	DeadLetters   int64    `json:"dead_letters"`
	Seconds       float64  `json:"seconds"`
	RunningAfter  float64  `json:"running_seconds"`
	FirstUpdate   float64  `json:"first_update_seconds"`
	Rate          float64  `json:"events_per_second"`
	RateAfterRun  float64  `json:"events_per_second_after_running"`
	SessiondRatio float64  `json:"sessiond_ratio"` // sessiond's events/s over this one's (set after phase 3)
	CPU           cpuUse   `json:"cpu"`            // the application's process in the sessiond column
	PeakRSSMB     float64  `json:"peak_rss_mb"`
	ExitSummary   string   `json:"exit_summary,omitempty"`
	Settings      []string `json:"settings"`
	Settled       float64  `json:"settled_seconds"` // waited for a quiet machine before starting
}

// kstreamsPhase runs every mode. It is skipped without --kstreams-jar and
// on a secured cluster (the application is given plaintext brokers only).
func kstreamsPhase(ctx context.Context, cfg *config, c *kafka.Client, t *topics, pre *preloadResult, log *slog.Logger) ([]*kstreamsResult, error) {
	if cfg.kstreamsJar == "" {
		return nil, nil
	}
	if cfg.connCfg.TLS.Enabled || cfg.connCfg.SASL.Mechanism != "" {
		log.Warn("kafka streams phase skipped: it connects to plaintext brokers only")
		return nil, nil
	}
	var out []*kstreamsResult
	for _, m := range kstreamsModesFor(cfg) {
		r, err := kstreamsRun(ctx, cfg, c, t, pre, m, log)
		if err != nil {
			return out, fmt.Errorf("kafka streams (%s): %w", m.Name, err)
		}
		// Now, not at the end: nothing of one application is left on the
		// broker while the next phase runs.
		if !cfg.keepTopics {
			if err := deleteTopicsWithPrefix(ctx, c, t.kstreamsApp(m.Name)); err != nil {
				log.Warn("could not delete the Kafka Streams topics", "mode", m.Name, "error", err)
			}
		}
		out = append(out, r)
		result("3k kafka streams", "%s: %s events/s end to end (%.2f s; RUNNING after %.2f s; %.2f cores, peak RSS %.0f MB)",
			m.Name, num(r.Rate), r.Seconds, r.RunningAfter, r.CPU.Sessiond, r.PeakRSSMB)
	}
	return out, nil
}

// kstreamsRun runs one mode to completion and stops it.
func kstreamsRun(ctx context.Context, cfg *config, c *kafka.Client, t *topics, pre *preloadResult, m kstreamsMode, log *slog.Logger) (*kstreamsResult, error) {
	app := t.kstreamsApp(m.Name)
	output, dlq := app+"-updates", app+"-dlq"
	specs := []kclient.TopicSpec{{Name: output, Partitions: len(t.partitionList)}, {Name: dlq, Partitions: len(t.partitionList)}}
	if err := kclient.EnsureTopics(ctx, c, specs...); err != nil {
		return nil, err
	}
	stateDir, err := os.MkdirTemp("", "sessiond-load-kstreams-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(stateDir)
	args := append(append([]string(nil), m.JVM...), "-jar", cfg.kstreamsJar,
		"--brokers", cfg.brokers, "--application-id", app, "--state-dir", stateDir,
		"--cart-topic", t.input[0], "--customer-topic", t.input[1], "--action-topic", t.input[2],
		"--output-topic", output, "--dlq-topic", dlq)
	args = append(args, m.Args...)
	res := &kstreamsResult{Mode: m.Name, Command: cfg.java + " " + strings.Join(args, " "), Events: int64(pre.Events), Settings: m.JVM}
	settled := settle(ctx, "kafka streams "+m.Name, log)
	res.Settled = settled.Seconds()
	begin := time.Now()
	p, err := startJava(cfg.java, args)
	if err != nil {
		return nil, err
	}
	defer p.stop(time.Minute)
	cpu := startCPU(p.cmd.Process.Pid)
	exited := func() error {
		if p.exited() {
			return fmt.Errorf("exited early: %v: %s", p.waitErr, p.tail())
		}
		return nil
	}
	firstAt, n, err := awaitOutput(ctx, cfg, c, output, t.partitionList, pre.Actions, begin, exited, nil, log.With("phase", "kafka streams", "mode", m.Name))
	res.Updates = n
	if err != nil {
		return nil, err
	}
	res.Seconds = time.Since(begin).Seconds()
	res.CPU = cpu.stop()
	res.PeakRSSMB = peakRSSMB(p.cmd.Process.Pid)
	res.RunningAfter = sinceOr(p.runningAt(), begin, res.Seconds)
	res.FirstUpdate = sinceOr(firstAt, begin, res.Seconds)
	res.Rate = float64(res.Events) / res.Seconds
	if d := res.Seconds - res.RunningAfter; d > 0 {
		res.RateAfterRun = float64(res.Events) / d
	}
	if res.DeadLetters, err = countRecords(ctx, c, dlq, t.partitionList); err != nil {
		return nil, err
	}
	if err := p.stop(time.Minute); err != nil {
		log.Warn("kafka streams did not stop cleanly", "mode", m.Name, "error", err)
	}
	res.ExitSummary = p.lastLine()
	return res, nil
}

// kstreamsApp is the application id of a mode; it prefixes the mode's
// output topics and Kafka Streams' internal topics.
func (t *topics) kstreamsApp(mode string) string { return t.group + "-ks-" + mode }

// deleteKStreamsTopics deletes every topic of the run's Kafka Streams
// applications (outputs and Kafka Streams' changelogs), best effort.
func deleteKStreamsTopics(ctx context.Context, c *kafka.Client, t *topics) error {
	return deleteTopicsWithPrefix(ctx, c, t.group+"-ks-")
}

// deleteTopicsWithPrefix deletes the topics whose names start with prefix.
func deleteTopicsWithPrefix(ctx context.Context, c *kafka.Client, prefix string) error {
	meta, err := c.Metadata(ctx, &kafka.MetadataRequest{})
	if err != nil {
		return fmt.Errorf("list topics: %w", err)
	}
	var names []string
	for _, tp := range meta.Topics {
		if strings.HasPrefix(tp.Name, prefix) {
			names = append(names, tp.Name)
		}
	}
	if len(names) == 0 {
		return nil
	}
	if _, err := c.DeleteTopics(ctx, &kafka.DeleteTopicsRequest{Topics: names}); err != nil {
		return fmt.Errorf("delete topics: %w", err)
	}
	return nil
}

// javaProc is the Kafka Streams application's JVM.
type javaProc struct {
	cmd     *exec.Cmd
	done    chan struct{}
	waitErr error

	mu      sync.Mutex
	running time.Time
	lines   []string // the last lines of stderr
}

// startJava starts java with args; its stdout is watched for the RUNNING
// line, the tail of its stderr kept for errors.
func startJava(java string, args []string) (*javaProc, error) {
	p := &javaProc{cmd: exec.Command(java, args...), done: make(chan struct{})}
	p.cmd.Env = os.Environ()
	p.cmd.SysProcAttr = childAttr()
	stdout, err := p.cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	stderr, err := p.cmd.StderrPipe()
	if err != nil {
		return nil, err
	}
	if err := p.cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", java, err)
	}
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); p.scan(stdout, true) }()
	go func() { defer wg.Done(); p.scan(stderr, false) }()
	go func() {
		wg.Wait()
		p.waitErr = p.cmd.Wait()
		close(p.done)
	}()
	return p, nil
}

// scan reads r line by line: RUNNING on stdout marks the state change;
// every other line is kept in the tail.
func (p *javaProc) scan(r io.Reader, stdout bool) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		p.mu.Lock()
		if stdout && strings.TrimSpace(line) == "RUNNING" && p.running.IsZero() {
			p.running = time.Now()
		} else {
			p.lines = append(p.lines, line)
			if len(p.lines) > 40 {
				p.lines = p.lines[len(p.lines)-40:]
			}
		}
		p.mu.Unlock()
	}
}

func (p *javaProc) runningAt() time.Time {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.running
}

func (p *javaProc) tail() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return clip(strings.Join(p.lines, "\n"), 2000)
}

func (p *javaProc) lastLine() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	for i := len(p.lines) - 1; i >= 0; i-- {
		if s := strings.TrimSpace(p.lines[i]); s != "" {
			return clip(s, 300)
		}
	}
	return ""
}

func (p *javaProc) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// stop sends SIGTERM and waits; after timeout it kills the JVM. A second
// call returns at once.
func (p *javaProc) stop(timeout time.Duration) error {
	if p.exited() {
		return p.waitErr
	}
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return fmt.Errorf("signal java: %w", err)
	}
	select {
	case <-p.done:
		return p.waitErr
	case <-time.After(timeout):
		p.cmd.Process.Kill()
		<-p.done
		return fmt.Errorf("did not stop within %v after SIGTERM: killed", timeout)
	}
}

// defaultKStreamsJar is where `mvn -f bench/kstreams/pom.xml package`
// puts the jar, relative to the repository's root.
var defaultKStreamsJar = filepath.Join("bench", "kstreams", "target", "sessiond-kstreams.jar")
