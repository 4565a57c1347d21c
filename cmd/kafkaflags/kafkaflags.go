// Package kafkaflags declares the Kafka connection flags shared by every
// command that talks to Kafka (sessiond and its load harness), and names
// the flag behind a kclient.FieldError. Only commands read flags: kclient
// knows its settings by their Go field paths.
package kafkaflags

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"strings"

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

// Flag returns the flag behind err's kclient.FieldError, or "" when err
// has none.
func Flag(err error) string {
	var fe *kclient.FieldError
	if !errors.As(err, &fe) {
		return ""
	}
	return flagOf[fe.Field]
}

// Explain prefixes err with the flag behind its kclient.FieldError, if
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
