package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"
)

// demoNosto is `sessiond demo --nosto`'s stand-in for Nosto's GraphQL API:
// it accepts every mutation and prints it, with names and e-mails
// redacted, so a newcomer sees exactly what would reach Nosto; the
// start-up probe's query is answered, not printed.
type demoNosto struct {
	ln  net.Listener
	url string
	out io.Writer
	mu  sync.Mutex
}

func newDemoNosto(out io.Writer) (*demoNosto, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("demo nosto server: %w", err)
	}
	return &demoNosto{ln: ln, url: "http://" + ln.Addr().String() + "/v1/graphql", out: out}, nil
}

// serve answers until ctx ends, calling received for every mutation.
func (n *demoNosto) serve(ctx context.Context, received func()) error {
	srv := &http.Server{ReadHeaderTimeout: 5 * time.Second, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var req struct {
			Query     string         `json:"query"`
			Variables map[string]any `json:"variables"`
		}
		if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
			http.Error(w, "bad request", http.StatusBadRequest)
			return
		}
		if !strings.HasPrefix(strings.TrimSpace(req.Query), "mutation") { // sessiond's start-up probe
			w.Header().Set("Content-Type", "application/json")
			w.Write([]byte(`{"data":{"__typename":"Query"}}`))
			return
		}
		op := "updateSession"
		if strings.Contains(req.Query, "placeOrder") {
			op = "placeOrder"
		}
		redact(req.Variables)
		line, _ := json.Marshal(map[string]any{"mutation": op, "variables": req.Variables})
		n.mu.Lock()
		n.out.Write(append(line, '\n'))
		n.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(`{"data":{"` + op + `":{"id":"demo"}}}`))
		received()
	})}
	stop := context.AfterFunc(ctx, func() { srv.Close() })
	defer stop()
	if err := srv.Serve(n.ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// redact replaces personal fields (e-mail, names) anywhere in v.
func redact(v any) {
	switch x := v.(type) {
	case map[string]any:
		for k, val := range x {
			switch k {
			case "email", "firstName", "lastName":
				x[k] = "<redacted>"
			default:
				redact(val)
			}
		}
	case []any:
		for _, e := range x {
			redact(e)
		}
	}
}
