package main

import (
	"context"
	"fmt"

	"github.com/segmentio/kafka-go"
	"github.com/sessiond/sessiond/cmd/kafkaflags"
	"github.com/sessiond/sessiond/consumer"
	"github.com/sessiond/sessiond/internal/kclient"
	"github.com/sessiond/sessiond/schemas"
	"github.com/sessiond/sessiond/schemas/eventjson"
)

func init() {
	register("snapshot", command{summary: "print one visitor's current snapshot from the changelog, as JSON", run: runSnapshot})
}

func runSnapshot(ctx context.Context, args []string, io stdio) error {
	connCfg := kclient.DefaultConnConfig()
	var passwordFile string
	fs := newFlagSet("snapshot", io)
	kafkaflags.Bind(fs, &connCfg, &passwordFile)
	group := fs.String("group", consumer.DefaultGroup, "consumer group whose changelog <group>-snapshots is read")
	changelog := fs.String("changelog-topic", "", "changelog topic (default: <group>-snapshots)")
	actionTopic := fs.String("action-topic", consumer.DefaultActionTopic, "an input topic, for the partition count")
	ids, flagArgs := splitPositional(args)
	if err := parseFlags(fs, flagArgs); err != nil {
		return err
	}
	if len(ids) != 1 || ids[0] == "" {
		return usagef("give exactly one visitor id: sessiond snapshot [flags] VISITOR_ID")
	}
	if *changelog == "" {
		*changelog = consumer.ChangelogTopicOf(*group)
	}
	conn, err := openConn(ctx, connCfg, passwordFile)
	if err != nil {
		return err
	}
	defer conn.Close()
	line, err := readSnapshot(ctx, conn, *changelog, *actionTopic, ids[0])
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(io.out, "%s\n", line)
	return err
}

// readSnapshot finds the visitor's partition as the producers do (murmur2
// of the visitor id over the input partition count), reads that changelog
// partition to its end and returns the visitor's latest record as JSON
// (snapshotJSON).
func readSnapshot(ctx context.Context, conn *kclient.Conn, changelog, inputTopic, visitor string) ([]byte, error) {
	client := conn.Client()
	counts, err := kclient.PartitionCounts(ctx, client, inputTopic, changelog)
	if err != nil {
		return nil, err
	}
	parts := make([]int, counts[inputTopic])
	for i := range parts {
		parts[i] = i
	}
	p := (&kafka.Murmur2Balancer{}).Balance(kafka.Message{Key: []byte(visitor)}, parts...)
	latest, err := latestRecord(ctx, conn, changelog, p, visitor)
	if err != nil {
		return nil, err
	}
	return snapshotJSON(visitor, latest)
}

// latestRecord reads partition p of the changelog to its end and returns
// the visitor's last record; nil when it has none.
func latestRecord(ctx context.Context, conn *kclient.Conn, changelog string, p int, visitor string) (*kafka.Message, error) {
	offs, err := kclient.Offsets(ctx, conn.Client(), changelog, p)
	if err != nil {
		return nil, err
	}
	rng := offs[p]
	rc := conn.ReaderConfig(changelog, p)
	rc.MinBytes, rc.MaxBytes, rc.MaxWait = 1, 4<<20, tailReadWait
	r := kafka.NewReader(rc)
	defer r.Close()
	if err := r.SetOffset(rng.First); err != nil {
		return nil, err
	}
	var latest *kafka.Message
	for off := rng.First; off < rng.End; {
		m, err := r.ReadMessage(ctx)
		if err != nil {
			return nil, fmt.Errorf("read %s/%d: %w", changelog, p, err)
		}
		if string(m.Key) == visitor {
			latest = &m
		}
		off = m.Offset + 1
	}
	return latest, nil
}

// Snapshot states printed for a visitor without a snapshot.
const (
	// stateUnknown: the changelog has no record of the visitor: never
	// seen (or its tombstone already compacted away).
	stateUnknown = "unknown"
	// stateSwept: the visitor's last record is a tombstone, which only
	// the sweep writes, for a visitor idle beyond --session-ttl.
	stateSwept = "swept"
)

// snapshotJSON is the output for the visitor's latest changelog record:
// the snapshot (eventjson.AppendSnapshot) when it is one;
// {"visitor_id":…,"state":"swept","tombstoned_at":…} for a tombstone,
// with the tombstone's Kafka timestamp; {"visitor_id":…,"state":"unknown"}
// without a record.
func snapshotJSON(visitor string, latest *kafka.Message) ([]byte, error) {
	out := append(eventjson.AppendString([]byte(`{"visitor_id":`), visitor), `,"state":"`...)
	switch {
	case latest == nil:
		return append(out, stateUnknown+`"}`...), nil
	case len(latest.Value) == 0:
		out = append(out, stateSwept+`","tombstoned_at":"`...)
		out = latest.Time.UTC().AppendFormat(out, "2006-01-02T15:04:05.000Z")
		return append(out, `"}`...), nil
	}
	codecs, err := schemas.Load()
	if err != nil {
		return nil, err
	}
	s, err := codecs.DecodeSnapshot(latest.Value)
	if err != nil {
		return nil, fmt.Errorf("decode the snapshot of %q: %w", visitor, err)
	}
	return eventjson.AppendSnapshot(nil, visitor, s), nil
}
