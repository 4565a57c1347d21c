package confluent

import (
	"crypto/tls"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/sessiond/sessiond/internal/config"
	"github.com/sessiond/sessiond/internal/kclient"
)

// Config configures the Schema Registry client.
type Config struct {
	// URLs of the registry (one, or several serving the same registry).
	// Required.
	URLs []string
	// User and Password authenticate with HTTP basic auth when User is
	// set. Default: none.
	User, Password string
	// CAFile is a PEM bundle of the CAs that sign an https registry's
	// certificate. Default: the system's roots.
	CAFile string
	// Timeout bounds each HTTP request. Default: 10s.
	Timeout time.Duration
	// RetryMax is the longest wait between retries of a registry that
	// cannot be reached. Default: 10s. Retries go on until the pipeline
	// stops: records that will decode once the registry is back are not
	// dead-lettered.
	RetryMax time.Duration
}

// Defaults of Config.
const (
	DefaultTimeout  = 10 * time.Second
	DefaultRetryMax = 10 * time.Second
)

// DefaultConfig returns the defaults.
func DefaultConfig() Config { return Config{Timeout: DefaultTimeout, RetryMax: DefaultRetryMax} }

// Validate reports the first problem.
func (c *Config) Validate() error {
	if len(c.URLs) == 0 {
		return config.Errorf("URLs", "no schema registry URL")
	}
	for _, u := range c.URLs {
		p, err := url.Parse(u)
		if err != nil || (p.Scheme != "http" && p.Scheme != "https") || p.Host == "" {
			return config.Errorf("URLs", "schema registry URL %q is not an http(s) URL", redact(u))
		}
		if p.User != nil {
			return config.Errorf("URLs", "schema registry URL %q carries credentials: give them in %s/%s or the basic-auth file", redact(u), EnvUser, EnvPassword)
		}
	}
	if c.Password != "" && c.User == "" {
		return config.Errorf("User", "a schema registry password without a user")
	}
	if c.Timeout <= 0 {
		return config.Errorf("Timeout", "schema registry timeout %v must be positive", c.Timeout)
	}
	if c.RetryMax <= 0 {
		return config.Errorf("RetryMax", "schema registry retry bound %v must be positive", c.RetryMax)
	}
	return nil
}

// redact drops a URL's user info, for messages.
func redact(u string) string {
	if p, err := url.Parse(u); err == nil && p.User != nil {
		p.User = nil
		return p.String()
	}
	return u
}

// httpClient builds the HTTP client: the timeout and, for https, the CAs.
func (c *Config) httpClient() (*http.Client, error) {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	if c.CAFile != "" {
		pool, err := kclient.CAPool(c.CAFile)
		if err != nil {
			return nil, fmt.Errorf("schema registry %w", err)
		}
		tr.TLSClientConfig = &tls.Config{MinVersion: tls.VersionTLS12, RootCAs: pool}
	}
	return &http.Client{Timeout: c.Timeout, Transport: tr}, nil
}

// Environment variables with the registry's credentials.
const (
	EnvUser     = "SESSIOND_SCHEMA_REGISTRY_USER"
	EnvPassword = "SESSIOND_SCHEMA_REGISTRY_PASSWORD"
)

// LoadSecrets fills the credentials from authFile ("user:password", as
// Confluent's basic.auth.user.info) or from the environment (lookup).
func (c *Config) LoadSecrets(authFile string, lookup func(string) (string, bool)) error {
	user, hasUser := lookup(EnvUser)
	pass, hasPass := lookup(EnvPassword)
	switch {
	case authFile != "" && (hasUser || hasPass):
		return config.Errorf("User", "the schema registry credentials are given twice: in a file and in %s/%s", EnvUser, EnvPassword)
	case authFile != "":
		b, err := os.ReadFile(authFile)
		if err != nil {
			return &config.FieldError{Field: "User", Err: fmt.Errorf("schema registry credentials: %w", err)}
		}
		u, p, ok := strings.Cut(strings.TrimRight(string(b), "\r\n"), ":")
		if !ok || u == "" {
			return config.Errorf("User", "schema registry credentials: want one line user:password")
		}
		c.User, c.Password = u, p
	case hasPass && !hasUser:
		return config.Errorf("User", "%s is set without %s", EnvPassword, EnvUser)
	case hasUser:
		c.User, c.Password = user, pass
	}
	return nil
}
