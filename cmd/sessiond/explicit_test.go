package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
)

// An explicit empty or zero value is taken as given or refused; it never
// silently becomes the default (an unset variable in a backfill template
// must not join the production group).
func TestRunRefusesExplicitEmptyValues(t *testing.T) {
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"--group", ""}, "group"},
		{[]string{"--session-ttl", "0"}, "session TTL"},
		{[]string{"--max-batch", "0"}, "max batch"},
		{[]string{"--cart-topic", ""}, "input topic"},
		{[]string{"--output-topic", ""}, "no sink"},
		{[]string{"--drain-timeout", "0"}, "drain"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			var stderr bytes.Buffer
			args := append([]string{"run", "--brokers", "127.0.0.1:1", "--http-addr", ""}, tt.args...)
			code := Main(context.Background(), args, stdio{in: strings.NewReader(""), out: &bytes.Buffer{}, err: &stderr})
			if code == 0 || !strings.Contains(stderr.String(), tt.want) {
				t.Errorf("exit %d, stderr %q: want a refusal mentioning %q", code, stderr.String(), tt.want)
			}
		})
	}
}
