package main

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"net"
	"net/netip"
	"strings"
	"testing"
	"time"
)

// Durations and addresses are logged readably, by every handler
// sessiond builds (newLogger, demo's and replay's progress share it).
func TestJSONHandlerReadableValues(t *testing.T) {
	tcp := &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 8080}
	var nilTCP *net.TCPAddr
	ap := netip.MustParseAddrPort("[::1]:9092")
	tests := []struct {
		name string
		val  any
		want string // the value's JSON
	}{
		{"duration", 356696593 * time.Nanosecond, `"356.696593ms"`},
		{"zero duration", time.Duration(0), `"0s"`},
		{"tcp addr", tcp, `"127.0.0.1:8080"`},
		{"tcp addr as net.Addr", net.Addr(tcp), `"127.0.0.1:8080"`},
		{"nil tcp addr", nilTCP, `""`},
		{"udp addr", &net.UDPAddr{IP: net.IPv4(10, 0, 0, 1), Port: 53}, `"10.0.0.1:53"`},
		{"netip.AddrPort", ap, `"[::1]:9092"`},
		{"*netip.AddrPort", &ap, `"[::1]:9092"`},
		{"other values unchanged", 42, `42`},
		{"strings unchanged", "x", `"x"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			log, err := newLogger(&buf, "info")
			if err != nil {
				t.Fatal(err)
			}
			log.Info("m", "v", tt.val)
			log.With("w", tt.val).WithGroup("g").Info("m", "v", tt.val) // also in With and in groups
			lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
			var first, second struct {
				V json.RawMessage `json:"v"`
				W json.RawMessage `json:"w"`
				G struct {
					V json.RawMessage `json:"v"`
				} `json:"g"`
			}
			if len(lines) != 2 || json.Unmarshal([]byte(lines[0]), &first) != nil || json.Unmarshal([]byte(lines[1]), &second) != nil {
				t.Fatalf("log %q: want two JSON lines", buf.String())
			}
			for _, got := range []json.RawMessage{first.V, second.W, second.G.V} {
				if string(got) != tt.want {
					t.Errorf("logged %s in %q, want %s", got, buf.String(), tt.want)
				}
			}
		})
	}
}

// The handler demo builds (at warn) is the same one.
func TestJSONHandlerAtWarn(t *testing.T) {
	var buf bytes.Buffer
	slog.New(newJSONHandler(&buf, slog.LevelWarn)).Warn("write failed, retrying", "wait", 1500*time.Millisecond)
	if !strings.Contains(buf.String(), `"wait":"1.5s"`) {
		t.Errorf("logged %q, want \"wait\":\"1.5s\"", buf.String())
	}
}

// The start-up line names the HTTP address as "host:port", and as ""
// (not null) when the endpoints are off.
func TestPipelineStartingLogsHTTPAddr(t *testing.T) {
	e := newEnv(t, 1)
	addr := freeAddr(t)
	for _, tt := range []struct{ flag, want string }{
		{addr, `"http":"` + addr + `"`},
		{"", `"http":""`},
	} {
		stop, logs := e.startLogged(t, "--log-level", "info", "--http-addr", tt.flag)
		waitFor(t, time.Minute, "the starting line", func() bool { return strings.Contains(logs.String(), `"msg":"starting"`) })
		stop()
		line := logLine(t, logs.String(), "starting")
		if !strings.Contains(line, tt.want) {
			t.Errorf("--http-addr %q: starting line %s lacks %s", tt.flag, line, tt.want)
		}
	}
}

// logLine returns the first JSON log line whose msg is msg.
func logLine(t *testing.T, logs, msg string) string {
	t.Helper()
	for _, l := range strings.Split(logs, "\n") {
		var rec struct{ Msg string }
		if json.Unmarshal([]byte(l), &rec) == nil && rec.Msg == msg {
			return l
		}
	}
	t.Fatalf("no %q line in the log:\n%s", msg, logs)
	return ""
}
