package kclient

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/segmentio/kafka-go"
)

// ErrTopicMissing reports a topic the cluster does not know.
var ErrTopicMissing = errors.New("topic does not exist")

// PartitionCounts returns the number of partitions of each named topic. A
// topic the cluster does not have is an error wrapping ErrTopicMissing.
func PartitionCounts(ctx context.Context, c *kafka.Client, topics ...string) (map[string]int, error) {
	md, err := c.Metadata(ctx, &kafka.MetadataRequest{Topics: topics})
	if err != nil {
		return nil, fmt.Errorf("read metadata: %w", err)
	}
	counts := make(map[string]int, len(topics))
	for _, t := range md.Topics {
		if t.Error != nil && !errors.Is(t.Error, kafka.UnknownTopicOrPartition) {
			return nil, fmt.Errorf("topic %q: %w", t.Name, t.Error)
		}
		if t.Error == nil {
			counts[t.Name] = len(t.Partitions)
		}
	}
	var missing []string
	for _, t := range topics {
		if _, ok := counts[t]; !ok {
			missing = append(missing, strconv.Quote(t))
		}
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("topic %s: %w", strings.Join(missing, ", "), ErrTopicMissing)
	}
	return counts, nil
}

// TopicSpec describes a topic to create if it is missing.
type TopicSpec struct {
	Name       string
	Partitions int
	Compact    bool // cleanup.policy=compact
	// ReplicationFactor: 0 or -1 take the brokers' default.
	ReplicationFactor int
	// MinInsyncReplicas sets min.insync.replicas; 0 or -1 leave the
	// brokers' default.
	MinInsyncReplicas int
}

// compactedTopicConfig is what a changelog is created with: compacted, and
// rolling a segment at least hourly (or every 64 MiB) so that the cleaner,
// which never touches the active segment, keeps restores close to one record
// per key instead of waiting for Kafka's default week or gigabyte.
var compactedTopicConfig = []kafka.ConfigEntry{
	{ConfigName: "cleanup.policy", ConfigValue: "compact"},
	{ConfigName: "segment.ms", ConfigValue: "3600000"},
	{ConfigName: "segment.bytes", ConfigValue: "67108864"},
}

// EnsureTopics creates the topics that do not exist yet, with their
// replication factor (the cluster's default unless set). Topics that exist
// are left as they are.
func EnsureTopics(ctx context.Context, c *kafka.Client, specs ...TopicSpec) error {
	req := &kafka.CreateTopicsRequest{}
	for _, s := range specs {
		tc := kafka.TopicConfig{Topic: s.Name, NumPartitions: s.Partitions, ReplicationFactor: -1}
		if s.ReplicationFactor > 0 {
			tc.ReplicationFactor = s.ReplicationFactor
		}
		if s.Compact {
			tc.ConfigEntries = append(tc.ConfigEntries, compactedTopicConfig...)
		}
		if s.MinInsyncReplicas > 0 {
			tc.ConfigEntries = append(tc.ConfigEntries, kafka.ConfigEntry{ConfigName: "min.insync.replicas", ConfigValue: strconv.Itoa(s.MinInsyncReplicas)})
		}
		req.Topics = append(req.Topics, tc)
	}
	if len(req.Topics) == 0 {
		return nil
	}
	resp, err := c.CreateTopics(ctx, req)
	if err != nil {
		return fmt.Errorf("create topics: %w", err)
	}
	for name, err := range resp.Errors {
		if err != nil && !errors.Is(err, kafka.TopicAlreadyExists) {
			return fmt.Errorf("create topic %q: %w", name, err)
		}
	}
	return nil
}

// CheckCoPartitioned returns the common partition count of the topics, or
// an error naming each topic's count when they differ.
func CheckCoPartitioned(counts map[string]int, topics ...string) (int, error) {
	n := -1
	same := true
	desc := ""
	for i, t := range topics {
		if i > 0 {
			desc += ", "
		}
		desc += t + "=" + strconv.Itoa(counts[t])
		if n == -1 {
			n = counts[t]
		} else if counts[t] != n {
			same = false
		}
	}
	if !same {
		return 0, fmt.Errorf("input topics must have equal partition counts to be co-partitioned, have %s", desc)
	}
	return n, nil
}

// Replication is a topic's replication as the metadata shows it.
type Replication struct {
	Factor int // replicas of its least-replicated partition
	InSync int // in-sync replicas of its least-in-sync partition
}

// Replications returns each named topic's replication and the number of
// brokers in the cluster. Topics the cluster does not have are left out.
func Replications(ctx context.Context, c *kafka.Client, topics ...string) (map[string]Replication, int, error) {
	md, err := c.Metadata(ctx, &kafka.MetadataRequest{Topics: topics})
	if err != nil {
		return nil, 0, fmt.Errorf("read metadata: %w", err)
	}
	out := make(map[string]Replication, len(topics))
	for _, t := range md.Topics {
		if t.Error != nil || len(t.Partitions) == 0 {
			continue
		}
		r := Replication{Factor: len(t.Partitions[0].Replicas), InSync: len(t.Partitions[0].Isr)}
		for _, p := range t.Partitions[1:] {
			r.Factor = min(r.Factor, len(p.Replicas))
			r.InSync = min(r.InSync, len(p.Isr))
		}
		out[t.Name] = r
	}
	return out, len(md.Brokers), nil
}
