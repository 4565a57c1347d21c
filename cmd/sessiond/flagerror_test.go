package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
)

// TestBadFlagValueReportedOnce checks that a bad flag value is refused
// with exit 2 and one message that names the flag.
func TestBadFlagValueReportedOnce(t *testing.T) {
	for _, tc := range []struct {
		args []string
		flag string
	}{
		{[]string{"run", "--session-ttl", "banana"}, "session-ttl"},
		{[]string{"reduce", "--session-ttl", "banana"}, "session-ttl"},
		{[]string{"run", "--log-level", "verbose"}, "log-level"},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			var out, errb bytes.Buffer
			code := Main(context.Background(), tc.args, stdio{in: strings.NewReader(""), out: &out, err: &errb})
			lines := strings.Split(strings.TrimSpace(errb.String()), "\n")
			if code != 2 || len(lines) != 1 || !strings.Contains(lines[0], tc.flag) {
				t.Fatalf("exit %d, stderr %q: want exit 2 and one line naming %s", code, errb.String(), tc.flag)
			}
		})
	}
}
