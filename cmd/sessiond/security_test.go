package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// Connecting to secured clusters. The SASL_SSL and mTLS cases need the
// listeners of `scripts/kafka.sh up --secure`, which exports the variables
// below (the test command does); without them they are skipped.

// secureEnv is what `kafka.sh up --secure` prints.
type secureEnv struct {
	saslSSL, mtls                string
	ca, cert, key, otherCA       string
	user, password, passwordFile string
}

func needSecureKafka(t *testing.T) secureEnv {
	t.Helper()
	s := secureEnv{
		saslSSL: os.Getenv("KAFKA_SASL_SSL_BROKERS"), mtls: os.Getenv("KAFKA_MTLS_BROKERS"),
		ca: os.Getenv("KAFKA_TLS_CA_FILE"), cert: os.Getenv("KAFKA_TLS_CLIENT_CERT_FILE"),
		key: os.Getenv("KAFKA_TLS_CLIENT_KEY_FILE"), otherCA: os.Getenv("KAFKA_TLS_OTHER_CA_FILE"),
		user: os.Getenv("KAFKA_SASL_USER"), password: os.Getenv("KAFKA_SASL_PASSWORD"),
	}
	if s.saslSSL == "" || s.mtls == "" || s.password == "" {
		t.Skip("no secure listeners: run against `scripts/kafka.sh up --secure` (the test command does)")
	}
	s.passwordFile = filepath.Join(t.TempDir(), "password")
	if err := os.WriteFile(s.passwordFile, []byte(s.password+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return s
}

// withBrokers returns flags with --brokers replaced by brokers and the
// security flags appended.
func withBrokers(flags []string, brokers string, security ...string) []string {
	out := append([]string(nil), flags...)
	for i := range out {
		if out[i] == "--brokers" {
			out[i+1] = brokers
		}
	}
	return append(out, security...)
}

func (s secureEnv) scram() []string {
	return []string{"--kafka-tls", "--kafka-tls-ca-file", s.ca, "--kafka-sasl-mechanism", "scram-sha-512",
		"--kafka-sasl-user", s.user, "--kafka-sasl-password-file", s.passwordFile}
}

func (s secureEnv) mutualTLS() []string {
	return []string{"--kafka-tls", "--kafka-tls-ca-file", s.ca, "--kafka-tls-cert-file", s.cert, "--kafka-tls-key-file", s.key}
}

// runSecure runs `sessiond run` over the given listener until the test
// ends; produce goes over the same listener.
func runSecureEnv(t *testing.T, brokers string, security []string) {
	t.Helper()
	e := newEnv(t, 2) // topics are created over the plaintext listener
	lines := stream(t, 7, 50, 1500)
	want := reduceLines(t, lines)
	var stderr bytes.Buffer
	args := append([]string{"produce"}, withBrokers(e.topicFlags(), brokers, security...)...)
	if code := Main(context.Background(), args, stdio{in: strings.NewReader(join(lines)), out: &bytes.Buffer{}, err: &stderr}); code != 0 {
		t.Fatalf("produce over %s exited %d: %s", brokers, code, stderr.String())
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan int, 1)
	var runErr syncBuffer
	go func() {
		done <- Main(ctx, append([]string{"run"}, withBrokers(e.runFlags(), brokers, security...)...),
			stdio{in: strings.NewReader(""), out: &bytes.Buffer{}, err: &runErr})
	}()
	t.Cleanup(func() {
		cancel()
		if code := <-done; code != 0 {
			t.Errorf("run exited %d: %s", code, runErr.String())
		}
	})
	assertSameUpdates(t, e.updates(t, len(want), 2*time.Minute), want)
}

func TestPipelineOverSASLSSLWithSCRAM(t *testing.T) {
	s := needSecureKafka(t)
	t.Setenv("SESSIOND_KAFKA_SASL_PASSWORD", "") // the file is the only source
	os.Unsetenv("SESSIOND_KAFKA_SASL_PASSWORD")
	runSecureEnv(t, s.saslSSL, s.scram())
}

func TestPipelineOverMutualTLS(t *testing.T) {
	s := needSecureKafka(t)
	runSecureEnv(t, s.mtls, s.mutualTLS())
}

// refused runs `sessiond run` with args and checks that it exits non-zero
// with a message naming the broker and containing each of want.
func refused(t *testing.T, args []string, broker string, want ...string) string {
	t.Helper()
	var stderr bytes.Buffer
	begin := time.Now()
	code := Main(context.Background(), append([]string{"run", "--http-addr", "", "--kafka-dial-timeout", "5s"}, args...),
		stdio{in: strings.NewReader(""), out: &bytes.Buffer{}, err: &stderr})
	msg := stderr.String()
	t.Logf("exit %d after %v: %s", code, time.Since(begin).Round(time.Millisecond), strings.TrimSpace(msg))
	if code == 0 {
		t.Fatal("run started")
	}
	if !strings.Contains(msg, broker) {
		t.Errorf("the message does not name the broker %s", broker)
	}
	for _, w := range want {
		if !strings.Contains(msg, w) {
			t.Errorf("the message does not say %q", w)
		}
	}
	return msg
}

func TestPipelineRefusesBadSecurity(t *testing.T) {
	s := needSecureKafka(t)
	wrong := filepath.Join(t.TempDir(), "wrong")
	os.WriteFile(wrong, []byte("not-the-password"), 0o600)
	t.Run("wrong password", func(t *testing.T) {
		refused(t, []string{"--brokers", s.saslSSL, "--kafka-tls", "--kafka-tls-ca-file", s.ca,
			"--kafka-sasl-mechanism", "scram-sha-512", "--kafka-sasl-user", s.user, "--kafka-sasl-password-file", wrong},
			s.saslSSL, "SASL authentication failed")
	})
	t.Run("unknown CA", func(t *testing.T) {
		refused(t, []string{"--brokers", s.saslSSL, "--kafka-tls", "--kafka-tls-ca-file", s.otherCA,
			"--kafka-sasl-mechanism", "scram-sha-512", "--kafka-sasl-user", s.user, "--kafka-sasl-password-file", s.passwordFile},
			s.saslSSL, "trusted CA")
	})
	t.Run("plaintext client on the TLS port", func(t *testing.T) {
		refused(t, []string{"--brokers", s.mtls}, s.mtls, "TLS listener")
	})
	t.Run("no client certificate on the mTLS port", func(t *testing.T) {
		refused(t, []string{"--brokers", s.mtls, "--kafka-tls", "--kafka-tls-ca-file", s.ca}, s.mtls, "TLS")
	})
	t.Run("TLS client on the plaintext port", func(t *testing.T) {
		plain := strings.Split(os.Getenv("KAFKA_BROKERS"), ",")[0]
		refused(t, []string{"--brokers", plain, "--kafka-tls", "--kafka-tls-ca-file", s.ca}, plain, "PLAINTEXT listener")
	})
	t.Run("SASL listener without SASL", func(t *testing.T) {
		refused(t, []string{"--brokers", s.saslSSL, "--kafka-tls", "--kafka-tls-ca-file", s.ca}, s.saslSSL, "SASL")
	})
}

// An address that does not speak Kafka (here an HTTP server) is refused at
// once, naming it, instead of spinning on a 1.2 GB "frame".
func TestPipelineRefusesHTTPServerAsBroker(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	defer srv.Close()
	addr := strings.TrimPrefix(srv.URL, "http://")
	msg := refused(t, []string{"--brokers", addr}, addr, "HTTP")
	// run logs JSON; its fatal error is a JSON line too.
	lines := strings.Split(strings.TrimSpace(msg), "\n")
	if last := lines[len(lines)-1]; !json.Valid([]byte(last)) || !strings.Contains(last, `"level":"ERROR"`) {
		t.Errorf("the fatal error is not a JSON log line: %s", last)
	}
}
