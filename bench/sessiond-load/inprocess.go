package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/sessiond/sessiond/service"
)

// inProcess is the service as `sessiond run` builds it (service),
// running in this process so that a CPU profile sees it.
type inProcess struct {
	addr   string
	logs   *logSink
	cancel context.CancelFunc
	done   chan struct{}
	runErr error
}

// inProcessLauncher starts pipelines in this process.
func inProcessLauncher() func(a runArgs) (instance, error) {
	return func(a runArgs) (instance, error) { return startInProcess(a) }
}

func startInProcess(a runArgs) (*inProcess, error) {
	s := &inProcess{addr: a.httpAddr, logs: &logSink{}, done: make(chan struct{})}
	var level slog.Level
	if err := level.UnmarshalText([]byte(a.logLevel)); err != nil {
		return nil, fmt.Errorf("log level: %w", err)
	}
	log := slog.New(slog.NewJSONHandler(s.logs, &slog.HandlerOptions{Level: level}))
	svc, err := service.New(a.serviceConfig(), log)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	s.cancel = cancel
	go func() {
		defer close(s.done)
		s.runErr = svc.Run(ctx, nil)
	}()
	return s, nil
}

// serviceConfig is what `sessiond run` with a.flags() configures.
func (a runArgs) serviceConfig() service.Config {
	cfg := service.DefaultConfig()
	c := &cfg.Consumer
	cfg.Conn, c.Group = a.connCfg, a.t.group
	c.CartTopic, c.CustomerTopic, c.ActionTopic = a.t.input[0], a.t.input[1], a.t.input[2]
	c.DeadLetterTopic, cfg.Kafka.Topic = a.t.dlq, a.t.output
	cfg.HTTPAddr = a.httpAddr
	if a.guarantee != "" {
		c.ProcessingGuarantee = a.guarantee
	}
	if a.wire.format == "confluent" {
		cfg.WireFormat, cfg.Registry.URLs = "confluent", []string{a.wire.url}
	}
	return cfg
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
