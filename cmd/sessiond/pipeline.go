package main

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/sessiond/sessiond/consumer"
	"github.com/sessiond/sessiond/emitter"
	"github.com/sessiond/sessiond/internal/kafkautil"
	"github.com/sessiond/sessiond/schemas"
)

// pipelineFlags are the settings `run` and `demo` share.
type pipelineFlags struct {
	brokers        string
	group          string
	cartTopic      string
	customerTopic  string
	actionTopic    string
	outputTopic    string
	dlqTopic       string
	wireFormat     string
	sessionTTL     time.Duration
	maxIdle        time.Duration
	httpAddr       string
	logLevel       string
	maxBatch       int
	sessionTimeout time.Duration
}

// pipeline is a wired processor with its sink.
type pipeline struct {
	proc    *consumer.Processor
	sink    *emitter.KafkaSink
	status  *consumer.Status
	metrics *consumer.Metrics
	reg     *prometheus.Registry
}

// newPipeline wires consumer → reducer → emitter from the flags.
func newPipeline(f *pipelineFlags, log *slog.Logger) (*pipeline, error) {
	if f.wireFormat != "raw" {
		return nil, fmt.Errorf("--wire-format %q is not supported (only raw)", f.wireFormat)
	}
	if f.outputTopic == "" {
		return nil, fmt.Errorf("--output-topic is empty and no other sink is configured")
	}
	codecs, err := schemas.Load()
	if err != nil {
		return nil, err
	}
	brokers := kafkautil.Brokers(f.brokers)
	m := consumer.NewMetrics()
	reg := prometheus.NewRegistry()
	reg.MustRegister(prometheus.NewGoCollector(), prometheus.NewProcessCollector(prometheus.ProcessCollectorOpts{}))
	if err := m.Register(reg); err != nil {
		return nil, err
	}
	sink, err := emitter.NewKafkaSink(emitter.KafkaConfig{
		Brokers: brokers, Topic: f.outputTopic, Encoder: codecs,
		OnRetry: func(err error, wait time.Duration) {
			m.WriteRetries.WithLabelValues("sink").Inc()
			log.Warn("sink write failed, retrying", "error", err, "wait", wait)
		},
	})
	if err != nil {
		return nil, err
	}
	status := consumer.NewStatus()
	proc, err := consumer.New(consumer.Config{
		Brokers: brokers, Group: f.group,
		CartTopic: f.cartTopic, CustomerTopic: f.customerTopic, ActionTopic: f.actionTopic,
		DeadLetterTopic: f.dlqTopic, SessionTTL: f.sessionTTL, MaxIdle: f.maxIdle,
		MaxBatch: f.maxBatch, SessionTimeout: f.sessionTimeout,
		Decoder: codecs, Snapshots: codecs, Sink: sink,
		Logger: log, Metrics: m, Status: status, CreateTopics: true,
	})
	if err != nil {
		return nil, err
	}
	return &pipeline{proc: proc, sink: sink, status: status, metrics: m, reg: reg}, nil
}

// run runs the processor until ctx ends, then closes the sink.
func (p *pipeline) run(ctx context.Context) error {
	defer p.sink.Close()
	return p.proc.Run(ctx)
}
