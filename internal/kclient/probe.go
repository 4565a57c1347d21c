package kclient

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"

	"github.com/segmentio/kafka-go"
)

// ErrNotKafka reports an address that answered, but not in the Kafka
// protocol (an HTTP port, say).
var ErrNotKafka = errors.New("does not speak the Kafka protocol")

// ProbeError names the broker a probe failed on and why.
type ProbeError struct {
	Broker string
	Err    error
}

func (e *ProbeError) Error() string { return "broker " + e.Broker + ": " + e.Err.Error() }
func (e *ProbeError) Unwrap() error { return e.Err }

// maxProbeResponse bounds the ApiVersions answer a probe accepts: a larger
// size prefix means the other side is not a Kafka broker (an HTTP server's
// "HTTP" reads as 1.2 GB), and must not be allocated.
const maxProbeResponse = 1 << 20

// Probe checks, within the dial timeout per broker, that the bootstrap
// brokers answer in the Kafka protocol with this Conn's TLS and SASL
// settings. It fails fast with a message that names the broker and the
// cause (refused connection, untrusted certificate, TLS against a
// plaintext listener or the reverse, an HTTP port or any other port that
// answers text, wrong credentials)
// instead of letting kafka-go retry. It succeeds if one broker answers
// fully; an authentication or TLS failure on any broker fails at once.
func (c *Conn) Probe(ctx context.Context) error {
	var errs []error
	for _, b := range c.brokers {
		err := c.probe(ctx, b)
		if err == nil {
			return nil
		}
		perr := &ProbeError{Broker: b, Err: err}
		if !errors.Is(err, errUnreachable) {
			return perr // a broker answered wrongly: the settings are wrong
		}
		errs = append(errs, perr)
	}
	return errors.Join(errs...)
}

var errUnreachable = errors.New("unreachable")

func (c *Conn) probe(ctx context.Context, addr string) error {
	ctx, cancel := context.WithTimeout(ctx, c.dialTimeout)
	defer cancel()
	var d net.Dialer
	raw, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return fmt.Errorf("%w: %v", errUnreachable, err)
	}
	defer raw.Close()
	if dl, ok := ctx.Deadline(); ok {
		raw.SetDeadline(dl)
	}
	conn := raw
	if c.tls != nil {
		tc := tls.Client(raw, c.tlsFor(addr))
		if err := tc.HandshakeContext(ctx); err != nil {
			return describeTLSError(err)
		}
		conn = tc
	}
	if err := apiVersions(conn, c.tls != nil); err != nil {
		return err
	}
	return c.probeAuth(ctx, addr)
}

// tlsFor returns the TLS config with the server name of addr when none is
// configured.
func (c *Conn) tlsFor(addr string) *tls.Config {
	cfg := c.tls.Clone()
	if cfg.ServerName == "" {
		if host, _, err := net.SplitHostPort(addr); err == nil {
			cfg.ServerName = host
		}
	}
	return cfg
}

func describeTLSError(err error) error {
	var unknown x509.UnknownAuthorityError
	var hostname x509.HostnameError
	var invalid x509.CertificateInvalidError
	var rec tls.RecordHeaderError
	switch {
	case errors.As(err, &unknown):
		return fieldErr("TLS.CAFile", fmt.Errorf("TLS: the broker's certificate is not signed by a trusted CA: %w", err))
	case errors.As(err, &hostname):
		return fieldErr("TLS.ServerName", fmt.Errorf("TLS: the broker's certificate is not for this address: %w", err))
	case errors.As(err, &invalid):
		return fmt.Errorf("TLS: the broker's certificate is invalid: %w", err)
	case errors.As(err, &rec):
		return fieldErr("TLS.Enabled", fmt.Errorf("TLS: the broker answered without TLS: is this a PLAINTEXT listener?: %w", err))
	case isTimeout(err):
		return fieldErr("TLS.Enabled", fmt.Errorf("TLS: no handshake answer: is this a PLAINTEXT listener?: %w", err))
	case errors.Is(err, io.EOF) || isReset(err):
		return fieldErr("TLS.Enabled", fmt.Errorf("TLS: the broker closed the connection during the handshake: a PLAINTEXT listener, or a client certificate required (TLS.CertFile)?: %w", err))
	}
	if strings.Contains(err.Error(), "certificate required") || strings.Contains(err.Error(), "bad certificate") {
		return fieldErr("TLS.CertFile", fmt.Errorf("TLS: the broker requires a client certificate it trusts: %w", err))
	}
	return fmt.Errorf("TLS handshake: %w", err)
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout() || errors.Is(err, context.DeadlineExceeded)
}

func isReset(err error) bool {
	return err != nil && (strings.Contains(err.Error(), "connection reset") || strings.Contains(err.Error(), "broken pipe"))
}

// apiVersions sends an ApiVersions v0 request and checks that the answer
// is a Kafka response, without trusting its size prefix.
func apiVersions(conn net.Conn, tlsOn bool) error {
	// The correlation id holds "\r\n\r\n": an HTTP server reads the request
	// up to there as a (bad) request line and answers at once, instead of
	// waiting for a line end that a Kafka request never sends. Brokers echo
	// it back like any other id.
	const correlation = 0x0d0a0d0a
	req := make([]byte, 0, 32)
	req = binary.BigEndian.AppendUint32(req, 0)  // size, set below
	req = binary.BigEndian.AppendUint16(req, 18) // ApiVersions
	req = binary.BigEndian.AppendUint16(req, 0)  // v0
	req = binary.BigEndian.AppendUint32(req, correlation)
	req = binary.BigEndian.AppendUint16(req, uint16(len(clientID)))
	req = append(req, clientID...)
	binary.BigEndian.PutUint32(req, uint32(len(req)-4))
	if _, err := conn.Write(req); err != nil {
		return fmt.Errorf("send a Kafka request: %w", err)
	}
	var head [8]byte
	if n, err := io.ReadFull(conn, head[:]); err != nil {
		if n > 0 && (errors.Is(err, io.ErrUnexpectedEOF) || isTimeout(err)) && isText(head[:n]) {
			return textAnswer(head[:n]) // a short banner, then a close or silence
		}
		if isTimeout(err) {
			return fieldErr("TLS.Enabled", fmt.Errorf("%w: no answer to a Kafka request (an HTTP or other port? a TLS listener with TLS off?): %v", ErrNotKafka, err))
		}
		if !tlsOn && (errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || isReset(err)) {
			return fieldErr("TLS.Enabled", fmt.Errorf("the broker closed the connection on a plaintext request: is it a TLS listener?: %w", err))
		}
		if tlsOn && strings.Contains(err.Error(), "tls:") { // TLS 1.3 reports a refused client certificate here
			return describeTLSError(err)
		}
		return fmt.Errorf("read a Kafka response: %w", err)
	}
	if string(head[:4]) == "HTTP" {
		return fmt.Errorf("%w: it answers HTTP (is this a web port?)", ErrNotKafka)
	}
	if isText(head[:]) {
		return textAnswer(head[:])
	}
	size := binary.BigEndian.Uint32(head[:4])
	if size < 4 || size > maxProbeResponse || binary.BigEndian.Uint32(head[4:]) != correlation {
		return fmt.Errorf("%w: unexpected answer %q", ErrNotKafka, head[:])
	}
	return nil
}

// probeAuth makes one authenticated request: kafka-go's dialer runs the
// SASL handshake, and a metadata request shows whether the listener wants
// SASL that is not configured.
func (c *Conn) probeAuth(ctx context.Context, addr string) error {
	conn, err := c.Dialer().DialContext(ctx, "tcp", addr)
	if err != nil {
		if errors.Is(err, kafka.SASLAuthenticationFailed) || errors.Is(err, kafka.UnsupportedSASLMechanism) ||
			errors.Is(err, kafka.IllegalSASLState) {
			return fieldErr("SASL.Mechanism", fmt.Errorf("SASL authentication failed (check the mechanism, the user and the password): %w", err))
		}
		return fmt.Errorf("connect: %w", err)
	}
	defer conn.Close()
	if dl, ok := ctx.Deadline(); ok {
		conn.SetDeadline(dl)
	}
	if _, err := conn.Brokers(); err != nil {
		if c.sasl == nil && (errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || isReset(err)) {
			return fieldErr("SASL.Mechanism", fmt.Errorf("the broker closed the connection after the first request: does the listener require SASL?: %w", err))
		}
		return fmt.Errorf("metadata request: %w", err)
	}
	return nil
}

// isText reports whether b is printable ASCII (tabs and line ends
// included): an HTML page, an HTTP/0.9 body, a text banner. A Kafka
// response never starts so: its size prefix would be at least 0x20202020,
// far above maxProbeResponse.
func isText(b []byte) bool {
	for _, c := range b {
		if (c < 0x20 || c > 0x7e) && c != '\t' && c != '\r' && c != '\n' {
			return false
		}
	}
	return len(b) > 0
}

// textAnswer is the error for a listener that answered a Kafka request
// with text.
func textAnswer(head []byte) error {
	return fmt.Errorf("%w: it answers text (%q): an HTTP or other non-Kafka port?", ErrNotKafka, head)
}
