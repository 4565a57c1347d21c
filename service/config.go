package service

import (
	"fmt"
	"io"

	"github.com/sessiond/sessiond/consumer"
	"github.com/sessiond/sessiond/emitter"
	"github.com/sessiond/sessiond/internal/config"
	"github.com/sessiond/sessiond/internal/kclient"
	"github.com/sessiond/sessiond/schemas/confluent"
)

// Common is what every pipeline declares alike, live or replayed: how to
// reach Kafka, how records are framed, where updates go and the secret
// that hashes customer references. The assembly (assembly.go) builds the
// connection, codecs, registry, sinks and dead-letter writer from it, the
// same way for `run`, `demo`, `replay` and sessiond-load.
type Common struct {
	// Conn is how every Kafka connection is made (brokers, TLS, SASL); it
	// is built once and handed to every component.
	Conn kclient.ConnConfig
	// WireFormat is the records' framing: "raw" (bare Avro) or
	// "confluent" (magic byte, schema id, Avro; schemas in Registry).
	// Default: "raw".
	WireFormat string
	// Registry is the Schema Registry, used with WireFormat "confluent".
	Registry confluent.Config
	// Kafka configures the Kafka sink; an empty Topic turns it off. Its
	// Conn and Encoder are set by the assembly.
	Kafka emitter.KafkaConfig
	// Nosto configures the Nosto GraphQL sink; an empty Endpoint turns it
	// off. Its DeadLetter, Logger and Metrics are set by the assembly.
	Nosto emitter.NostoConfig
	// HMACKey, when set, replaces customer_reference by its HMAC-SHA256
	// (hex) in what every sink sends. Default: none.
	HMACKey []byte
}

// Config is the live service's configuration: Common, the consumer group's
// pipeline and the HTTP endpoints. The commands bind their flags straight
// into its fields, starting from DefaultConfig.
type Config struct {
	Common
	// Consumer configures the pipeline. Its Conn, Decoder, Snapshots,
	// Sinks and DeadLetters are set by New.
	Consumer consumer.Config
	// HTTPAddr serves /livez, /readyz and /metrics; empty turns it off.
	// Default: ":8080".
	HTTPAddr string
}

// ReplayConfig is a replay's configuration: Common, and what a replay
// declares instead of a group and a changelog (a window, offsets, and at
// most one of the file and dry-run outputs besides Common's sinks).
type ReplayConfig struct {
	Common
	// Replay configures the pass. Its Conn, Decoder and Sinks are set by
	// Replay.
	Replay consumer.ReplayConfig
	// DeadLetterTopic receives the updates Nosto refuses. Default:
	// "sessiond-dlq".
	DeadLetterTopic string
	// File, when set, receives the updates as JSON lines in the reduce
	// format. Default: nil (off).
	File io.Writer
	// DryRun counts the updates and writes nothing. Default: false.
	DryRun bool
}

// Wire formats.
const (
	WireRaw       = "raw"
	WireConfluent = "confluent"
)

// Defaults of Config.
const (
	DefaultWireFormat = WireRaw
	DefaultHTTPAddr   = ":8080"
)

// defaultCommon returns Common's defaults.
func defaultCommon() Common {
	return Common{
		Conn:       kclient.DefaultConnConfig(),
		WireFormat: DefaultWireFormat,
		Registry:   confluent.DefaultConfig(),
		Kafka:      emitter.DefaultKafkaConfig(),
		Nosto:      emitter.DefaultNostoConfig(),
	}
}

// DefaultConfig returns the defaults, the one place they are set.
func DefaultConfig() Config {
	return Config{Common: defaultCommon(), Consumer: consumer.DefaultConfig(), HTTPAddr: DefaultHTTPAddr}
}

// DefaultReplayConfig returns a replay's defaults: no sink is on.
func DefaultReplayConfig() ReplayConfig {
	c := ReplayConfig{Common: defaultCommon(), Replay: consumer.DefaultReplayConfig(),
		DeadLetterTopic: consumer.DefaultDeadLetterTopic}
	c.Kafka.Topic = ""
	return c
}

// kafkaSinkOn reports whether the Kafka sink is configured.
func (c *Common) kafkaSinkOn() bool { return c.Kafka.Topic != "" }

// nostoSinkOn reports whether the Nosto sink is configured.
func (c *Common) nostoSinkOn() bool { return c.Nosto.Endpoint != "" }

// validate reports the first problem with the shared settings.
func (c *Common) validate() error {
	if err := c.Conn.Validate(); err != nil {
		return fmt.Errorf("kafka connection: %w", config.Within("Conn", err))
	}
	switch c.WireFormat {
	case WireRaw:
	case WireConfluent:
		if err := c.Registry.Validate(); err != nil {
			return fmt.Errorf("schema registry: %w", config.Within("Registry", err))
		}
	default:
		return config.Errorf("WireFormat", "wire format %q is not raw or confluent", c.WireFormat)
	}
	return nil
}

// Validate reports the first problem with the settings a user gives. The
// components New adds are checked when New builds them.
func (c *Config) Validate() error {
	if err := c.Common.validate(); err != nil {
		return err
	}
	if !c.kafkaSinkOn() && !c.nostoSinkOn() {
		return config.Errorf("Kafka.Topic", "no sink is configured: the output topic is empty and there is no Nosto endpoint")
	}
	topics := c.Consumer.InputTopics()
	for _, t := range append(topics[:], c.Consumer.DeadLetterTopic, c.Consumer.Changelog()) {
		if c.kafkaSinkOn() && t == c.Kafka.Topic {
			return config.Errorf("Kafka.Topic", "output topic %q is also an input, dead-letter or changelog topic", t)
		}
	}
	return nil
}

// Validate reports the first problem with a replay's settings: exactly
// one output, and an output topic that is not an input.
func (c *ReplayConfig) Validate() error {
	if err := c.Common.validate(); err != nil {
		return err
	}
	if err := c.Replay.ValidateSettings(); err != nil {
		return config.Within("Replay", err)
	}
	outputs := 0
	for _, on := range []bool{c.kafkaSinkOn(), c.nostoSinkOn(), c.File != nil, c.DryRun} {
		if on {
			outputs++
		}
	}
	if outputs != 1 {
		return config.Errorf("Outputs", "exactly one output is required: an output topic, a file, Nosto or a dry run (%d given)", outputs)
	}
	topics := c.Replay.InputTopics()
	for _, t := range topics {
		if c.kafkaSinkOn() && t == c.Kafka.Topic {
			return config.Errorf("Kafka.Topic", "output topic %q is also an input", t)
		}
	}
	if c.nostoSinkOn() && c.DeadLetterTopic == "" {
		return config.Errorf("DeadLetterTopic", "the dead-letter topic for Nosto's refusals is empty")
	}
	return nil
}
