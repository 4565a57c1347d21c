package main

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/sessiond/sessiond/cmd/kafkaflags"
	"github.com/sessiond/sessiond/internal/kclient"
)

// instance is one running sessiond: a subprocess, or (--profile) a pipeline
// inside this process.
type instance interface {
	// Addr is the host:port of its /readyz and /metrics.
	Addr() string
	// PID is its process id, or -1 when it runs in this process.
	PID() int
	// Logs is its JSON log.
	Logs() *logSink
	// Exited is closed when it has stopped, on its own or by Stop.
	Exited() <-chan struct{}
	// Err is why it stopped, once Exited is closed.
	Err() error
	// Stop asks it to drain and stop (SIGTERM) and waits up to timeout
	// before killing it.
	Stop(timeout time.Duration) error
}

// runArgs are the settings of one `sessiond run`.
type runArgs struct {
	connCfg      kclient.ConnConfig
	passwordFile string
	t            *topics
	httpAddr     string
	logLevel     string
	wire         *wire
	guarantee    string // --processing-guarantee ("": sessiond's default)
}

// flags returns args as `sessiond run` flags.
func (a runArgs) flags() []string {
	args := append(append([]string{"run"}, kafkaflags.Args(&a.connCfg, a.passwordFile)...), "--group", a.t.group,
		"--cart-topic", a.t.input[0], "--customer-topic", a.t.input[1], "--action-topic", a.t.input[2],
		"--output-topic", a.t.output, "--dlq-topic", a.t.dlq,
		"--http-addr", a.httpAddr, "--log-level", a.logLevel)
	if a.t.replication > 0 {
		args = append(args, "--replication-factor", strconv.Itoa(a.t.replication))
	}
	if a.guarantee != "" {
		args = append(args, "--processing-guarantee", a.guarantee)
	}
	return append(args, a.wire.flags()...)
}

// launcher starts instances and stops whatever is still running at the
// end (also on Ctrl-C).
type launcher struct {
	start func(a runArgs) (instance, error)
	bin   string // the sessiond binary of subprocess mode; "" in process
	mu    sync.Mutex
	all   []instance
}

func (l *launcher) launch(a runArgs) (instance, error) {
	in, err := l.start(a)
	if err != nil {
		return nil, err
	}
	l.mu.Lock()
	l.all = append(l.all, in)
	l.mu.Unlock()
	return in, nil
}

// instances returns every instance launched, in order.
func (l *launcher) instances() []instance {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]instance(nil), l.all...)
}

// stopAll stops every instance still running.
func (l *launcher) stopAll() {
	for _, in := range l.instances() {
		select {
		case <-in.Exited():
		default:
			in.Stop(30 * time.Second)
		}
	}
}

// freeAddr returns a loopback address with a port free right now.
func freeAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", fmt.Errorf("find a free port: %w", err)
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

var opsClient = &http.Client{Timeout: 5 * time.Second}

// ready reports whether the instance's /readyz answers 200.
func ready(ctx context.Context, in instance) bool {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+in.Addr()+"/readyz", nil)
	if err != nil {
		return false
	}
	resp, err := opsClient.Do(req)
	if err != nil {
		return false
	}
	resp.Body.Close()
	return resp.StatusCode == http.StatusOK
}

// exitedErr describes an instance that stopped when it should not have.
func exitedErr(in instance) error {
	return fmt.Errorf("sessiond stopped unexpectedly: %w\nlast log lines:\n%s", in.Err(), indent(in.Logs().Tail()))
}

func indent(s string) string {
	if s == "" {
		return "  (none)"
	}
	return "  " + strings.ReplaceAll(s, "\n", "\n  ")
}
