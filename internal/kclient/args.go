package kclient

import "strings"

// Args renders c as sessiond's connection flags (cmd/kafkaflags declares
// them), for a child process; the password travels as passwordFile or in
// the child's environment, never as an argument. It is here only until
// its one user, the load harness, renders its children's flags itself.
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
