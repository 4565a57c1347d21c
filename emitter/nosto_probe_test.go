package emitter

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sessiond/sessiond/internal/config"
	"github.com/sessiond/sessiond/reducer"
)

// probeServer answers every request with status and records the bodies.
func probeServer(t *testing.T, status int) (url string, bodies func() []string) {
	t.Helper()
	var mu sync.Mutex
	var got []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		got = append(got, string(b)+" key="+r.Header.Get("Idempotency-Key"))
		mu.Unlock()
		w.WriteHeader(status)
		w.Write([]byte(`{"errors":[{"message":"Cannot query field"}]}`))
	}))
	t.Cleanup(srv.Close)
	return srv.URL + "/v1/graphql", func() []string { mu.Lock(); defer mu.Unlock(); return append([]string(nil), got...) }
}

// refusedURL is an http URL on a loopback port nothing listens on.
func refusedURL(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return "http://" + addr + "/v1/graphql"
}

// The start-up probe tells a token Nosto refuses and a host that does not
// resolve (fatal: the configuration is wrong) from a Nosto that does not
// answer yet (may come up later), and sends no update.
func TestNostoProbe(t *testing.T) {
	t.Parallel()
	const unresolvable = "api.nosto.invalid"
	ok, okBodies := probeServer(t, http.StatusOK)
	unauthorized, _ := probeServer(t, http.StatusUnauthorized)
	forbidden, _ := probeServer(t, http.StatusForbidden)
	unavailable, _ := probeServer(t, http.StatusServiceUnavailable)
	for _, tc := range []struct {
		name, endpoint string
		field          string // the FieldError's field; "" none
		unreachable    bool
	}{
		{"answers, a GraphQL error too", ok, "", false},
		{"401", unauthorized, "Token", false},
		{"403", forbidden, "Token", false},
		{"503", unavailable, "", true},
		{"refused", refusedURL(t), "", true},
		{"unresolvable", "https://user:urlsecret@" + unresolvable + "/v1/graphql", "Endpoint", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if tc.field == "Endpoint" {
				if _, err := net.LookupHost(unresolvable); !isNotFound(err) {
					t.Skipf("this resolver does not answer NXDOMAIN for %s: %v", unresolvable, err)
				}
			}
			cfg := DefaultNostoConfig()
			cfg.Endpoint, cfg.Token, cfg.Timeout = tc.endpoint, testToken, 5*time.Second
			cfg.DeadLetter = func(context.Context, *reducer.Update, NostoFailure) error { return nil }
			s, err := NewNostoSink(cfg)
			if err != nil {
				t.Fatal(err)
			}
			err = s.Probe(context.Background())
			field, _ := config.FieldOf(err)
			if field != tc.field || errors.Is(err, ErrNostoUnreachable) != tc.unreachable || (tc.field == "" && !tc.unreachable && err != nil) {
				t.Fatalf("Probe = %v (field %q, unreachable %v); want field %q, unreachable %v",
					err, field, errors.Is(err, ErrNostoUnreachable), tc.field, tc.unreachable)
			}
			if err != nil && (strings.Contains(err.Error(), testToken) || strings.Contains(err.Error(), "urlsecret")) {
				t.Fatalf("the error %q names a secret", err)
			}
			if tc.endpoint != ok {
				return
			}
			if b := okBodies(); len(b) != 1 || strings.Contains(b[0], "mutation") || !strings.HasSuffix(b[0], "key=") {
				t.Errorf("probe requests %q: want one query without an Idempotency-Key, no mutation", b)
			}
		})
	}
}

func isNotFound(err error) bool {
	var dns *net.DNSError
	return errors.As(err, &dns) && dns.IsNotFound
}
