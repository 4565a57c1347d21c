package main

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"
	"github.com/sessiond/sessiond/internal/kclient/kafkatest"
	"github.com/sessiond/sessiond/schemas"
	"github.com/sessiond/sessiond/schemas/eventjson"
)

// env is one pipeline's topics on a test broker.
type env struct {
	brokers                               []string
	cart, customer, action, out, dlq, grp string
}

// newEnv creates fresh, randomly named topics with n partitions.
func newEnv(t *testing.T, n int) *env {
	t.Helper()
	e := &env{
		brokers:  kafkatest.Brokers(t),
		cart:     kafkatest.Name("cart"),
		customer: kafkatest.Name("customer"),
		action:   kafkatest.Name("actions"),
		out:      kafkatest.Name("updates"),
		dlq:      kafkatest.Name("dlq"),
		grp:      kafkatest.Name("sessiond"),
	}
	kafkatest.CreateTopics(t, e.brokers, n, e.cart, e.customer, e.action, e.out, e.dlq)
	return e
}

func (e *env) topicFlags() []string {
	return []string{"--brokers", strings.Join(e.brokers, ","),
		"--cart-topic", e.cart, "--customer-topic", e.customer, "--action-topic", e.action}
}

func (e *env) runFlags() []string {
	return append(e.topicFlags(), "--group", e.grp, "--output-topic", e.out, "--dlq-topic", e.dlq,
		"--http-addr", "", "--log-level", "warn")
}

// produce publishes JSON lines with `sessiond produce`.
func (e *env) produce(t *testing.T, lines string) {
	t.Helper()
	var stderr bytes.Buffer
	code := Main(context.Background(), append([]string{"produce"}, e.topicFlags()...),
		stdio{in: strings.NewReader(lines), out: &bytes.Buffer{}, err: &stderr})
	if code != 0 {
		t.Fatalf("produce exited %d: %s", code, stderr.String())
	}
}

// start runs `sessiond run` until the test ends (or stop is called) and
// returns stop, which cancels it and waits for the drain.
func (e *env) start(t *testing.T, extra ...string) (stop func()) {
	t.Helper()
	stop, _ = e.startLogged(t, extra...)
	return stop
}

// startLogged is start that also returns what `sessiond run` writes to
// stderr (its JSON log).
func (e *env) startLogged(t *testing.T, extra ...string) (stop func(), stderr *syncBuffer) {
	t.Helper()
	end, stderr := e.startEndable(t, extra...)
	return func() { end(nil) }, stderr
}

// startEndable is startLogged whose end cancels the context with a cause
// (signalReceived to end it as a signal does in main) and waits for the
// drain.
func (e *env) startEndable(t *testing.T, extra ...string) (end func(cause error), stderr *syncBuffer) {
	t.Helper()
	ctx, cancel := context.WithCancelCause(context.Background())
	var wg sync.WaitGroup
	stderr = &syncBuffer{}
	wg.Add(1)
	go func() {
		defer wg.Done()
		if code := Main(ctx, append(append([]string{"run"}, e.runFlags()...), extra...),
			stdio{in: strings.NewReader(""), out: &bytes.Buffer{}, err: stderr}); code != 0 {
			t.Errorf("run exited %d: %s", code, stderr.String())
		}
	}()
	var once sync.Once
	end = func(cause error) { once.Do(func() { cancel(cause); wg.Wait() }) }
	t.Cleanup(func() { end(nil) })
	return end, stderr
}

// updates reads the output topic until n updates are there and returns
// them as JSON lines (the reduce format), per partition in offset order.
func (e *env) updates(t *testing.T, n int, timeout time.Duration) []string {
	t.Helper()
	msgs := kafkatest.ReadUntil(t, e.brokers, e.out, timeout, func(m []kafka.Message) bool { return len(m) >= n })
	return decodeUpdates(t, msgs)
}

func decodeUpdates(t *testing.T, msgs []kafka.Message) []string {
	t.Helper()
	codecs, err := schemas.Load()
	if err != nil {
		t.Fatal(err)
	}
	out := make([]string, len(msgs))
	for i, m := range msgs {
		u, err := codecs.DecodeUpdate(m.Value)
		if err != nil {
			t.Fatalf("decode update at %s/%d@%d: %v", m.Topic, m.Partition, m.Offset, err)
		}
		out[i] = string(eventjson.AppendUpdate(nil, u))
	}
	return out
}

// syncBuffer is a bytes.Buffer safe for the concurrent writes of a logger.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

var _ = fmt.Sprint
