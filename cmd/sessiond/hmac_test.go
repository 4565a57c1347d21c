package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"
	"github.com/sessiond/sessiond/emitter"
	"github.com/sessiond/sessiond/internal/kclient/kafkatest"
)

// references maps the update_id of every update line to its
// customer_reference ("" when it has none).
func references(t *testing.T, lines []string) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, l := range lines {
		var u struct {
			ID       string `json:"update_id"`
			Customer *struct {
				Reference string `json:"customer_reference"`
			} `json:"customer"`
		}
		if err := json.Unmarshal([]byte(l), &u); err != nil {
			t.Fatalf("%v: %s", err, l)
		}
		if u.Customer != nil {
			out[u.ID] = u.Customer.Reference
		} else {
			out[u.ID] = ""
		}
	}
	return out
}

// assertHashed checks that got has want's updates and carries
// hex(HMAC(key, ref)) wherever want (the raw updates) carries ref.
func assertHashed(t *testing.T, got, want []string, key []byte) {
	t.Helper()
	g, w := references(t, got), references(t, want)
	if len(g) != len(w) {
		t.Fatalf("%d updates written, want %d", len(g), len(w))
	}
	hashed := 0
	for id, ref := range w {
		wantRef := ref
		if ref != "" {
			wantRef, hashed = emitter.HashReference(key, ref), hashed+1
		}
		if gotRef, ok := g[id]; !ok || gotRef != wantRef {
			t.Fatalf("update %s: reference %q written, want %q (the HMAC of %q)", id, gotRef, wantRef, ref)
		}
	}
	if hashed == 0 {
		t.Fatal("no update carries a customer_reference: the test checks nothing")
	}
}

// Every sink of replay hashes customer_reference with the key, as run's
// sinks do: a file, a topic and Nosto (bug: replay wired its own sinks
// and hashed only the Nosto one, writing the raw references to files and
// topics).
func TestPipelineReplayHashesEverySink(t *testing.T) {
	t.Parallel()
	e := newEnv(t, 2)
	lines := stream(t, 5, 40, 600)
	e.produce(t, join(lines))
	raw := reduceLines(t, lines)
	key := []byte("replay-key")
	keyFile := filepath.Join(t.TempDir(), "key")
	if err := os.WriteFile(keyFile, key, 0o600); err != nil {
		t.Fatal(err)
	}
	window := []string{"--from", "2000-01-01T00:00:00Z", "--customer-reference-hmac-key-file", keyFile}
	t.Run("file", func(t *testing.T) {
		assertHashed(t, e.replayFile(t, window...), raw, key)
	})
	t.Run("topic", func(t *testing.T) {
		out := kafkatest.Name("hashed")
		kafkatest.CreateTopics(t, e.brokers, 2, out)
		if code, _, errs := e.replayCmd(context.Background(), append(window, "--output-topic", out)...); code != 0 {
			t.Fatalf("replay exited %d: %s", code, errs)
		}
		msgs := kafkatest.ReadUntil(t, e.brokers, out, time.Minute, func(m []kafka.Message) bool { return len(m) >= len(raw) })
		assertHashed(t, decodeUpdates(t, msgs), raw, key)
	})
}
