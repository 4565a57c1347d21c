package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"sync"
	"time"

	"github.com/segmentio/kafka-go"
	"github.com/sessiond/sessiond/cmd/kafkaflags"
	"github.com/sessiond/sessiond/emitter"
	"github.com/sessiond/sessiond/internal/config"
	"github.com/sessiond/sessiond/internal/kclient"
	"github.com/sessiond/sessiond/schemas"
	"github.com/sessiond/sessiond/schemas/confluent"
	"github.com/sessiond/sessiond/schemas/eventjson"
	"golang.org/x/sync/errgroup"
)

func init() {
	register("tail", command{summary: "print the output or dead-letter topic as JSON lines", run: runTail})
}

// tailReadWait bounds one fetch of tail's readers.
const tailReadWait = 500 * time.Millisecond

func runTail(ctx context.Context, args []string, io stdio) error {
	connCfg := kclient.DefaultConnConfig()
	var passwordFile string
	fs := newFlagSet("tail", io)
	kafkaflags.Bind(fs, &connCfg, &passwordFile)
	fromBeginning := fs.Bool("from-beginning", false, "start at the earliest offsets (default: the end)")
	follow := fs.Bool("follow", false, "keep printing new records (default: stop at the end offsets found at start)")
	var uncommitted bool
	fs.Var((*isolationLevel)(&uncommitted), "isolation-level", "read_committed (default: records of aborted transactions left out, open ones waited for) or read_uncommitted (everything written)")
	topicArgs, flagArgs := splitPositional(args)
	if err := parseFlags(fs, flagArgs); err != nil {
		return err
	}
	if len(topicArgs) != 1 {
		return usagef("give exactly one topic: sessiond tail [flags] TOPIC")
	}
	if !*fromBeginning && !*follow {
		return usagef("nothing to print: give --from-beginning (what is there) and/or --follow (what comes)")
	}
	conn, err := openConn(ctx, connCfg, passwordFile)
	if err != nil {
		return err
	}
	defer conn.Close()
	iso := kclient.ReadCommitted
	if uncommitted {
		iso = kclient.ReadUncommitted
	}
	return tailTopic(ctx, conn, topicArgs[0], *fromBeginning, *follow, iso, io.out)
}

// splitPositional separates the arguments that are not flags (a topic, a
// visitor id) from the flags, wherever they stand.
func splitPositional(args []string) (positional, flags []string) {
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch {
		case a == "--":
			return append(positional, args[i+1:]...), flags
		case len(a) > 1 && a[0] == '-':
			flags = append(flags, a)
			if !containsEq(a) && i+1 < len(args) && takesValue(a) {
				i++
				flags = append(flags, args[i])
			}
		default:
			positional = append(positional, a)
		}
	}
	return positional, flags
}

func containsEq(s string) bool {
	for _, c := range s {
		if c == '=' {
			return true
		}
	}
	return false
}

// takesValue reports whether a flag is followed by its value (not a bool).
func takesValue(flag string) bool {
	switch flag {
	case "--from-beginning", "-from-beginning", "--follow", "-follow", "--kafka-tls", "-kafka-tls",
		"--kafka-tls-insecure-skip-verify", "-kafka-tls-insecure-skip-verify", "-h", "--help", "-help":
		return false
	}
	return true
}

// openConn loads the secrets, builds the connection and probes it.
func openConn(ctx context.Context, cfg kclient.ConnConfig, passwordFile string) (*kclient.Conn, error) {
	if err := cfg.LoadSecrets(passwordFile, os.LookupEnv); err != nil {
		return nil, fieldUsage(config.Within("Conn", err))
	}
	conn, err := kclient.NewConn(cfg)
	if err != nil {
		return nil, fieldUsage(fmt.Errorf("kafka connection: %w", config.Within("Conn", err)))
	}
	if err := conn.Probe(ctx); err != nil {
		conn.Close()
		return nil, fmt.Errorf("kafka: %w", explain(config.Within("Conn", err)))
	}
	return conn, nil
}

// tailTopic prints every partition of topic, from the start or the end,
// until the end offsets found at start (the last stable offsets under
// read_committed) or, with follow, until ctx ends.
func tailTopic(ctx context.Context, conn *kclient.Conn, topic string, fromBeginning, follow bool, iso kclient.Isolation, w io.Writer) error {
	client := conn.Client()
	counts, err := kclient.PartitionCounts(ctx, client, topic)
	if err != nil {
		return err
	}
	parts := make([]int, counts[topic])
	for i := range parts {
		parts[i] = i
	}
	offs, err := kclient.OffsetsAt(ctx, client, kafka.IsolationLevel(iso), topic, parts...)
	if err != nil {
		return err
	}
	codecs, err := schemas.Load()
	if err != nil {
		return err
	}
	p := &tailPrinter{w: w, codecs: codecs}
	g, gctx := errgroup.WithContext(ctx)
	for _, part := range parts {
		rng := offs[part]
		start := rng.End
		if fromBeginning {
			start = rng.First
		}
		if !follow && start >= rng.End {
			continue
		}
		g.Go(func() error { return p.readPartition(gctx, conn, topic, part, start, rng.End, follow, iso) })
	}
	err = g.Wait()
	if ctx.Err() != nil {
		return nil // interrupted: a normal end of --follow
	}
	return err
}

// tailPrinter prints records as JSON lines, one writer for all partitions.
type tailPrinter struct {
	mu     sync.Mutex
	w      io.Writer
	codecs *schemas.Codecs
}

// readPartition prints part from start to end (or on, with follow) with
// sessiond's own fetcher: at read_committed it leaves out the records of
// aborted transactions, which a kafka-go Reader would print, and it
// follows the partition's leader as the pipeline does. Failed fetches are
// retried with the default policy until ctx ends.
func (p *tailPrinter) readPartition(ctx context.Context, conn *kclient.Conn, topic string, part int, start, end int64, follow bool, iso kclient.Isolation) error {
	f := kclient.NewDirectPartitionFetcher(conn, topic, part, start, iso)
	f.MaxBytes, f.MaxWait = 1<<20, tailReadWait
	retry := kclient.DefaultRetryPolicy().NewBackOff(ctx)
	for follow || f.Offset() < end {
		var printErr error
		_, err := f.Fetch(ctx, func(m kafka.Message, _ int64) bool {
			if !follow && m.Offset >= end {
				return false
			}
			printErr = p.print(m)
			return printErr == nil
		})
		switch {
		case printErr != nil:
			return printErr
		case err == nil || errors.Is(err, kclient.ErrStopped):
			retry.Reset()
		case ctx.Err() != nil:
			return ctx.Err()
		case !kclient.IsRetryable(err):
			return err
		default:
			select {
			case <-time.After(retry.NextBackOff()):
			case <-ctx.Done():
				return ctx.Err()
			}
		}
		if !follow && f.Offset() >= end {
			return nil
		}
	}
	return nil
}

// print writes an update in the reduce format, or a dead letter (a record
// with sessiond's provenance headers) with its headers, or, for anything
// else, where it is and why it is not an update.
func (p *tailPrinter) print(m kafka.Message) error {
	var line []byte
	if h := headerMap(m); h[emitter.HeaderReason] != "" {
		line = deadLetterJSON(m, h)
	} else if u, err := confluent.DecodeUpdate(p.codecs, m.Value); err == nil {
		line = eventjson.AppendUpdate(nil, u)
	} else {
		line, _ = json.Marshal(map[string]any{"topic": m.Topic, "partition": m.Partition, "offset": m.Offset,
			"error": "not a session update: " + err.Error()})
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	_, err := p.w.Write(append(line, '\n'))
	return err
}

func headerMap(m kafka.Message) map[string]string {
	h := map[string]string{}
	for _, x := range m.Headers {
		h[x.Key] = string(x.Value)
	}
	return h
}

// deadLetterInfo is where a dead letter came from and why it was rejected.
// Topic, partition, offset and timestamp are those of the input record
// (the action, for an update a sink could not deliver), left out when the
// record names none; source says what dead-lettered an update
// ("nosto-sink"), with its update_id.
type deadLetterInfo struct {
	Topic     string `json:"topic,omitempty"`
	Partition *int   `json:"partition,omitempty"`
	Offset    *int64 `json:"offset,omitempty"`
	Timestamp string `json:"timestamp,omitempty"`
	Source    string `json:"source,omitempty"`
	UpdateID  string `json:"update_id,omitempty"`
	Reason    string `json:"reason"`
	Error     string `json:"error"`
	Hint      string `json:"hint,omitempty"`
}

// deadLetterJSON describes a dead letter: its provenance, reason, error and
// hint, the key, and the size of the value (not the value: it may hold
// shoppers' e-mails and names).
func deadLetterJSON(m kafka.Message, h map[string]string) []byte {
	b, _ := json.Marshal(struct {
		DeadLetter deadLetterInfo `json:"dead_letter"`
		Key        string         `json:"key"`
		ValueBytes int            `json:"value_bytes"`
		At         string         `json:"at"`
	}{
		DeadLetter: deadLetterInfo{Topic: h[emitter.HeaderSourceTopic], Partition: intHeader(h, emitter.HeaderSourcePartition),
			Offset: int64Header(h, emitter.HeaderSourceOffset), Timestamp: h[emitter.HeaderSourceTimestamp],
			Source: h[emitter.HeaderOrigin], UpdateID: h[emitter.HeaderUpdateID],
			Reason: h[emitter.HeaderReason], Error: h[emitter.HeaderError], Hint: h[emitter.HeaderHint]},
		Key: string(m.Key), ValueBytes: len(m.Value), At: fmt.Sprintf("%s/%d@%d", m.Topic, m.Partition, m.Offset),
	})
	return b
}

// intHeader is the header key as an int; nil when absent or not a number.
func intHeader(h map[string]string, key string) *int {
	n, err := strconv.Atoi(h[key])
	if err != nil {
		return nil
	}
	return &n
}

// int64Header is the header key as an int64; nil when absent or not a number.
func int64Header(h map[string]string, key string) *int64 {
	n, err := strconv.ParseInt(h[key], 10, 64)
	if err != nil {
		return nil
	}
	return &n
}
