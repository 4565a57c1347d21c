package main

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// `sessiond run` checks the Nosto endpoint at start: a token Nosto refuses
// and a host that does not resolve end it at once (exit 1) naming the
// flag; a Nosto that does not answer yet is a warning naming the flag,
// and the service goes on. The token is never printed.
func TestRunChecksNostoAtStart(t *testing.T) {
	const token = "tok-start-SECRET"
	t.Setenv("SESSIOND_NOSTO_TOKEN", token)
	unauthorized := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		http.Error(w, "unauthorized", http.StatusUnauthorized)
	}))
	t.Cleanup(unauthorized.Close)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	refused := "http://" + ln.Addr().String() + "/v1/graphql"
	ln.Close()
	e := newEnv(t, 1)
	for _, tc := range []struct {
		name, endpoint string
		code           int      // exit status; -1: still running, stopped by the test
		want           []string // in stderr
	}{
		{"401", unauthorized.URL, 1, []string{"--nosto-token-file or SESSIOND_NOSTO_TOKEN", "refused the token", "401"}},
		{"unresolvable", "https://api.nosto.invalid/v1/graphql", 1, []string{"--nosto-endpoint", "does not resolve"}},
		{"refused", refused, -1, []string{"nosto does not answer at start (--nosto-endpoint)", "connection refused"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.name == "unresolvable" {
				var dns *net.DNSError
				if _, err := net.LookupHost("api.nosto.invalid"); !errors.As(err, &dns) || !dns.IsNotFound {
					t.Skipf("this resolver does not answer NXDOMAIN: %v", err)
				}
			}
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			var stderr syncBuffer
			done := make(chan int, 1)
			args := append(append([]string{"run"}, e.runFlags()...), "--group", e.grp+"-"+tc.name,
				"--nosto-endpoint", tc.endpoint, "--output-topic", "")
			go func() {
				done <- Main(ctx, args, stdio{in: strings.NewReader(""), out: &strings.Builder{}, err: &stderr})
			}()
			code := -1
			if tc.code >= 0 {
				code = <-done
			} else {
				waitFor(t, 30*time.Second, "the warning", func() bool { return strings.Contains(stderr.String(), "does not answer") })
				select {
				case code = <-done: // ended: not what a warning should do
				default:
					cancel()
					if c := <-done; c != 0 {
						t.Errorf("run stopped by the test exited %d", c)
					}
				}
			}
			out := stderr.String()
			if code != tc.code {
				t.Fatalf("exit %d, want %d: %s", code, tc.code, out)
			}
			for _, w := range tc.want {
				if !strings.Contains(out, w) {
					t.Errorf("stderr lacks %q: %s", w, out)
				}
			}
			if strings.Contains(out, token) {
				t.Errorf("the token reached stderr: %s", out)
			}
		})
	}
}
