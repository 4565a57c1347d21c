package kclient

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sessiond/sessiond/internal/config"
)

func TestConnConfigValidate(t *testing.T) {
	tests := []struct {
		name, wantErr, field string
		edit                 func(*ConnConfig)
	}{
		{"defaults", "", "", func(*ConnConfig) {}},
		{"tls with a CA", "", "", func(c *ConnConfig) { c.TLS.Enabled, c.TLS.CAFile = true, "ca.pem" }},
		{"scram", "", "", func(c *ConnConfig) { c.SASL = SASLConfig{Mechanism: SASLScramSHA512, User: "u", Password: "p"} }},
		{"no brokers", "no brokers", "Brokers", func(c *ConnConfig) { c.Brokers = nil }},
		{"zero dial timeout", "dial timeout", "DialTimeout", func(c *ConnConfig) { c.DialTimeout = 0 }},
		{"CA without TLS", "TLS is off", "TLS.Enabled", func(c *ConnConfig) { c.TLS.CAFile = "ca.pem" }},
		{"skip-verify without TLS", "TLS is off", "TLS.Enabled", func(c *ConnConfig) { c.TLS.InsecureSkipVerify = true }},
		{"cert without key", "both", "TLS.KeyFile", func(c *ConnConfig) { c.TLS.Enabled, c.TLS.CertFile = true, "c.pem" }},
		{"unknown mechanism", "not one of", "SASL.Mechanism", func(c *ConnConfig) { c.SASL = SASLConfig{Mechanism: "gssapi", User: "u", Password: "p"} }},
		{"mechanism without password", "user and a password", "SASL.Password", func(c *ConnConfig) { c.SASL = SASLConfig{Mechanism: SASLPlain, User: "u"} }},
		{"user without mechanism", "no SASL mechanism", "SASL.Mechanism", func(c *ConnConfig) { c.SASL.User = "u" }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := DefaultConnConfig()
			tt.edit(&c)
			err := c.Validate()
			if (err == nil) != (tt.wantErr == "") || err != nil && !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("Validate() = %v, want %q", err, tt.wantErr)
			}
			var fe *config.FieldError
			if err != nil && (!errors.As(err, &fe) || fe.Field != tt.field) {
				t.Errorf("Validate() = %#v, want a *config.FieldError for %s", err, tt.field)
			}
			if err != nil && strings.Contains(err.Error(), "--") {
				t.Errorf("Validate() = %v: names a flag", err)
			}
		})
	}
}

// Errors never carry the password, not even SASLprep's, which quotes it.
func TestNewConnNeverEchoesThePassword(t *testing.T) {
	const secret = "s3cr3t\u0007bell" // SASLprep refuses control characters
	c := DefaultConnConfig()
	c.SASL = SASLConfig{Mechanism: SASLScramSHA512, User: "u", Password: secret}
	_, err := NewConn(c)
	if err == nil {
		t.Fatal("NewConn accepted a password SASLprep refuses")
	}
	if strings.Contains(err.Error(), "s3cr3t") {
		t.Fatalf("the error quotes the password: %v", err)
	}
}

func TestNewConnRefusesBadFiles(t *testing.T) {
	dir := t.TempDir()
	notPEM := filepath.Join(dir, "ca.pem")
	os.WriteFile(notPEM, []byte("not a certificate"), 0o600)
	for name, tls := range map[string]TLSConfig{
		"missing CA file":  {Enabled: true, CAFile: filepath.Join(dir, "none.pem")},
		"CA file not PEM":  {Enabled: true, CAFile: notPEM},
		"missing key pair": {Enabled: true, CertFile: notPEM, KeyFile: notPEM},
	} {
		t.Run(name, func(t *testing.T) {
			c := DefaultConnConfig()
			c.TLS = tls
			if _, err := NewConn(c); err == nil {
				t.Error("NewConn accepted it")
			}
		})
	}
}

func TestConnString(t *testing.T) {
	c := DefaultConnConfig()
	c.TLS.Enabled = true
	c.SASL = SASLConfig{Mechanism: SASLPlain, User: "alice", Password: "hunter2"}
	conn, err := NewConn(c)
	if err != nil {
		t.Fatal(err)
	}
	s := conn.String()
	if !strings.Contains(s, "tls") || !strings.Contains(s, "plain") || strings.Contains(s, "hunter2") {
		t.Errorf("String() = %q: want the security named and no secret", s)
	}
}

func TestLoadSecrets(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "password")
	os.WriteFile(file, []byte("from-file\n"), 0o600)
	empty := filepath.Join(dir, "empty")
	os.WriteFile(empty, nil, 0o600)
	env := func(v string) func(string) (string, bool) {
		return func(k string) (string, bool) { return v, v != "" && k == EnvSASLPassword }
	}
	tests := []struct {
		name, file, env, want, wantErr string
	}{
		{"none", "", "", "", ""},
		{"file, newline trimmed", file, "", "from-file", ""},
		{"environment", "", "from-env", "from-env", ""},
		{"both", file, "from-env", "", "twice"},
		{"missing file", filepath.Join(dir, "none"), "", "", "password file"},
		{"empty file", empty, "", "", "empty"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := DefaultConnConfig()
			err := c.LoadSecrets(tt.file, env(tt.env))
			if (err == nil) != (tt.wantErr == "") || err != nil && !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("LoadSecrets = %v, want %q", err, tt.wantErr)
			}
			var fe *config.FieldError
			if err != nil && (!errors.As(err, &fe) || fe.Field != "SASL.Password") {
				t.Errorf("LoadSecrets = %#v, want a *config.FieldError for SASL.Password", err)
			}
			if err == nil && c.SASL.Password != tt.want {
				t.Errorf("password %q, want %q", c.SASL.Password, tt.want)
			}
		})
	}
}
