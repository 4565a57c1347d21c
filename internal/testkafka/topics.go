package testkafka

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/sessiond/sessiond/internal/kafkautil"
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
	c := kafkautil.NewClient(brokers)
	specs := make([]kafkautil.TopicSpec, len(names))
	for i, n := range names {
		specs[i] = kafkautil.TopicSpec{Name: n, Partitions: partitions}
	}
	if err := kafkautil.EnsureTopics(ctx, c, specs...); err != nil {
		tb.Fatalf("create topics: %v", err)
	}
	for {
		counts, err := kafkautil.PartitionCounts(ctx, c, names...)
		if err == nil {
			ok := true
			for _, n := range names {
				ok = ok && counts[n] == partitions
			}
			if ok {
				return
			}
		}
		select {
		case <-ctx.Done():
			tb.Fatalf("topics %v not visible: %v", names, err)
		case <-time.After(100 * time.Millisecond):
		}
	}
}
