package main

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/segmentio/kafka-go"
	"github.com/sessiond/sessiond/internal/kclient"
	"github.com/sessiond/sessiond/reducer"
)

// topics are one run's fresh topics and group.
type topics struct {
	input         [3]string // by reducer.Kind
	output, dlq   string
	replayed      string // the replay phase's output
	group         string
	changelog     string // created by sessiond: <group>-snapshots
	partitionList []int
	replication   int // 0: the brokers' default
}

// newTopics names a run's topics with a random suffix, so runs sharing a
// broker never see each other's data.
func newTopics(partitions int) *topics {
	id := fmt.Sprintf("%d-%04d", time.Now().Unix()%1e6, rand.IntN(1e4))
	t := &topics{group: "load-" + id}
	t.input[reducer.KindCart] = "load-" + id + "-cart"
	t.input[reducer.KindCustomer] = "load-" + id + "-customer"
	t.input[reducer.KindAction] = "load-" + id + "-actions"
	t.output = "load-" + id + "-updates"
	t.dlq = "load-" + id + "-dlq"
	t.replayed = "load-" + id + "-replayed"
	t.changelog = t.group + "-snapshots"
	for p := range partitions {
		t.partitionList = append(t.partitionList, p)
	}
	return t
}

// created are the topics this command creates (not the changelog).
func (t *topics) created() []string {
	return []string{t.input[0], t.input[1], t.input[2], t.output, t.dlq, t.replayed}
}

// create creates the topics and waits until every partition's leader
// answers offset requests.
func (t *topics) create(ctx context.Context, c *kafka.Client) error {
	var specs []kclient.TopicSpec
	for _, name := range t.created() {
		specs = append(specs, kclient.TopicSpec{Name: name, Partitions: len(t.partitionList), ReplicationFactor: t.replication})
	}
	if err := kclient.EnsureTopics(ctx, c, specs...); err != nil {
		return err
	}
	return waitFor(ctx, 60*time.Second, 100*time.Millisecond, func() error {
		for _, name := range t.created() {
			if _, err := kclient.Offsets(ctx, c, name, t.partitionList...); err != nil {
				return err
			}
		}
		return nil
	})
}

// delete deletes the topics and the changelog, best effort.
func (t *topics) delete(ctx context.Context, c *kafka.Client) error {
	resp, err := c.DeleteTopics(ctx, &kafka.DeleteTopicsRequest{Topics: append(t.created(), t.changelog)})
	if err != nil {
		return fmt.Errorf("delete topics: %w", err)
	}
	for name, err := range resp.Errors {
		if err != nil && !errors.Is(err, kafka.UnknownTopicOrPartition) {
			return fmt.Errorf("delete topic %s: %w", name, err)
		}
	}
	return nil
}

// endOffsets returns the high watermark of every partition of topic.
func endOffsets(ctx context.Context, c *kafka.Client, topic string, partitions []int) (map[int]int64, error) {
	offs, err := kclient.Offsets(ctx, c, topic, partitions...)
	if err != nil {
		return nil, err
	}
	out := make(map[int]int64, len(offs))
	for p, r := range offs {
		out[p] = r.End
	}
	return out, nil
}

// countRecords returns the number of records topic holds (high watermarks
// minus log starts, summed).
func countRecords(ctx context.Context, c *kafka.Client, topic string, partitions []int) (int64, error) {
	return countRecordsAt(ctx, c, kafka.ReadUncommitted, topic, partitions)
}

// countRecordsAt is countRecords up to the last stable offsets under
// ReadCommitted (a transaction's records count once it has committed; its
// commit markers, one offset per partition and transaction, count too: a
// few hundred in a million).
func countRecordsAt(ctx context.Context, c *kafka.Client, iso kafka.IsolationLevel, topic string, partitions []int) (int64, error) {
	offs, err := kclient.OffsetsAt(ctx, c, iso, topic, partitions...)
	if err != nil {
		return 0, err
	}
	var n int64
	for _, r := range offs {
		n += r.End - r.First
	}
	return n, nil
}

// waitFor calls cond every interval until it returns nil or a permanent
// error, ctx ends or timeout passes; it then returns cond's last error.
func waitFor(ctx context.Context, timeout, interval time.Duration, cond func() error) error {
	deadline := time.Now().Add(timeout)
	for {
		err := cond()
		if err == nil {
			return nil
		}
		var perm permanentError
		if errors.As(err, &perm) {
			return perm.err
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("not done after %v: %w", timeout, err)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(interval):
		}
	}
}

// replicationOf returns the replication factor of topic's first partition.
func replicationOf(ctx context.Context, c *kafka.Client, topic string) (int, error) {
	md, err := c.Metadata(ctx, &kafka.MetadataRequest{Topics: []string{topic}})
	if err != nil {
		return 0, fmt.Errorf("metadata of %s: %w", topic, err)
	}
	if len(md.Topics) != 1 || len(md.Topics[0].Partitions) == 0 {
		return 0, fmt.Errorf("metadata of %s: no partitions", topic)
	}
	return len(md.Topics[0].Partitions[0].Replicas), nil
}
