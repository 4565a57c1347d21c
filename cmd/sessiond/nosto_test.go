package main

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

// nostoServer accepts every GraphQL request and records the mutations'
// variables (not the start-up probe's query).
type nostoServer struct {
	srv    *httptest.Server
	mu     sync.Mutex
	vars   []map[string]any
	probes int
}

func newNostoServer(t *testing.T) *nostoServer {
	n := &nostoServer{}
	n.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		var req struct {
			Query     string         `json:"query"`
			Variables map[string]any `json:"variables"`
		}
		if json.Unmarshal(body, &req) != nil || r.Header.Get("Authorization") == "" {
			http.Error(w, "bad request", http.StatusBadRequest)
			return
		}
		if !strings.HasPrefix(req.Query, "mutation") {
			n.mu.Lock()
			n.probes++
			n.mu.Unlock()
			w.Write([]byte(`{"data":{"__typename":"Query"}}`))
			return
		}
		n.mu.Lock()
		n.vars = append(n.vars, req.Variables)
		n.mu.Unlock()
		w.Write([]byte(`{"data":{"updateSession":{"id":"s"}}}`))
	}))
	t.Cleanup(n.srv.Close)
	return n
}

func (n *nostoServer) count() int {
	n.mu.Lock()
	defer n.mu.Unlock()
	return len(n.vars)
}

// Both sinks at once: every update reaches the output topic and Nosto;
// with --output-topic "" only Nosto is written.
func TestPipelineNostoSink(t *testing.T) {
	t.Setenv("SESSIOND_NOSTO_TOKEN", "test-token")
	e := newEnv(t, 2)
	lines := stream(t, 21, 40, 1200)
	want := reduceLines(t, lines)
	e.produce(t, join(lines))
	both := newNostoServer(t)
	stop := e.start(t, "--nosto-endpoint", both.srv.URL)
	assertSameUpdates(t, e.updates(t, len(want), 2*time.Minute), want)
	waitFor(t, time.Minute, "every update at Nosto", func() bool { return both.count() >= len(want) })
	stop()
	if both.count() != len(want) {
		t.Errorf("Nosto got %d requests, want %d", both.count(), len(want))
	}

	only := newNostoServer(t)
	e.grp += "-nosto-only"
	e.start(t, "--nosto-endpoint", only.srv.URL, "--output-topic", "")
	waitFor(t, time.Minute, "every update at Nosto", func() bool { return only.count() >= len(want) })
}
