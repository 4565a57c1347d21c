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
