package emitter

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"

	"github.com/sessiond/sessiond/internal/config"
)

// ErrNostoUnreachable is a probe that got no answer from Nosto (a refused
// connection, a time-out): Nosto may come up later, so the caller may go
// on, the sink retrying every update until it answers.
var ErrNostoUnreachable = errors.New("nosto unreachable")

// probeQuery asks for nothing but the type name of the root: a query, not
// a mutation, so that no session is touched.
const probeQuery = `{"query":"query SessiondProbe { __typename }"}`

// Probe makes one cheap request to the endpoint, with the token, within
// Timeout, and sends no update: a GraphQL query for __typename. Any HTTP
// answer but 401 and 403 passes (a GraphQL error in it too: the endpoint
// and the token were accepted). The error is a config.FieldError of
// Endpoint for a host that does not resolve or a certificate that is not
// trusted, of Token for 401 and 403 (naming neither the token nor the
// URL's credentials), or wraps ErrNostoUnreachable for a refused
// connection, a time-out and other answers that may pass later.
func (s *NostoSink) Probe(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, s.cfg.Timeout)
	defer cancel()
	req, err := s.newRequest(ctx, []byte(probeQuery))
	if err != nil {
		return config.Errorf("Endpoint", "nosto endpoint is not a usable URL: %s", redactURL(err))
	}
	resp, err := s.cfg.Client.Do(req)
	if err != nil {
		return probeTransportError(s.host(), err)
	}
	defer resp.Body.Close()
	io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
	switch {
	case resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusForbidden:
		return config.Errorf("Token", "nosto at %s refused the token: HTTP %s%s", s.host(), resp.Status, requestIDNote(resp))
	case resp.StatusCode == http.StatusNotFound || resp.StatusCode == http.StatusMethodNotAllowed ||
		resp.StatusCode == http.StatusRequestTimeout || resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode >= 500:
		return fmt.Errorf("%w: %s answered HTTP %s", ErrNostoUnreachable, s.host(), resp.Status)
	}
	return nil
}

// probeTransportError classifies a request that got no HTTP answer.
func probeTransportError(host string, err error) error {
	var dns *net.DNSError
	var verify *tls.CertificateVerificationError
	var record tls.RecordHeaderError
	switch {
	case errors.As(err, &dns) && dns.IsNotFound:
		return config.Errorf("Endpoint", "nosto endpoint host %s does not resolve (%s)", host, redactURL(err))
	case errors.As(err, &verify), errors.As(err, &record):
		return config.Errorf("Endpoint", "nosto endpoint %s: TLS failed: %s", host, redactURL(err))
	}
	return fmt.Errorf("%w: %s", ErrNostoUnreachable, redactURL(err))
}

// host is the endpoint's host:port, never its credentials.
func (s *NostoSink) host() string {
	u, err := url.Parse(s.cfg.Endpoint)
	if err != nil {
		return "?"
	}
	return u.Host
}

// requestIDNote is Nosto's X-Request-Id for an error message, if any.
func requestIDNote(resp *http.Response) string {
	if id := resp.Header.Get("X-Request-Id"); id != "" {
		return " (X-Request-Id " + id + ")"
	}
	return ""
}
