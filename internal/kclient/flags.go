package kclient

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"strings"
)

// Environment variables and flags that carry secrets: a password is never
// a flag value (it would show in ps), only a variable or a file.
const (
	EnvSASLPassword = "SESSIOND_KAFKA_SASL_PASSWORD"
)

// BindFlags declares the connection flags shared by every command that
// talks to Kafka, bound straight into c (whose values are the defaults).
// passwordFile receives --kafka-sasl-password-file; call LoadSecrets after
// parsing.
func BindFlags(fs *flag.FlagSet, c *ConnConfig, passwordFile *string) {
	fs.Var((*brokerList)(&c.Brokers), "brokers", "bootstrap brokers, comma-separated")
	fs.BoolVar(&c.TLS.Enabled, "kafka-tls", c.TLS.Enabled, "connect to the brokers with TLS")
	fs.StringVar(&c.TLS.CAFile, "kafka-tls-ca-file", c.TLS.CAFile, "PEM bundle of the CAs of the brokers' certificates (default: the system's roots)")
	fs.StringVar(&c.TLS.CertFile, "kafka-tls-cert-file", c.TLS.CertFile, "client certificate (PEM) for mutual TLS")
	fs.StringVar(&c.TLS.KeyFile, "kafka-tls-key-file", c.TLS.KeyFile, "client key (PEM) for mutual TLS")
	fs.StringVar(&c.TLS.ServerName, "kafka-tls-server-name", c.TLS.ServerName, "name to verify the brokers' certificates against (default: the host dialled)")
	fs.BoolVar(&c.TLS.InsecureSkipVerify, "kafka-tls-insecure-skip-verify", c.TLS.InsecureSkipVerify, "INSECURE: do not verify the brokers' certificates (debugging only)")
	fs.StringVar(&c.SASL.Mechanism, "kafka-sasl-mechanism", c.SASL.Mechanism, "SASL mechanism: plain, scram-sha-256 or scram-sha-512 (default: no SASL)")
	fs.StringVar(&c.SASL.User, "kafka-sasl-user", c.SASL.User, "SASL user")
	fs.StringVar(passwordFile, "kafka-sasl-password-file", *passwordFile, "file holding the SASL password (or set "+EnvSASLPassword+")")
	fs.DurationVar(&c.DialTimeout, "kafka-dial-timeout", c.DialTimeout, "bound on connecting, the TLS handshake and SASL authentication")
}

// LoadSecrets fills the SASL password from passwordFile or, without one,
// from SESSIOND_KAFKA_SASL_PASSWORD (lookup reads the environment).
func (c *ConnConfig) LoadSecrets(passwordFile string, lookup func(string) (string, bool)) error {
	env, fromEnv := lookup(EnvSASLPassword)
	switch {
	case passwordFile != "" && fromEnv:
		return fmt.Errorf("the SASL password is given twice: --kafka-sasl-password-file and %s", EnvSASLPassword)
	case passwordFile != "":
		b, err := os.ReadFile(passwordFile)
		if err != nil {
			return fmt.Errorf("--kafka-sasl-password-file: %w", err)
		}
		c.SASL.Password = strings.TrimRight(string(b), "\r\n")
		if c.SASL.Password == "" {
			return errors.New("--kafka-sasl-password-file: the file is empty")
		}
	case fromEnv:
		c.SASL.Password = env
	}
	return nil
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
	*b = Brokers(v)
	return nil
}

// Args renders c as the flags BindFlags declares, for a child process;
// the password travels as passwordFile or in the child's environment,
// never as an argument.
func (c *ConnConfig) Args(passwordFile string) []string {
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
