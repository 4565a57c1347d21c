package main

import (
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/sessiond/sessiond/internal/config"
)

// commandFlags returns the flags run and replay declare, read from their
// -h output.
func commandFlags(t *testing.T) map[string]bool {
	t.Helper()
	names := map[string]bool{}
	for _, cmd := range []string{"run", "replay"} {
		var out strings.Builder
		Main(t.Context(), []string{cmd, "-h"}, stdio{in: strings.NewReader(""), out: &out, err: io.Discard})
		for _, line := range strings.Split(out.String(), "\n") {
			if f, ok := strings.CutPrefix(line, "  -"); ok {
				names["--"+strings.Fields(f)[0]] = true
			}
		}
	}
	if !names["--brokers"] || !names["--from"] {
		t.Fatalf("no flags read from -h: %v", names)
	}
	return names
}

// Every flag the field table names is a flag sessiond declares, so that a
// refusal never points the user at a flag that does not exist.
func TestFieldFlagsExist(t *testing.T) {
	names := commandFlags(t)
	for field, flags := range fieldFlags {
		for _, f := range strings.Split(flags, ",") {
			f = strings.Fields(f)[0] // "--nosto-token-file or SESSIOND_…"
			if !names[f] {
				t.Errorf("field %s names %s, which neither run nor replay declares", field, f)
			}
		}
	}
}

// A field error is a usage error naming the flag, found by the longest
// known suffix of its path; any other error is not a usage error (exit 1:
// the command line cannot fix it).
func TestFieldUsage(t *testing.T) {
	err := fieldUsage(config.Within("Consumer", config.Errorf("SessionTTL", "consumer: session TTL 0s must be positive")))
	if !isUsage(err) || !strings.HasPrefix(err.Error(), "--session-ttl: ") {
		t.Errorf("fieldUsage(SessionTTL) = %v, want a usage error naming --session-ttl", err)
	}
	err = fieldUsage(config.Within("Conn", config.Errorf("TLS.CAFile", "CA file: no such file")))
	if !strings.HasPrefix(err.Error(), "--kafka-tls-ca-file: ") {
		t.Errorf("fieldUsage(Conn.TLS.CAFile) = %v", err)
	}
	plain := errors.New("register metrics: duplicate")
	if err := fieldUsage(plain); err != plain || isUsage(err) {
		t.Errorf("fieldUsage(plain) = %v, want it unchanged (exit 1)", err)
	}
	var stderr strings.Builder
	replay := []string{"replay", "--brokers", "127.0.0.1:1", "--from", "2026-01-01T00:00:00Z", "--dry-run", "--max-retry", "-1s"}
	if code := Main(t.Context(), replay, stdio{in: strings.NewReader(""), out: io.Discard, err: &stderr}); code != 2 || !strings.Contains(stderr.String(), "--max-retry") {
		t.Errorf("replay --max-retry -1s: exit %d, %q; want 2 naming --max-retry before connecting", code, stderr.String())
	}
	if Main(t.Context(), []string{"run", "--log-level", "verbose"}, stdio{in: strings.NewReader(""), out: io.Discard, err: io.Discard}) != 2 {
		t.Error("--log-level verbose: want exit 2")
	}
}
