package consumer

import (
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/sessiond/sessiond/reducer"
)

// discardSink accepts every update.
type discardSink struct{}

func (discardSink) Write(context.Context, []*reducer.Update) error { return nil }

// validConfig is the smallest config that passes Validate.
func validConfig() Config {
	return Config{Brokers: []string{"localhost:9092"}, Sink: discardSink{}}.WithDefaults()
}

func TestConfigWithDefaults(t *testing.T) {
	c := Config{}.WithDefaults()
	strs := []struct{ field, got, want string }{
		{"Group", c.Group, "sessiond"},
		{"CartTopic", c.CartTopic, "cart-changed"},
		{"CustomerTopic", c.CustomerTopic, "customer-changed"},
		{"ActionTopic", c.ActionTopic, "actions"},
		{"DeadLetterTopic", c.DeadLetterTopic, "sessiond-dlq"},
		{"ChangelogTopic", c.ChangelogTopic, "sessiond-snapshots"},
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
	}
	for _, d := range durations {
		if d.got != d.want {
			t.Errorf("%s = %v, want %v", d.field, d.got, d.want)
		}
	}
	if c.MaxBatch != DefaultMaxBatch || DefaultMaxBatch != 2000 {
		t.Errorf("MaxBatch = %d, want %d (2000)", c.MaxBatch, DefaultMaxBatch)
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
	if len(c.Brokers) != 0 || c.Sink != nil || c.Decoder != nil || c.Snapshots != nil {
		t.Error("required fields got defaults; they must be left to the caller")
	}
}

func TestConfigChangelogFollowsGroup(t *testing.T) {
	c := Config{Group: "eu"}.WithDefaults()
	if c.ChangelogTopic != "eu-snapshots" {
		t.Errorf("ChangelogTopic = %q, want %q", c.ChangelogTopic, "eu-snapshots")
	}
}

func TestConfigWithDefaultsKeepsSetFields(t *testing.T) {
	status, metrics, logger := NewStatus(), NewMetrics(), slog.New(slog.DiscardHandler)
	set := Config{
		Group: "g", CartTopic: "c", CustomerTopic: "u", ActionTopic: "a",
		DeadLetterTopic: "d", ChangelogTopic: "l",
		SessionTTL: time.Hour, MaxIdle: time.Second, MaxBatch: 7, MaxBatchAge: time.Minute,
		SessionTimeout: 30 * time.Second, Logger: logger, Metrics: metrics, Status: status,
	}
	c := set.WithDefaults()
	if c.Group != "g" || c.CartTopic != "c" || c.CustomerTopic != "u" || c.ActionTopic != "a" ||
		c.DeadLetterTopic != "d" || c.ChangelogTopic != "l" {
		t.Errorf("names overwritten: %+v", c)
	}
	if c.SessionTTL != time.Hour || c.MaxIdle != time.Second || c.MaxBatch != 7 ||
		c.MaxBatchAge != time.Minute || c.SessionTimeout != 30*time.Second {
		t.Errorf("limits overwritten: %+v", c)
	}
	if c.Logger != logger || c.Metrics != metrics || c.Status != status {
		t.Error("Logger, Metrics or Status replaced")
	}
}

func TestConfigValidate(t *testing.T) {
	tests := []struct {
		name    string
		edit    func(*Config)
		wantErr string // "" for valid
	}{
		{"defaults with brokers and sink", func(*Config) {}, ""},
		{"no brokers", func(c *Config) { c.Brokers = nil }, "broker"},
		{"no sink", func(c *Config) { c.Sink = nil }, "sink"},
		{"cart and customer the same", func(c *Config) { c.CustomerTopic = c.CartTopic }, "twice"},
		{"cart and action the same", func(c *Config) { c.ActionTopic = c.CartTopic }, "twice"},
		{"customer and action the same", func(c *Config) { c.ActionTopic = c.CustomerTopic }, "twice"},
		{"changelog is an input", func(c *Config) { c.ChangelogTopic = c.ActionTopic }, "changelog"},
		{"dead letters go to an input", func(c *Config) { c.DeadLetterTopic = c.CartTopic }, "dead-letter"},
		{"negative max idle", func(c *Config) { c.MaxIdle = -time.Millisecond }, "negative"},
		{"negative TTL", func(c *Config) { c.SessionTTL = -time.Hour }, "negative"},
		{"negative batch age", func(c *Config) { c.MaxBatchAge = -time.Second }, "negative"},
		{"batch below one", func(c *Config) { c.MaxBatch = -1 }, "max batch"},
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
	c.DeadLetterTopic = c.ChangelogTopic
	if err := c.Validate(); err == nil {
		t.Fatalf("Validate accepted changelog and dead-letter topic %q", c.ChangelogTopic)
	}
}
