package service

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sessiond/sessiond/internal/config"
	"github.com/sessiond/sessiond/internal/kclient/kafkatest"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// countRequests starts an embedded cluster that counts the requests of
// the given API keys it is sent.
func countRequests(t *testing.T, keys ...kmsg.Key) ([]string, map[kmsg.Key]*atomic.Int64) {
	t.Helper()
	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.AllowAutoTopicCreation())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	counts := map[kmsg.Key]*atomic.Int64{}
	for _, k := range keys {
		n := &atomic.Int64{}
		counts[k] = n
		c.ControlKey(int16(k), func(kmsg.Request) (kmsg.Response, error, bool) {
			c.KeepControl()
			n.Add(1)
			return nil, nil, false
		})
	}
	return c.ListenAddrs(), counts
}

// Run checks and creates the topics once: the changelog and dead-letter
// topics are created by one CreateTopics request, not one per layer that
// used to prepare the pipeline again (Service.Run, Processor.Prepare and
// Processor.Run each did).
func TestRunPreparesOnce(t *testing.T) {
	brokers, counts := countRequests(t, kmsg.CreateTopics)
	cfg := testConfig(t, brokers)
	inputs := cfg.Consumer.InputTopics()
	kafkatest.CreateTopics(t, brokers, 2, append(inputs[:], cfg.Kafka.Topic)...)
	before := counts[kmsg.CreateTopics].Load()
	svc, err := New(cfg, quiet())
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- svc.Run(ctx, nil) }()
	for !svc.Status().Ready() {
		select {
		case err := <-done:
			t.Fatalf("Run ended before it was ready: %v", err)
		case <-time.After(20 * time.Millisecond):
		}
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if n := counts[kmsg.CreateTopics].Load() - before; n != 1 {
		t.Errorf("%d CreateTopics requests at start, want 1", n)
	}
}

// A New that fails once it has built parts (here the Nosto sink, refused
// for its missing token after the dead-letter writer and the connection
// exist) releases them; a New that succeeds holds them until Close.
func TestNewReleasesWhatItBuiltWhenItFails(t *testing.T) {
	base := openAssemblies.Load()
	cfg := DefaultConfig()
	cfg.Nosto.Endpoint = "http://127.0.0.1:1/v1/graphql" // no token
	_, err := New(cfg, quiet())
	if field, _ := config.FieldOf(err); field != "Nosto.Token" {
		t.Fatalf("New without a Nosto token: %v (field %q), want a refusal of Nosto.Token", err, field)
	}
	if n := openAssemblies.Load() - base; n != 0 {
		t.Fatalf("%d assemblies left open by a failed New", n)
	}
	svc, err := New(DefaultConfig(), quiet())
	if err != nil {
		t.Fatal(err)
	}
	if n := openAssemblies.Load() - base; n != 1 {
		t.Fatalf("%d assemblies open after New, want 1", n)
	}
	svc.Close()
	svc.Close()
	if n := openAssemblies.Load() - base; n != 0 {
		t.Fatalf("%d assemblies open after Close", n)
	}
}
