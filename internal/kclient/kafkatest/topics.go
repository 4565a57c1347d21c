package kafkatest

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"
	"github.com/sessiond/sessiond/internal/kclient"
)

// Name returns a topic or group name unique to this run: prefix plus a
// random suffix, so tests sharing a cluster never see each other's data.
func Name(prefix string) string {
	return fmt.Sprintf("%s-%d-%06d", prefix, time.Now().UnixNano()%1e9, rand.IntN(1e6))
}

// CreateTopics creates the topics with the given partition count and waits
// until their metadata is visible.
func CreateTopics(tb testing.TB, brokers []string, partitions int, names ...string) {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	c := kclient.PlainConn(brokers).Client()
	specs := make([]kclient.TopicSpec, len(names))
	for i, n := range names {
		specs[i] = kclient.TopicSpec{Name: n, Partitions: partitions}
	}
	if err := kclient.EnsureTopics(ctx, c, specs...); err != nil {
		tb.Fatalf("create topics: %v", err)
	}
	var err error
	for {
		if err = ready(ctx, c, partitions, names); err == nil {
			return
		}
		select {
		case <-ctx.Done():
			tb.Fatalf("topics %v not visible: %v", names, err)
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// ready reports whether every partition of every topic has a leader that
// answers offset requests.
func ready(ctx context.Context, c *kafka.Client, partitions int, names []string) error {
	counts, err := kclient.PartitionCounts(ctx, c, names...)
	if err != nil {
		return err
	}
	for _, n := range names {
		if counts[n] != partitions {
			return fmt.Errorf("topic %s has %d partitions", n, counts[n])
		}
		wctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		err := kclient.WaitLeaders(wctx, c, n, partitions)
		cancel()
		if err != nil {
			return err
		}
	}
	return nil
}
