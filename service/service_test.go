package service

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/sessiond/sessiond/internal/kclient"
	"github.com/sessiond/sessiond/internal/kclient/kafkatest"
)

func quiet() *slog.Logger { return slog.New(slog.DiscardHandler) }

// testConfig is the defaults on fresh, randomly named topics.
func testConfig(t *testing.T, brokers []string) Config {
	t.Helper()
	cfg := DefaultConfig()
	c := &cfg.Consumer
	cfg.Conn.Brokers = brokers
	c.Group = kafkatest.Name("grp")
	c.CartTopic, c.CustomerTopic, c.ActionTopic = kafkatest.Name("cart"), kafkatest.Name("customer"), kafkatest.Name("actions")
	c.DeadLetterTopic = kafkatest.Name("dlq")
	cfg.Kafka.Topic = kafkatest.Name("out")
	cfg.HTTPAddr = "127.0.0.1:0"
	return cfg
}

func TestConfigValidate(t *testing.T) {
	tests := []struct {
		name, wantErr string
		edit          func(*Config)
	}{
		{"defaults", "", func(*Config) {}},
		{"no sink", "no sink", func(c *Config) { c.Kafka.Topic = "" }},
		{"unknown wire format", "wire format", func(c *Config) { c.WireFormat = "json" }},
		{"output is an input", "also an input", func(c *Config) { c.Kafka.Topic = c.Consumer.ActionTopic }},
		{"output is the changelog", "also an input", func(c *Config) { c.Kafka.Topic = "sessiond-snapshots" }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := DefaultConfig()
			tt.edit(&c)
			err := c.Validate()
			if (err == nil) != (tt.wantErr == "") || err != nil && !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("Validate() = %v, want %q", err, tt.wantErr)
			}
		})
	}
}

// New refuses a consumer config that Validate refuses, naming the problem.
func TestNewRefusesInvalidConsumerConfig(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Consumer.Group = ""
	if _, err := New(cfg, quiet()); err == nil || !strings.Contains(err.Error(), "group") {
		t.Errorf("New with an empty group: %v, want an error about the group", err)
	}
}

func TestHandler(t *testing.T) {
	svc, err := New(DefaultConfig(), quiet())
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(svc.Handler())
	defer srv.Close()
	for path, want := range map[string]int{"/livez": 200, "/readyz": 503, "/metrics": 200} {
		resp, err := http.Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != want {
			t.Errorf("GET %s = %d, want %d", path, resp.StatusCode, want)
		}
		if path != "/metrics" {
			continue
		}
		// Series an alert rule would use exist at zero before any event.
		for _, series := range []string{
			"sessiond_rebalances_total 0",
			`sessiond_dead_letters_total{reason="decode",topic="actions"} 0`,
			`sessiond_dead_letters_total{reason="invalid",topic="cart-changed"} 0`,
			`sessiond_events_total{kind="action",outcome="rejected"} 0`,
			`sessiond_updates_total{action="add_order"} 0`,
			`sessiond_write_retries_total{target="commit"} 0`,
			`sessiond_clock_skew_events_total{direction="ahead"} 0`,
			`sessiond_build_info{commit=`,
			`sessiond_kafka_requests_total{api="produce"} 0`,
			`sessiond_kafka_request_parts_total{api="fetch"} 0`,
			`sessiond_kafka_produced_records_total 0`,
		} {
			if !strings.Contains(string(body), series) {
				t.Errorf("/metrics lacks %s", series)
			}
		}
	}
}

// Run checks everything before it changes anything: with the output topic
// missing it refuses, and neither the changelog nor the dead-letter topic
// has been created.
func TestRunChecksBeforeCreating(t *testing.T) {
	brokers := kafkatest.Embedded(t)
	cfg := testConfig(t, brokers)
	inputs := cfg.Consumer.InputTopics()
	kafkatest.CreateTopics(t, brokers, 2, inputs[:]...)
	svc, err := New(cfg, quiet())
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	err = svc.Run(ctx, nil)
	if err == nil || !strings.Contains(err.Error(), "output topic") {
		t.Fatalf("Run without an output topic: %v, want a refusal naming it", err)
	}
	client := kclient.PlainConn(brokers).Client()
	for _, topic := range []string{cfg.Consumer.Changelog(), cfg.Consumer.DeadLetterTopic} {
		if _, err := kclient.PartitionCounts(ctx, client, topic); err == nil {
			t.Errorf("topic %s was created before the refusal", topic)
		}
	}
}

// A busy HTTP port is found before any topic is created, too.
func TestRunChecksHTTPAddrBeforeCreating(t *testing.T) {
	brokers := kafkatest.Embedded(t)
	cfg := testConfig(t, brokers)
	inputs := cfg.Consumer.InputTopics()
	kafkatest.CreateTopics(t, brokers, 1, append(inputs[:], cfg.Kafka.Topic)...)
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	cfg.HTTPAddr = busy.Addr().String()
	svc, err := New(cfg, quiet())
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := svc.Run(ctx, nil); err == nil || !strings.Contains(err.Error(), "listen") {
		t.Fatalf("Run on a busy port: %v, want a listen error", err)
	}
	if _, err := kclient.PartitionCounts(ctx, kclient.PlainConn(brokers).Client(), cfg.Consumer.Changelog()); err == nil {
		t.Error("the changelog was created before the refusal")
	}
}

// Run serves, becomes ready, and returns nil after a clean drain.
func TestRunServesAndDrains(t *testing.T) {
	brokers := kafkatest.Embedded(t)
	cfg := testConfig(t, brokers)
	inputs := cfg.Consumer.InputTopics()
	kafkatest.CreateTopics(t, brokers, 2, append(inputs[:], cfg.Kafka.Topic)...)
	svc, err := New(cfg, quiet())
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	addr := make(chan net.Addr, 1)
	done := make(chan error, 1)
	go func() { done <- svc.Run(ctx, func(a net.Addr) { addr <- a }) }()
	var url string
	select {
	case a := <-addr:
		url = "http://" + a.String() + "/readyz"
	case err := <-done:
		t.Fatalf("Run returned before serving: %v", err)
	case <-time.After(60 * time.Second):
		t.Fatal("Run did not start serving")
	}
	deadline := time.Now().Add(60 * time.Second)
	for {
		resp, err := http.Get(url)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatal("never ready")
		}
		time.Sleep(50 * time.Millisecond)
	}
	// The input readers' fetches go out merged: as many partition fetches
	// as requests at least (2 partitions of 3 topics share rounds).
	metrics := strings.TrimSuffix(url, "readyz") + "metrics"
	for {
		reqs, parts := scrapeValue(t, metrics, `sessiond_kafka_requests_total{api="fetch"}`), scrapeValue(t, metrics, `sessiond_kafka_request_parts_total{api="fetch"}`)
		if reqs >= 1 && parts >= reqs {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("fetch requests %v carrying %v partition fetches, want at least one, and no fewer parts than requests", reqs, parts)
		}
		time.Sleep(50 * time.Millisecond)
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Run after cancel = %v, want nil", err)
		}
	case <-time.After(60 * time.Second):
		t.Fatal("Run did not drain")
	}
}

// scrapeValue returns the value of series on the /metrics page at url.
func scrapeValue(t *testing.T, url, series string) float64 {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	for _, line := range strings.Split(string(body), "\n") {
		if v, ok := strings.CutPrefix(line, series+" "); ok {
			f, err := strconv.ParseFloat(v, 64)
			if err != nil {
				t.Fatalf("%s: %v", line, err)
			}
			return f
		}
	}
	t.Fatalf("/metrics lacks %s", series)
	return 0
}
