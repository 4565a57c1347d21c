package kclient

import (
	"context"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
)

// The probe's failures are fast and name the broker and the cause. These
// cases need no Kafka with TLS: the TLS and HTTP servers are Go's; the
// cases against a SASL_SSL Apache Kafka are in cmd/sessiond.

func probe(t *testing.T, c ConnConfig) error {
	t.Helper()
	conn, err := NewConn(c)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	begin := time.Now()
	err = conn.Probe(ctx)
	t.Logf("probe: %v after %v", err, time.Since(begin).Round(time.Millisecond))
	return err
}

func kfakeBroker(t *testing.T) string {
	t.Helper()
	c, err := kfake.NewCluster(kfake.NumBrokers(1))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return c.ListenAddrs()[0]
}

func TestProbeKafka(t *testing.T) {
	c := DefaultConnConfig()
	c.Brokers = []string{kfakeBroker(t)}
	if err := probe(t, c); err != nil {
		t.Fatalf("probe of a Kafka broker: %v", err)
	}
}

func TestProbeHTTPServer(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	defer srv.Close()
	addr := strings.TrimPrefix(srv.URL, "http://")
	c := DefaultConnConfig()
	c.Brokers = []string{addr}
	err := probe(t, c)
	var perr *ProbeError
	if !errors.Is(err, ErrNotKafka) || !errors.As(err, &perr) || perr.Broker != addr || !strings.Contains(err.Error(), "HTTP") {
		t.Fatalf("probe of an HTTP server: %v, want ErrNotKafka naming %s and HTTP", err, addr)
	}
}

func TestProbeNothingListening(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	c := DefaultConnConfig()
	c.Brokers = []string{addr}
	if err := probe(t, c); err == nil || !strings.Contains(err.Error(), addr) {
		t.Fatalf("probe of a closed port: %v, want an error naming %s", err, addr)
	}
}

// TLS against a plaintext listener (kfake) is named as such.
func TestProbeTLSAgainstPlaintext(t *testing.T) {
	c := DefaultConnConfig()
	c.Brokers = []string{kfakeBroker(t)}
	c.TLS.Enabled = true
	c.DialTimeout = 2 * time.Second // kfake waits for the rest of what it takes for a frame
	if err := probe(t, c); err == nil || !strings.Contains(err.Error(), "PLAINTEXT listener") {
		t.Fatalf("TLS probe of a plaintext broker: %v, want it to say so", err)
	}
}

// A plaintext client against a TLS listener, and a TLS client that does
// not trust the server's CA.
func TestProbeTLSListener(t *testing.T) {
	srv := httptest.NewTLSServer(http.NotFoundHandler())
	defer srv.Close()
	addr := strings.TrimPrefix(srv.URL, "https://")

	plain := DefaultConnConfig()
	plain.Brokers = []string{addr}
	if err := probe(t, plain); err == nil || !strings.Contains(err.Error(), "TLS listener") && !strings.Contains(err.Error(), "HTTP") {
		t.Errorf("plaintext probe of a TLS server: %v, want it to point at TLS", err)
	}

	untrusted := DefaultConnConfig()
	untrusted.Brokers = []string{addr}
	untrusted.TLS.Enabled = true
	if err := probe(t, untrusted); err == nil || !strings.Contains(err.Error(), "trusted CA") {
		t.Errorf("TLS probe with the system roots: %v, want an untrusted-certificate error", err)
	}

	trusted := untrusted
	trusted.TLS.CAFile = writeCA(t, srv.Certificate())
	err := probe(t, trusted)
	if !errors.Is(err, ErrNotKafka) {
		t.Errorf("TLS probe with the right CA: %v, want ErrNotKafka (it is an HTTPS server)", err)
	}
}

func writeCA(t *testing.T, cert *x509.Certificate) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: cert.Raw}), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// answering listens on a local port and writes answer to every connection
// once the probe's request has arrived; then it closes the connection if
// hangUp, else waits for the probe to.
func answering(t *testing.T, answer string, hangUp bool) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				c.SetDeadline(time.Now().Add(10 * time.Second))
				c.Read(make([]byte, 64)) // the ApiVersions request
				c.Write([]byte(answer))
				if !hangUp {
					c.Read(make([]byte, 1)) // until the probe hangs up
				}
			}()
		}
	}()
	return ln.Addr().String()
}

// A listener that answers a Kafka request with text (an HTML page, an
// HTTP/0.9 body, a banner) is named as not Kafka, with what it said; one
// that answers binary garbage is still "unexpected".
func TestProbeTextAnswers(t *testing.T) {
	tests := []struct {
		name, answer, want string
		hangUp             bool
	}{
		{"html", "<!DOCTYPE html><html><body>hello</body></html>", `it answers text ("<!DOCTYP"): an HTTP or other non-Kafka port?`, false},
		{"lower-case html", "<html>\r\n<head>", `it answers text ("<html>\r\n"): an HTTP or other non-Kafka port?`, false},
		{"http/0.9 body", "Not Found\n", `it answers text ("Not Foun"): an HTTP or other non-Kafka port?`, false},
		{"smtp banner", "220 mail.example.com ESMTP\r\n", `it answers text ("220 mail"): an HTTP or other non-Kafka port?`, false},
		{"short banner, then silence", "hello\n", `it answers text ("hello\n"): an HTTP or other non-Kafka port?`, false},
		{"short banner, then a close", "bye\r\n", `it answers text ("bye\r\n"): an HTTP or other non-Kafka port?`, true},
		{"http response", "HTTP/1.1 400 Bad Request\r\n\r\n", "it answers HTTP (is this a web port?)", false},
		{"binary", "\x00\x00\x00\x08\x00\x00\x00\x01", `unexpected answer "\x00\x00\x00\b\x00\x00\x00\x01"`, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			addr := answering(t, tt.answer, tt.hangUp)
			c := DefaultConnConfig()
			c.Brokers = []string{addr}
			c.DialTimeout = 2 * time.Second
			err := probe(t, c)
			var perr *ProbeError
			if !errors.Is(err, ErrNotKafka) || !errors.As(err, &perr) || perr.Broker != addr {
				t.Fatalf("probe: %v, want ErrNotKafka naming %s", err, addr)
			}
			if !strings.HasSuffix(err.Error(), ": "+tt.want) {
				t.Errorf("probe: %q, want it to end with %q", err, tt.want)
			}
		})
	}
}
