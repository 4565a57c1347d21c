package service

import (
	"errors"
	"fmt"

	"github.com/sessiond/sessiond/consumer"
	"github.com/sessiond/sessiond/emitter"
)

// Config is the whole service's configuration. The commands bind their
// flags straight into its fields, starting from DefaultConfig.
type Config struct {
	// Consumer configures the pipeline. Its Brokers are used by every
	// Kafka component. Its Decoder, Snapshots and Sinks are set by New.
	Consumer consumer.Config
	// Kafka configures the Kafka sink; an empty Topic turns it off. Its
	// Brokers and Encoder are set by New.
	Kafka emitter.KafkaConfig
	// WireFormat is the input records' framing: "raw" (bare Avro).
	// Default: "raw".
	WireFormat string
	// HTTPAddr serves /livez, /readyz and /metrics; empty turns it off.
	// Default: ":8080".
	HTTPAddr string
}

// Defaults of Config.
const (
	DefaultWireFormat = "raw"
	DefaultHTTPAddr   = ":8080"
)

// DefaultConfig returns the defaults, the one place they are set.
func DefaultConfig() Config {
	return Config{
		Consumer:   consumer.DefaultConfig(),
		Kafka:      emitter.DefaultKafkaConfig(),
		WireFormat: DefaultWireFormat,
		HTTPAddr:   DefaultHTTPAddr,
	}
}

// kafkaSinkOn reports whether the Kafka sink is configured.
func (c *Config) kafkaSinkOn() bool { return c.Kafka.Topic != "" }

// Validate reports the first problem with the settings a user gives. The
// components New adds are checked when New builds them.
func (c *Config) Validate() error {
	if c.WireFormat != DefaultWireFormat {
		return fmt.Errorf("wire format %q is not supported (only raw)", c.WireFormat)
	}
	if !c.kafkaSinkOn() {
		return errors.New("no sink is configured: the output topic is empty and there is no other sink")
	}
	topics := c.Consumer.InputTopics()
	for _, t := range append(topics[:], c.Consumer.DeadLetterTopic, c.Consumer.Changelog()) {
		if t == c.Kafka.Topic {
			return fmt.Errorf("output topic %q is also an input, dead-letter or changelog topic", t)
		}
	}
	return nil
}
