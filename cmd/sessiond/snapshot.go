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
// partition to its end and returns the latest record of the visitor as
// JSON; "null" when it has none (never seen, expired or swept).
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
	offs, err := kclient.Offsets(ctx, client, changelog, p)
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
	var latest []byte
	found := false
	for off := rng.First; off < rng.End; {
		m, err := r.ReadMessage(ctx)
		if err != nil {
			return nil, fmt.Errorf("read %s/%d: %w", changelog, p, err)
		}
		if string(m.Key) == visitor {
			latest, found = m.Value, true
		}
		off = m.Offset + 1
	}
	if !found || len(latest) == 0 {
		return []byte("null"), nil
	}
	codecs, err := schemas.Load()
	if err != nil {
		return nil, err
	}
	s, err := codecs.DecodeSnapshot(latest)
	if err != nil {
		return nil, fmt.Errorf("decode the snapshot of %q: %w", visitor, err)
	}
	return eventjson.AppendSnapshot(nil, visitor, s), nil
}
