package service

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"
	"github.com/sessiond/sessiond/internal/config"
	"github.com/sessiond/sessiond/internal/kclient"
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

// On a cluster of three brokers, a topic sessiond depends on with a single
// replica is named in a warning on the status page (and in the log); the
// topics it creates itself get --replication-factor and are not.
func TestRunWarnsAboutUnreplicatedTopics(t *testing.T) {
	c, err := kfake.NewCluster(kfake.NumBrokers(3))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	brokers := c.ListenAddrs()
	cfg := testConfig(t, brokers)
	cfg.Consumer.ReplicationFactor, cfg.Consumer.MinInsyncReplicas = 3, 2
	inputs := cfg.Consumer.InputTopics()
	conn := kclient.PlainConn(brokers)
	t.Cleanup(func() { conn.Close() })
	ctx := context.Background()
	specs := []kclient.TopicSpec{{Name: cfg.Kafka.Topic, Partitions: 2, ReplicationFactor: 3}}
	for i, in := range inputs {
		rf := 3
		if i == 0 {
			rf = 1 // the cart topic only
		}
		specs = append(specs, kclient.TopicSpec{Name: in, Partitions: 2, ReplicationFactor: rf})
	}
	if err := kclient.EnsureTopics(ctx, conn.Client(), specs...); err != nil {
		t.Fatal(err)
	}
	svc, err := New(cfg, quiet())
	if err != nil {
		t.Fatal(err)
	}
	rctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- svc.Run(rctx, nil) }()
	for !svc.Status().Ready() {
		select {
		case err := <-done:
			t.Fatalf("Run ended before it was ready: %v", err)
		case <-time.After(20 * time.Millisecond):
		}
	}
	warnings := svc.Status().Report().Warnings
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	want := "topic " + inputs[0] + " has replication factor 1 on a cluster of 3 brokers: a broker lost is its data lost"
	if len(warnings) != 1 || warnings[0] != want {
		t.Fatalf("warnings %q, want only %q", warnings, want)
	}
	reps, _, err := kclient.Replications(ctx, conn.Client(), cfg.Consumer.Changelog(), cfg.Consumer.DeadLetterTopic)
	if err != nil {
		t.Fatal(err)
	}
	for topic, r := range reps {
		if r.Factor != 3 {
			t.Errorf("%s created with %d replicas, want --replication-factor's 3", topic, r.Factor)
		}
	}
	isr, err := topicConfig(ctx, conn, cfg.Consumer.Changelog(), "min.insync.replicas")
	if err != nil {
		t.Fatal(err)
	}
	if isr != "2" {
		t.Errorf("changelog min.insync.replicas = %q, want 2", isr)
	}
}

// topicConfig reads one setting of a topic.
func topicConfig(ctx context.Context, conn *kclient.Conn, topic, name string) (string, error) {
	res, err := conn.Client().DescribeConfigs(ctx, &kafka.DescribeConfigsRequest{Resources: []kafka.DescribeConfigRequestResource{
		{ResourceType: kafka.ResourceTypeTopic, ResourceName: topic, ConfigNames: []string{name}}}})
	if err != nil {
		return "", err
	}
	for _, r := range res.Resources {
		for _, e := range r.ConfigEntries {
			if e.ConfigName == name {
				return e.ConfigValue, nil
			}
		}
	}
	return "", fmt.Errorf("%s has no %s", topic, name)
}
