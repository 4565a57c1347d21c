package kafkaflags

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sessiond/sessiond/internal/config"
	"github.com/sessiond/sessiond/internal/kclient"
)

// Args renders what Bind parses back: a child process gets the same
// connection, and no password on its command line.
func TestArgsRoundTrip(t *testing.T) {
	c := kclient.DefaultConnConfig()
	c.Brokers = []string{"a:1", "b:2"}
	c.TLS = kclient.TLSConfig{Enabled: true, CAFile: "ca.pem", CertFile: "c.pem", KeyFile: "k.pem", ServerName: "kafka"}
	c.SASL = kclient.SASLConfig{Mechanism: kclient.SASLScramSHA256, User: "u", Password: "never-an-arg"}
	c.DialTimeout = 3 * time.Second
	args := Args(&c, "/run/secrets/pw")
	if slices.Contains(args, "never-an-arg") {
		t.Fatalf("the password is an argument: %v", args)
	}
	got := kclient.DefaultConnConfig()
	var file string
	fs := flag.NewFlagSet("t", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	Bind(fs, &got, &file)
	if err := fs.Parse(args); err != nil {
		t.Fatal(err)
	}
	c.SASL.Password = ""
	if !slices.Equal(got.Brokers, c.Brokers) || got.TLS != c.TLS || got.SASL != c.SASL || got.DialTimeout != c.DialTimeout || file != "/run/secrets/pw" {
		t.Errorf("parsed back %+v (file %q), want %+v", got, file, c)
	}
}

// Every field a config.FieldError names maps to its flag; the message
// keeps kclient's text and chain.
func TestExplainNamesTheFlag(t *testing.T) {
	c := kclient.DefaultConnConfig()
	c.TLS.CAFile = "ca.pem" // TLS is off
	err := Explain(fmt.Errorf("kafka connection: %w", c.Validate()))
	var fe *config.FieldError
	if !errors.As(err, &fe) || !strings.HasPrefix(err.Error(), "--kafka-tls: ") {
		t.Fatalf("Explain = %v, want the --kafka-tls flag in front of the field error", err)
	}
	for _, field := range []string{"Brokers", "DialTimeout", "TLS.Enabled", "TLS.CAFile", "TLS.CertFile", "TLS.KeyFile",
		"TLS.ServerName", "SASL.Mechanism", "SASL.User", "SASL.Password"} {
		if Flag(&config.FieldError{Field: field, Err: errors.New("x")}) == "" {
			t.Errorf("no flag for %s", field)
		}
	}
	if err := Explain(nil); err != nil {
		t.Errorf("Explain(nil) = %v", err)
	}
}
