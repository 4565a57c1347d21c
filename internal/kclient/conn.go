package kclient

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/segmentio/kafka-go"
	"github.com/segmentio/kafka-go/sasl"
	"github.com/segmentio/kafka-go/sasl/plain"
	"github.com/segmentio/kafka-go/sasl/scram"
)

// ConnConfig is how every Kafka connection of the program is made: the
// bootstrap brokers, TLS and SASL. It is turned into a Conn once, and every
// kafka-go Dialer, Transport, Client, Reader and Writer comes from that
// Conn, so that no path can forget the security settings.
type ConnConfig struct {
	// Brokers are the bootstrap brokers. Default: localhost:9092.
	Brokers []string
	// TLS encrypts and authenticates the connections. Default: off.
	TLS TLSConfig
	// SASL authenticates the client. Default: none.
	SASL SASLConfig
	// DialTimeout bounds connecting, the TLS handshake and SASL
	// authentication. Default: 10s.
	DialTimeout time.Duration
}

// TLSConfig configures TLS to the brokers.
type TLSConfig struct {
	// Enabled turns TLS on. With no CAFile the system's roots verify the
	// brokers' certificates.
	Enabled bool
	// CAFile is a PEM bundle of the CAs that sign the brokers' certificates.
	CAFile string
	// CertFile and KeyFile are the client certificate and key (PEM) for
	// mutual TLS; both or neither.
	CertFile, KeyFile string
	// ServerName overrides the name checked against the brokers'
	// certificates (default: the host of the address dialled).
	ServerName string
	// InsecureSkipVerify turns certificate verification off. Never the
	// default; for debugging only, and logged loudly.
	InsecureSkipVerify bool
}

// SASL mechanisms.
const (
	SASLPlain       = "plain"
	SASLScramSHA256 = "scram-sha-256"
	SASLScramSHA512 = "scram-sha-512"
)

// SASLConfig configures SASL authentication.
type SASLConfig struct {
	// Mechanism is "", "plain", "scram-sha-256" or "scram-sha-512".
	Mechanism string
	// User is the SASL user name.
	User string
	// Password is the user's password. It is never a flag: the commands
	// read it from SESSIOND_KAFKA_SASL_PASSWORD or a file.
	Password string
}

// DefaultDialTimeout is ConnConfig.DialTimeout's default.
const DefaultDialTimeout = 10 * time.Second

// DefaultConnConfig returns the defaults: localhost:9092, plaintext.
func DefaultConnConfig() ConnConfig {
	return ConnConfig{Brokers: []string{"localhost:9092"}, DialTimeout: DefaultDialTimeout}
}

// Validate reports the first problem with c, as a *config.FieldError naming the
// setting. It changes nothing and reads no file.
func (c *ConnConfig) Validate() error {
	if len(c.Brokers) == 0 {
		return fieldErr("Brokers", errors.New("no brokers"))
	}
	if c.DialTimeout <= 0 {
		return fieldErr("DialTimeout", fmt.Errorf("dial timeout %v must be positive", c.DialTimeout))
	}
	if err := c.TLS.validate(); err != nil {
		return err
	}
	return c.SASL.validate()
}

// validate reports the first problem with t, as a *config.FieldError.
func (t *TLSConfig) validate() error {
	if !t.Enabled && (t.CAFile != "" || t.CertFile != "" || t.KeyFile != "" || t.ServerName != "" || t.InsecureSkipVerify) {
		return fieldErr("TLS.Enabled", errors.New("TLS settings are given but TLS is off"))
	}
	if (t.CertFile == "") != (t.KeyFile == "") {
		field := "TLS.KeyFile"
		if t.CertFile == "" {
			field = "TLS.CertFile"
		}
		return fieldErr(field, errors.New("a TLS client certificate needs both the certificate and the key file"))
	}
	return nil
}

// validate reports the first problem with s, as a *config.FieldError.
func (s *SASLConfig) validate() error {
	switch s.Mechanism {
	case "":
		if s.User != "" || s.Password != "" {
			return fieldErr("SASL.Mechanism", errors.New("a SASL user or password is given but no SASL mechanism"))
		}
	case SASLPlain, SASLScramSHA256, SASLScramSHA512:
		if s.User == "" {
			return fieldErr("SASL.User", fmt.Errorf("SASL %s needs a user and a password", s.Mechanism))
		}
		if s.Password == "" {
			return fieldErr("SASL.Password", fmt.Errorf("SASL %s needs a user and a password", s.Mechanism))
		}
	default:
		return fieldErr("SASL.Mechanism", fmt.Errorf("SASL mechanism %q is not one of plain, scram-sha-256, scram-sha-512", s.Mechanism))
	}
	return nil
}

// Conn is a ConnConfig made ready: TLS config and SASL mechanism built
// once, shared by every connection.
type Conn struct {
	brokers     []string
	tls         *tls.Config
	sasl        sasl.Mechanism
	dialTimeout time.Duration
	transport   *kafka.Transport
	life        *lifetime // of the Producer's and FetchBatcher's goroutines

	producerOnce sync.Once
	producer     *Producer
	fetchOnce    sync.Once
	fetches      *FetchBatcher

	lastRefresh atomic.Int64 // UnixNano of the last RefreshMetadata that ran
	refreshes   atomic.Int64
}

// NewConn validates cfg, reads its certificate files and returns the Conn.
func NewConn(cfg ConnConfig) (*Conn, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	c := &Conn{brokers: append([]string(nil), cfg.Brokers...), dialTimeout: cfg.DialTimeout, life: newLifetime()}
	var err error
	if cfg.TLS.Enabled {
		if c.tls, err = tlsConfig(cfg.TLS); err != nil {
			return nil, err
		}
	}
	if c.sasl, err = saslMechanism(cfg.SASL); err != nil {
		return nil, err
	}
	dialer := &net.Dialer{Timeout: c.dialTimeout}
	c.transport = &kafka.Transport{TLS: c.tls, SASL: c.sasl, DialTimeout: c.dialTimeout, ClientID: clientID,
		Dial: newSuspects().dial(dialer.DialContext)}
	return c, nil
}

// clientID is how sessiond introduces itself to the brokers.
const clientID = "sessiond"

// PlainConn is a Conn to brokers without TLS or SASL (tests, the demo's
// embedded broker).
func PlainConn(brokers []string) *Conn {
	c, err := NewConn(ConnConfig{Brokers: brokers, DialTimeout: DefaultDialTimeout})
	if err != nil {
		panic(fmt.Sprintf("kclient: plain connection to %v: %v", brokers, err))
	}
	return c
}

// CAPool reads a PEM bundle of CA certificates (the Kafka connection's
// TLS.CAFile, and the schema registry's).
func CAPool(file string) (*x509.CertPool, error) {
	pem, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("CA file: %w", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("CA file %s holds no PEM certificate", file)
	}
	return pool, nil
}

func tlsConfig(t TLSConfig) (*tls.Config, error) {
	cfg := &tls.Config{MinVersion: tls.VersionTLS12, ServerName: t.ServerName, InsecureSkipVerify: t.InsecureSkipVerify}
	if t.CAFile != "" {
		pool, err := CAPool(t.CAFile)
		if err != nil {
			return nil, fmt.Errorf("TLS %w", err)
		}
		cfg.RootCAs = pool
	}
	if t.CertFile != "" {
		cert, err := tls.LoadX509KeyPair(t.CertFile, t.KeyFile)
		if err != nil {
			return nil, fmt.Errorf("load TLS client certificate: %w", err)
		}
		cfg.Certificates = []tls.Certificate{cert}
	}
	return cfg, nil
}

func saslMechanism(s SASLConfig) (sasl.Mechanism, error) {
	switch s.Mechanism {
	case SASLPlain:
		return plain.Mechanism{Username: s.User, Password: s.Password}, nil
	case SASLScramSHA256, SASLScramSHA512:
		algo := scram.SHA256
		if s.Mechanism == SASLScramSHA512 {
			algo = scram.SHA512
		}
		m, err := scram.Mechanism(algo, s.User, s.Password)
		if err != nil { // its text quotes the password: never pass it on
			return nil, fmt.Errorf("SASL %s: the user name or password holds characters SASLprep refuses", s.Mechanism)
		}
		return m, nil
	}
	return nil, nil
}

// Brokers returns the bootstrap brokers.
func (c *Conn) Brokers() []string { return c.brokers }

// String describes the connection for logs: brokers and security, never a
// secret.
func (c *Conn) String() string {
	sec := "plaintext"
	if c.tls != nil {
		sec = "tls"
		if c.tls.InsecureSkipVerify {
			sec = "tls (certificate verification OFF)"
		}
	}
	if c.sasl != nil {
		sec += " + sasl " + strings.ToLower(c.sasl.Name())
	}
	return strings.Join(c.brokers, ",") + " (" + sec + ")"
}

// Transport is the one kafka-go transport of the program: Clients and
// Writers share it.
func (c *Conn) Transport() *kafka.Transport { return c.transport }

// Dialer returns a dialer for kafka-go Readers and consumer groups.
func (c *Conn) Dialer() *kafka.Dialer {
	return &kafka.Dialer{Timeout: c.dialTimeout, DualStack: true, TLS: c.tls, SASLMechanism: c.sasl, ClientID: clientID}
}

// Client returns a client for admin and offset requests.
func (c *Conn) Client() *kafka.Client {
	return &kafka.Client{Addr: kafka.TCP(c.brokers...), Timeout: 30 * time.Second, Transport: c.transport}
}

// ReaderConfig returns a kafka-go reader configuration for one
// topic-partition (no group) over this connection; the caller sets the
// fetch sizes.
func (c *Conn) ReaderConfig(topic string, partition int) kafka.ReaderConfig {
	return kafka.ReaderConfig{Brokers: c.brokers, Dialer: c.Dialer(), Topic: topic, Partition: partition}
}

// Close cancels every produce and fetch round in flight, waits for all
// the goroutines the Conn's Producer and FetchBatcher started, and closes
// the transport's idle connections. Writes and fetches through the
// Producer or FetchBatcher then fail with ErrClosed; the Dialer, Client
// and Writers made from the Conn are their owners' to close. Close is
// safe to call more than once and always returns nil.
func (c *Conn) Close() error {
	c.life.close()
	c.transport.CloseIdleConnections()
	return nil
}
