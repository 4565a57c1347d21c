// Package kafkaflags declares the Kafka connection flags shared by every
// command that talks to Kafka (sessiond and its load harness), and names
// the flag behind a config.FieldError of a kclient.ConnConfig. Only
// commands read flags: kclient knows its settings by their Go field paths.
package kafkaflags

import (
	"flag"
	"fmt"
	"os"
	"strings"

	"github.com/sessiond/sessiond/internal/config"
	"github.com/sessiond/sessiond/internal/kclient"
)

// Bind declares the connection flags, bound straight into c (whose values
// are the defaults). passwordFile receives --kafka-sasl-password-file; call
// LoadSecrets after parsing.
func Bind(fs *flag.FlagSet, c *kclient.ConnConfig, passwordFile *string) {
	fs.Var((*brokerList)(&c.Brokers), "brokers", "bootstrap brokers, comma-separated")
	fs.BoolVar(&c.TLS.Enabled, "kafka-tls", c.TLS.Enabled, "connect to the brokers with TLS")
	fs.StringVar(&c.TLS.CAFile, "kafka-tls-ca-file", c.TLS.CAFile, "PEM bundle of the CAs of the brokers' certificates (default: the system's roots)")
	fs.StringVar(&c.TLS.CertFile, "kafka-tls-cert-file", c.TLS.CertFile, "client certificate (PEM) for mutual TLS")
	fs.StringVar(&c.TLS.KeyFile, "kafka-tls-key-file", c.TLS.KeyFile, "client key (PEM) for mutual TLS")
	fs.StringVar(&c.TLS.ServerName, "kafka-tls-server-name", c.TLS.ServerName, "name to verify the brokers' certificates against (default: the host dialled)")
	fs.BoolVar(&c.TLS.InsecureSkipVerify, "kafka-tls-insecure-skip-verify", c.TLS.InsecureSkipVerify, "INSECURE: do not verify the brokers' certificates (debugging only)")
	fs.StringVar(&c.SASL.Mechanism, "kafka-sasl-mechanism", c.SASL.Mechanism, "SASL mechanism: plain, scram-sha-256 or scram-sha-512 (default: no SASL)")
	fs.StringVar(&c.SASL.User, "kafka-sasl-user", c.SASL.User, "SASL user")
	fs.StringVar(passwordFile, "kafka-sasl-password-file", *passwordFile, "file holding the SASL password (or set "+kclient.EnvSASLPassword+")")
	fs.DurationVar(&c.DialTimeout, "kafka-dial-timeout", c.DialTimeout, "bound on connecting, the TLS handshake and SASL authentication")
}

// flagOf names the flag (or variable) behind each ConnConfig field.
var flagOf = map[string]string{
	"Brokers":                "--brokers",
	"DialTimeout":            "--kafka-dial-timeout",
	"TLS.Enabled":            "--kafka-tls",
	"TLS.CAFile":             "--kafka-tls-ca-file",
	"TLS.CertFile":           "--kafka-tls-cert-file",
	"TLS.KeyFile":            "--kafka-tls-key-file",
	"TLS.ServerName":         "--kafka-tls-server-name",
	"TLS.InsecureSkipVerify": "--kafka-tls-insecure-skip-verify",
	"SASL.Mechanism":         "--kafka-sasl-mechanism",
	"SASL.User":              "--kafka-sasl-user",
	"SASL.Password":          "--kafka-sasl-password-file or " + kclient.EnvSASLPassword,
}

// Flag returns the flag behind err's config.FieldError (a path in
// ConnConfig), or "" when err has none.
func Flag(err error) string {
	field, ok := config.FieldOf(err)
	if !ok {
		return ""
	}
	return FlagOfField(field)
}

// FlagOfField returns the flag behind a ConnConfig field path, or "".
func FlagOfField(field string) string { return flagOf[field] }

// Explain prefixes err with the flag behind its config.FieldError, if
// any; it keeps err's chain.
func Explain(err error) error {
	if f := Flag(err); f != "" {
		return fmt.Errorf("%s: %w", f, err)
	}
	return err
}

// LoadSecrets is c.LoadSecrets from passwordFile and the process's
// environment, its error naming the flag.
func LoadSecrets(c *kclient.ConnConfig, passwordFile string) error {
	return Explain(c.LoadSecrets(passwordFile, os.LookupEnv))
}

// brokerList is a comma-separated broker list bound to a []string.
type brokerList []string

func (b *brokerList) String() string {
	if b == nil {
		return ""
	}
	return strings.Join(*b, ",")
}

func (b *brokerList) Set(v string) error {
	*b = kclient.Brokers(v)
	return nil
}

// Args renders c as the connection flags Bind declares, for a child
// process (the load harness runs sessiond so); the password travels as
// passwordFile or in the child's environment, never as an argument.
func Args(c *kclient.ConnConfig, passwordFile string) []string {
	args := []string{"--brokers", strings.Join(c.Brokers, ",")}
	add := func(name, v string) {
		if v != "" {
			args = append(args, "--"+name, v)
		}
	}
	if c.TLS.Enabled {
		args = append(args, "--kafka-tls")
	}
	add("kafka-tls-ca-file", c.TLS.CAFile)
	add("kafka-tls-cert-file", c.TLS.CertFile)
	add("kafka-tls-key-file", c.TLS.KeyFile)
	add("kafka-tls-server-name", c.TLS.ServerName)
	if c.TLS.InsecureSkipVerify {
		args = append(args, "--kafka-tls-insecure-skip-verify")
	}
	add("kafka-sasl-mechanism", c.SASL.Mechanism)
	add("kafka-sasl-user", c.SASL.User)
	add("kafka-sasl-password-file", passwordFile)
	if c.DialTimeout > 0 {
		add("kafka-dial-timeout", c.DialTimeout.String())
	}
	return args
}
