package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/sessiond/sessiond/consumer"
	"github.com/sessiond/sessiond/emitter"
	"github.com/sessiond/sessiond/internal/kafkautil"
	"github.com/sessiond/sessiond/schemas"
)

// inProcess is the pipeline wired as cmd/sessiond/pipeline.go wires it,
// running in this process so that a CPU profile sees it.
type inProcess struct {
	addr   string
	logs   *logSink
	cancel context.CancelFunc
	done   chan struct{}
	runErr error
}

// inProcessLauncher starts pipelines in this process.
func inProcessLauncher(codecs *schemas.Codecs) func(a runArgs) (instance, error) {
	return func(a runArgs) (instance, error) { return startInProcess(a, codecs) }
}

func startInProcess(a runArgs, codecs *schemas.Codecs) (*inProcess, error) {
	s := &inProcess{addr: a.httpAddr, logs: &logSink{}, done: make(chan struct{})}
	var level slog.Level
	if err := level.UnmarshalText([]byte(a.logLevel)); err != nil {
		return nil, fmt.Errorf("log level: %w", err)
	}
	log := slog.New(slog.NewJSONHandler(s.logs, &slog.HandlerOptions{Level: level}))
	proc, sink, status, reg, err := wirePipeline(a, codecs, log)
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", a.httpAddr)
	if err != nil {
		sink.Close()
		return nil, fmt.Errorf("listen on %s: %w", a.httpAddr, err)
	}
	srv := &http.Server{Handler: opsMux(status, reg), ReadHeaderTimeout: 5 * time.Second}
	go srv.Serve(ln)
	ctx, cancel := context.WithCancel(context.Background())
	s.cancel = cancel
	go func() {
		defer close(s.done)
		s.runErr = proc.Run(ctx)
		sink.Close()
		srv.Close()
	}()
	return s, nil
}

// wirePipeline builds the processor and its sink, metrics and status.
func wirePipeline(a runArgs, codecs *schemas.Codecs, log *slog.Logger) (*consumer.Processor, *emitter.KafkaSink, *consumer.Status, *prometheus.Registry, error) {
	brokers := kafkautil.Brokers(a.brokers)
	m := consumer.NewMetrics()
	reg := prometheus.NewRegistry()
	reg.MustRegister(prometheus.NewGoCollector())
	if err := m.Register(reg); err != nil {
		return nil, nil, nil, nil, err
	}
	sink, err := emitter.NewKafkaSink(emitter.KafkaConfig{Brokers: brokers, Topic: a.t.output, Encoder: codecs})
	if err != nil {
		return nil, nil, nil, nil, err
	}
	status := consumer.NewStatus()
	proc, err := consumer.New(consumer.Config{
		Brokers: brokers, Group: a.t.group,
		CartTopic: a.t.input[0], CustomerTopic: a.t.input[1], ActionTopic: a.t.input[2],
		DeadLetterTopic: a.t.dlq, Decoder: codecs, Snapshots: codecs, Sink: sink,
		Logger: log, Metrics: m, Status: status, CreateTopics: true,
	})
	if err != nil {
		sink.Close()
		return nil, nil, nil, nil, err
	}
	return proc, sink, status, reg, nil
}

func opsMux(status *consumer.Status, reg *prometheus.Registry) *http.ServeMux {
	mux := http.NewServeMux()
	mux.HandleFunc("/readyz", func(w http.ResponseWriter, _ *http.Request) {
		if !status.Ready() {
			http.Error(w, "not ready", http.StatusServiceUnavailable)
			return
		}
		w.Write([]byte("ok\n"))
	})
	mux.Handle("/metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	return mux
}

func (s *inProcess) Addr() string            { return s.addr }
func (s *inProcess) PID() int                { return -1 }
func (s *inProcess) Logs() *logSink          { return s.logs }
func (s *inProcess) Exited() <-chan struct{} { return s.done }

func (s *inProcess) Err() error {
	if s.runErr == nil {
		return errors.New("returned without error")
	}
	return s.runErr
}

// Stop cancels the pipeline and waits for its drain.
func (s *inProcess) Stop(timeout time.Duration) error {
	s.cancel()
	select {
	case <-s.done:
		return s.runErr
	case <-time.After(timeout):
		return fmt.Errorf("pipeline did not drain within %v", timeout)
	}
}
