package service

import (
	"errors"
	"fmt"

	"github.com/sessiond/sessiond/consumer"
	"github.com/sessiond/sessiond/emitter"
	"github.com/sessiond/sessiond/internal/kclient"
	"github.com/sessiond/sessiond/schemas/confluent"
)

// Config is the whole service's configuration. The commands bind their
// flags straight into its fields, starting from DefaultConfig.
type Config struct {
	// Conn is how every Kafka connection is made (brokers, TLS, SASL);
	// New builds it once and hands it to every component.
	Conn kclient.ConnConfig
	// Consumer configures the pipeline. Its Conn, Decoder, Snapshots and
	// Sinks are set by New.
	Consumer consumer.Config
	// Kafka configures the Kafka sink; an empty Topic turns it off. Its
	// Conn and Encoder are set by New.
	Kafka emitter.KafkaConfig
	// Nosto configures the Nosto GraphQL sink; an empty Endpoint turns it
	// off. Its DeadLetter, Logger and Metrics are set by New.
	Nosto emitter.NostoConfig
	// HMACKey, when set, replaces customer_reference by its HMAC-SHA256
	// (hex) in what every sink sends. Default: none.
	HMACKey []byte
	// WireFormat is the records' framing: "raw" (bare Avro) or
	// "confluent" (magic byte, schema id, Avro; schemas in Registry).
	// Default: "raw".
	WireFormat string
	// Registry is the Schema Registry, used with WireFormat "confluent".
	Registry confluent.Config
	// HTTPAddr serves /livez, /readyz and /metrics; empty turns it off.
	// Default: ":8080".
	HTTPAddr string
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

// DefaultConfig returns the defaults, the one place they are set.
func DefaultConfig() Config {
	return Config{
		Conn:       kclient.DefaultConnConfig(),
		Consumer:   consumer.DefaultConfig(),
		Kafka:      emitter.DefaultKafkaConfig(),
		Nosto:      emitter.DefaultNostoConfig(),
		WireFormat: DefaultWireFormat,
		Registry:   confluent.DefaultConfig(),
		HTTPAddr:   DefaultHTTPAddr,
	}
}

// kafkaSinkOn reports whether the Kafka sink is configured.
func (c *Config) kafkaSinkOn() bool { return c.Kafka.Topic != "" }

// nostoSinkOn reports whether the Nosto sink is configured.
func (c *Config) nostoSinkOn() bool { return c.Nosto.Endpoint != "" }

// Validate reports the first problem with the settings a user gives. The
// components New adds are checked when New builds them.
func (c *Config) Validate() error {
	if err := c.Conn.Validate(); err != nil {
		return fmt.Errorf("kafka connection: %w", err)
	}
	switch c.WireFormat {
	case WireRaw:
	case WireConfluent:
		if err := c.Registry.Validate(); err != nil {
			return fmt.Errorf("schema registry: %w", err)
		}
	default:
		return fmt.Errorf("wire format %q is not raw or confluent", c.WireFormat)
	}
	if !c.kafkaSinkOn() && !c.nostoSinkOn() {
		return errors.New("no sink is configured: the output topic is empty and there is no Nosto endpoint")
	}
	topics := c.Consumer.InputTopics()
	for _, t := range append(topics[:], c.Consumer.DeadLetterTopic, c.Consumer.Changelog()) {
		if c.kafkaSinkOn() && t == c.Kafka.Topic {
			return fmt.Errorf("output topic %q is also an input, dead-letter or changelog topic", t)
		}
	}
	return nil
}
