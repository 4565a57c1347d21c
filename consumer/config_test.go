package consumer

import (
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/sessiond/sessiond/internal/kclient"
	"github.com/sessiond/sessiond/reducer"
)

// discardSink accepts every update.
type discardSink struct{}

func (discardSink) Name() string                                   { return "discard" }
func (discardSink) Write(context.Context, []*reducer.Update) error { return nil }

// nopCodec stands in for the decoder and the snapshot codec in config
// tests, which never decode.
type nopCodec struct{}

func (nopCodec) DecodeEvent(context.Context, reducer.Kind, []byte) (*reducer.Event, error) {
	return nil, nil
}
func (nopCodec) EncodeSnapshot(dst []byte, _ *reducer.Snapshot) ([]byte, error) { return dst, nil }
func (nopCodec) DecodeSnapshot([]byte) (*reducer.Snapshot, error)               { return nil, nil }

// manySinks returns n sinks.
func manySinks(n int) []Sink {
	sinks := make([]Sink, n)
	for i := range sinks {
		sinks[i] = discardSink{}
	}
	return sinks
}

// validConfig is the defaults with the components set: it passes Validate.
func validConfig() Config {
	c := DefaultConfig()
	c.Conn = kclient.PlainConn([]string{"localhost:9092"})
	c.Decoder, c.Snapshots, c.Sinks = nopCodec{}, nopCodec{}, []Sink{discardSink{}}
	return c
}

func TestDefaultConfig(t *testing.T) {
	c := DefaultConfig()
	strs := []struct{ field, got, want string }{
		{"Group", c.Group, "sessiond"},
		{"CartTopic", c.CartTopic, "cart-changed"},
		{"CustomerTopic", c.CustomerTopic, "customer-changed"},
		{"ActionTopic", c.ActionTopic, "actions"},
		{"DeadLetterTopic", c.DeadLetterTopic, "sessiond-dlq"},
		{"Changelog()", c.Changelog(), "sessiond-snapshots"},
	}
	for _, s := range strs {
		if s.got != s.want {
			t.Errorf("%s = %q, want %q", s.field, s.got, s.want)
		}
	}
	durations := []struct {
		field     string
		got, want time.Duration
	}{
		{"SessionTTL", c.SessionTTL, 24 * time.Hour},
		{"MaxIdle", c.MaxIdle, 50 * time.Millisecond},
		{"MaxBatchAge", c.MaxBatchAge, 50 * time.Millisecond},
		{"SessionTimeout", c.SessionTimeout, 10 * time.Second},
		{"DrainTimeout", c.DrainTimeout, 15 * time.Second},
	}
	for _, d := range durations {
		if d.got != d.want {
			t.Errorf("%s = %v, want %v", d.field, d.got, d.want)
		}
	}
	if c.ReplicationFactor != -1 || c.MinInsyncReplicas != -1 {
		t.Errorf("ReplicationFactor, MinInsyncReplicas = %d, %d, want -1, -1 (the brokers' defaults)", c.ReplicationFactor, c.MinInsyncReplicas)
	}
	if c.MaxBatch != DefaultMaxBatch || DefaultMaxBatch != 2000 {
		t.Errorf("MaxBatch = %d, want %d (2000)", c.MaxBatch, DefaultMaxBatch)
	}
	if !c.CreateTopics {
		t.Error("CreateTopics is off by default")
	}
	if c.Logger != slog.Default() {
		t.Error("Logger is not slog.Default()")
	}
	if c.Metrics == nil || c.Status == nil {
		t.Errorf("Metrics %v, Status %v: want fresh ones", c.Metrics, c.Status)
	}
	if c.Status != nil && c.Status.Ready() {
		t.Error("a fresh Status is ready")
	}
	if c.Conn != nil || c.Sinks != nil || c.Decoder != nil || c.Snapshots != nil {
		t.Error("required components got defaults; they must be left to the caller")
	}
}

func TestConfigChangelogFollowsGroup(t *testing.T) {
	c := DefaultConfig()
	c.Group = "eu"
	if got := c.Changelog(); got != "eu-snapshots" {
		t.Errorf("Changelog() = %q, want %q", got, "eu-snapshots")
	}
	c.ChangelogTopic = "explicit"
	if got := c.Changelog(); got != "explicit" {
		t.Errorf("Changelog() = %q, want the explicit %q", got, "explicit")
	}
}

// Validate only checks: it never fills in a value.
func TestConfigValidateChangesNothing(t *testing.T) {
	c := validConfig()
	c.MaxIdle = 0
	before := c
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	if c.MaxIdle != 0 || c.ChangelogTopic != before.ChangelogTopic || c.Group != before.Group {
		t.Errorf("Validate changed the config: %+v", c)
	}
}

func TestConfigValidate(t *testing.T) {
	tests := []struct {
		name    string
		edit    func(*Config)
		wantErr string // "" for valid
	}{
		{"defaults with components", func(*Config) {}, ""},
		{"zero max idle: do not wait", func(c *Config) { c.MaxIdle = 0 }, ""},
		{"zero batch age: flush every record", func(c *Config) { c.MaxBatchAge = 0 }, ""},
		{"no connection", func(c *Config) { c.Conn = nil }, "connection"},
		{"empty group", func(c *Config) { c.Group = "" }, "group"},
		{"no sink", func(c *Config) { c.Sinks = nil }, "sink"},
		{"nil sink", func(c *Config) { c.Sinks = []Sink{nil} }, "sink"},
		{"no decoder", func(c *Config) { c.Decoder = nil }, "decoder"},
		{"no snapshot codec", func(c *Config) { c.Snapshots = nil }, "snapshot"},
		{"no logger", func(c *Config) { c.Logger = nil }, "logger"},
		{"empty input topic", func(c *Config) { c.CartTopic = "" }, "empty"},
		{"empty dead-letter topic", func(c *Config) { c.DeadLetterTopic = "" }, "dead-letter"},
		{"cart and customer the same", func(c *Config) { c.CustomerTopic = c.CartTopic }, "twice"},
		{"cart and action the same", func(c *Config) { c.ActionTopic = c.CartTopic }, "twice"},
		{"customer and action the same", func(c *Config) { c.ActionTopic = c.CustomerTopic }, "twice"},
		{"changelog is an input", func(c *Config) { c.ChangelogTopic = c.ActionTopic }, "changelog"},
		{"dead letters go to an input", func(c *Config) { c.DeadLetterTopic = c.CartTopic }, "dead-letter"},
		{"replication factor 3, min ISR 2", func(c *Config) { c.ReplicationFactor, c.MinInsyncReplicas = 3, 2 }, ""},
		{"zero replication factor", func(c *Config) { c.ReplicationFactor = 0 }, "replication factor"},
		{"replication factor -2", func(c *Config) { c.ReplicationFactor = -2 }, "replication factor"},
		{"zero min ISR", func(c *Config) { c.MinInsyncReplicas = 0 }, "min.insync.replicas"},
		{"min ISR above the replication factor", func(c *Config) { c.ReplicationFactor, c.MinInsyncReplicas = 2, 3 }, "no write could ever"},
		{"negative max idle", func(c *Config) { c.MaxIdle = -time.Millisecond }, "negative"},
		{"zero TTL", func(c *Config) { c.SessionTTL = 0 }, "positive"},
		{"negative TTL", func(c *Config) { c.SessionTTL = -time.Hour }, "positive"},
		{"negative batch age", func(c *Config) { c.MaxBatchAge = -time.Second }, "negative"},
		{"negative commit interval", func(c *Config) { c.CommitInterval = -time.Second }, "negative"},
		{"zero session timeout", func(c *Config) { c.SessionTimeout = 0 }, "positive"},
		{"zero drain timeout", func(c *Config) { c.DrainTimeout = 0 }, "positive"},
		{"batch below one", func(c *Config) { c.MaxBatch = 0 }, "max batch"},
		{"64 sinks: the batch's mask is full", func(c *Config) { c.Sinks = manySinks(MaxSinks) }, ""},
		{"65 sinks: beyond the batch's mask", func(c *Config) { c.Sinks = manySinks(MaxSinks + 1) }, "at most 64"},
		{"a retry policy without waits", func(c *Config) { c.Retry = kclient.RetryPolicy{} }, "first wait"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := validConfig()
			tt.edit(&c)
			err := c.Validate()
			switch {
			case tt.wantErr == "" && err != nil:
				t.Fatalf("Validate: %v, want nil", err)
			case tt.wantErr != "" && err == nil:
				t.Fatalf("Validate: nil, want an error about %q", tt.wantErr)
			case err != nil && !strings.Contains(err.Error(), tt.wantErr):
				t.Errorf("Validate: %v, want it to mention %q", err, tt.wantErr)
			}
		})
	}
}

// With the changelog and the dead letters on one topic, a dead letter (keyed
// by visitor_id, like a snapshot) becomes the latest value of that
// visitor's key: restore finds it corrupt and the snapshot is lost, and
// compaction later deletes the snapshot for good.
func TestConfigValidateChangelogIsNotTheDeadLetterTopic(t *testing.T) {
	c := validConfig()
	c.DeadLetterTopic = c.Changelog()
	if err := c.Validate(); err == nil {
		t.Fatalf("Validate accepted changelog and dead-letter topic %q", c.DeadLetterTopic)
	}
}
