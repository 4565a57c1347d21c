package main

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/linkedin/goavro/v2"
	"github.com/segmentio/kafka-go"
	"github.com/sessiond/sessiond/emitter"
	"github.com/sessiond/sessiond/internal/kclient"
	"github.com/sessiond/sessiond/internal/kclient/kafkatest"
	"github.com/sessiond/sessiond/reducer"
	"github.com/sessiond/sessiond/schemas"
	"github.com/sessiond/sessiond/schemas/confluent"
	"github.com/sessiond/sessiond/schemas/confluent/confluenttest"
	"github.com/sessiond/sessiond/schemas/eventjson"
)

// testRegistry is an in-process Schema Registry over HTTP that can be
// taken down.
type testRegistry struct{ *confluenttest.Registry }

func newTestRegistry(t *testing.T) testRegistry {
	t.Helper()
	r := confluenttest.NewRegistry()
	t.Cleanup(r.Close)
	return testRegistry{r}
}

func (r testRegistry) flags() []string {
	return []string{"--wire-format", "confluent", "--schema-registry-url", r.URL()}
}

func (r testRegistry) client(t *testing.T) *confluent.Registry {
	t.Helper()
	cfg := confluent.DefaultConfig()
	cfg.URLs = []string{r.URL()}
	reg, err := confluent.NewRegistry(cfg, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	return reg
}

// produceConfluent publishes JSON lines with `sessiond produce --wire-format confluent`.
func (e *env) produceConfluent(t *testing.T, r testRegistry, lines string) {
	t.Helper()
	var stderr bytes.Buffer
	code := Main(context.Background(), append(append([]string{"produce"}, e.topicFlags()...), r.flags()...),
		stdio{in: strings.NewReader(lines), out: &bytes.Buffer{}, err: &stderr})
	if code != 0 {
		t.Fatalf("produce exited %d: %s", code, stderr.String())
	}
}

// writeValues writes framed values keyed by visitor, partitioned as
// produce partitions (murmur2 of the key).
func (e *env) writeValues(t *testing.T, msgs []kafka.Message) {
	t.Helper()
	w := kclient.PlainConn(e.brokers).Writer("", &kafka.Murmur2Balancer{})
	defer w.Close()
	if err := w.WriteMessages(context.Background(), msgs...); err != nil {
		t.Fatal(err)
	}
}

func (e *env) inputs() [reducer.NumKinds]string {
	return [reducer.NumKinds]string{reducer.KindCart: e.cart, reducer.KindCustomer: e.customer, reducer.KindAction: e.action}
}

// messages encodes JSON-line events with encode into records for the
// env's topics, keyed by visitor; after each, extra may add records.
func (e *env) messages(t *testing.T, lines []string, encode func(*reducer.Event) ([]byte, error),
	extra func(i int, ev *reducer.Event) []kafka.Message) []kafka.Message {
	t.Helper()
	var msgs []kafka.Message
	for i, line := range lines {
		ev, err := eventjson.DecodeEvent([]byte(line))
		if err != nil {
			t.Fatal(err)
		}
		v, err := encode(ev)
		if err != nil {
			t.Fatal(err)
		}
		msgs = append(msgs, kafka.Message{Topic: e.inputs()[ev.Kind], Key: []byte(ev.VisitorID), Value: v})
		if extra != nil {
			msgs = append(msgs, extra(i, ev)...)
		}
	}
	return msgs
}

// evolvedProducer registers the evolved schemas for the env's inputs.
func (e *env) evolvedProducer(t *testing.T, r testRegistry) *confluenttest.Producer {
	t.Helper()
	p, err := confluenttest.NewProducer(context.Background(), r.client(t), e.inputs())
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// confluentUpdates reads n updates from the output topic the way a
// Confluent deserializer does: the id from the header, that id's schema
// from the registry, then the Avro. Every record must carry the id
// registered under "<output topic>-value".
func (e *env) confluentUpdates(t *testing.T, r testRegistry, n int) []string {
	t.Helper()
	msgs := kafkatest.ReadUntil(t, e.brokers, e.out, 2*time.Minute, func(m []kafka.Message) bool { return len(m) >= n })
	out := make([]string, len(msgs))
	for i, u := range r.framedUpdates(t, e.out, msgs) {
		out[i] = string(eventjson.AppendUpdate(nil, u))
	}
	return out
}

// framedUpdates decodes msgs, read from topic, as a Confluent deserializer
// does: each must carry the id of the schema registered under
// "<topic>-value", and that schema, fetched from the registry, must decode
// it.
func (r testRegistry) framedUpdates(t *testing.T, topic string, msgs []kafka.Message) []*reducer.Update {
	t.Helper()
	subject, ok := r.GetSchema(confluent.Subject(topic), 1)
	if !ok {
		t.Fatalf("no schema under %s", confluent.Subject(topic))
	}
	codec, err := goavro.NewCodec(subject.Schema.Schema)
	if err != nil {
		t.Fatal(err)
	}
	codecs, _ := schemas.Load()
	out := make([]*reducer.Update, len(msgs))
	for i, m := range msgs {
		id, payload, err := confluent.ParseHeader(m.Value)
		if err != nil || id != subject.ID {
			t.Fatalf("%s at %d@%d: id %d (want %d), err %v", topic, m.Partition, m.Offset, id, subject.ID, err)
		}
		if _, _, err := codec.NativeFromBinary(payload); err != nil {
			t.Fatalf("the registry's schema does not decode the update: %v", err)
		}
		if out[i], err = codecs.DecodeUpdate(payload); err != nil {
			t.Fatal(err)
		}
	}
	return out
}

// A producer that evolves its schemas midway (fields reordered, optional
// fields added in the event, the cart, the customer, the action and the
// items, a plain long for a timestamp, a new action type) gives the same
// updates as the unevolved stream; the new action type is dead-lettered as
// invalid (it reads as "unknown").
func TestPipelineConfluentProducerEvolvesMidway(t *testing.T) {
	e := newEnv(t, 3)
	r := newTestRegistry(t)
	lines := stream(t, 11, 120, 3000)
	want := reduceLines(t, lines)
	e.produceConfluent(t, r, join(lines[:1500]))

	p := e.evolvedProducer(t, r)
	wishlists := 0
	msgs := e.messages(t, lines[1500:], p.Encode, func(i int, ev *reducer.Event) []kafka.Message {
		if i%300 != 0 {
			return nil
		}
		w, err := p.Wishlist(ev.VisitorID, "wish-"+ev.EventID, ev.OccurredAt)
		if err != nil {
			t.Fatal(err)
		}
		wishlists++
		return []kafka.Message{{Topic: e.action, Key: []byte(ev.VisitorID), Value: w}}
	})
	e.writeValues(t, msgs)
	e.start(t, r.flags()...)
	assertSameUpdates(t, e.confluentUpdates(t, r, len(want)), want)
	dead := kafkatest.ReadUntil(t, e.brokers, e.dlq, time.Minute, func(m []kafka.Message) bool { return len(m) >= wishlists })
	if len(dead) != wishlists {
		t.Fatalf("%d dead letters, want %d", len(dead), wishlists)
	}
	for _, m := range dead {
		if h := headers(m); h[emitter.HeaderReason] != "invalid" || !strings.Contains(h[emitter.HeaderError], "unknown") {
			t.Errorf("dead letter: %v", h)
		}
	}
}

// Registry down on a cold id: the partitions wait (in event-time order),
// then every update arrives and nothing is dead-lettered. Down after
// warm-up: nothing is asked of it and the pipeline keeps going.
func TestPipelineConfluentRegistryOutages(t *testing.T) {
	e := newEnv(t, 2)
	r := newTestRegistry(t)
	lines := stream(t, 12, 80, 2000)
	want := reduceLines(t, lines)
	e.produceConfluent(t, r, join(lines[:1000]))
	r.FetchDown.Store(true) // cold ids: every fetch fails for a while
	e.start(t, r.flags()...)
	time.Sleep(2 * time.Second)
	if n := r.Fetches.Load(); n < 2 {
		t.Fatalf("%d fetches while the registry was down: not retried", n)
	}
	r.FetchDown.Store(false)
	// The first half was on the topics before the start: exactly reduce's
	// updates, in order, although every lane waited on the registry.
	firstHalf := reduceLines(t, lines[:1000])
	assertSameUpdates(t, e.confluentUpdates(t, r, len(firstHalf)), firstHalf)

	r.Down.Store(true) // warm: the ids are cached; the rest must flow with the registry gone
	enc := registeredEncoder(t, e, r)
	msgs := e.messages(t, lines[1000:], func(ev *reducer.Event) ([]byte, error) { return enc.EncodeEvent(nil, ev) }, nil)
	fetched := r.Fetches.Load()
	e.writeValues(t, msgs)
	// Written while the pipeline runs, topic by topic: the merge's order
	// across topics is then max-idle's best effort (docs/design.md §2), so
	// this half is checked for completeness, not content.
	if dups := assertComplete(t, e.confluentUpdates(t, r, len(want)), want); dups != 0 {
		t.Fatalf("%d duplicates", dups)
	}
	if n := r.Fetches.Load() - fetched; n != 0 {
		t.Fatalf("%d fetches after warm-up, want 0", n)
	}
	if dead, _ := kafkatest.ReadAll(context.Background(), e.brokers, e.dlq); len(dead) != 0 {
		t.Fatalf("%d dead letters, want none: %v", len(dead), headers(dead[0]))
	}
}

// registeredEncoder frames events with the ids produce registered (asked
// while the registry is up).
func registeredEncoder(t *testing.T, e *env, r testRegistry) *confluent.EventEncoder {
	t.Helper()
	r.Down.Store(false)
	defer r.Down.Store(true)
	codecs, _ := schemas.Load()
	enc, err := confluent.RegisterEvents(context.Background(), r.client(t), codecs, e.inputs())
	if err != nil {
		t.Fatal(err)
	}
	return enc
}

// replay takes the same flags: it reads the evolved, framed stream and
// writes the updates reduce gives, to a file and, framed, to a topic.
func TestPipelineConfluentReplay(t *testing.T) {
	e := newEnv(t, 2)
	r := newTestRegistry(t)
	lines := stream(t, 13, 60, 1200)
	want := reduceLines(t, lines)
	e.produceConfluent(t, r, join(lines[:600]))
	msgs := e.messages(t, lines[600:], e.evolvedProducer(t, r).Encode, nil)
	e.writeValues(t, msgs)
	from := append(r.flags(), "--from", "2000-01-01T00:00:00Z")
	assertSameUpdates(t, e.replayFile(t, from...), want)
	if code, _, errs := e.replayCmd(context.Background(), append(from, "--output-topic", e.out)...); code != 0 {
		t.Fatalf("replay --output-topic exited %d: %s", code, errs)
	}
	assertSameUpdates(t, e.confluentUpdates(t, r, len(want)), want)
}

func TestWireFormatFlagsRefused(t *testing.T) {
	auth := t.TempDir() + "/auth"
	if err := os.WriteFile(auth, []byte("no-colon\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"run", "--wire-format", "json"}, "--wire-format"},
		{[]string{"run", "--wire-format", "confluent"}, "--schema-registry-url"},
		{[]string{"run", "--schema-registry-url", "http://localhost:8081"}, "--wire-format is raw"},
		{[]string{"run", "--wire-format", "confluent", "--schema-registry-url", "localhost:8081"}, "not an http(s) URL"},
		{[]string{"run", "--wire-format", "confluent", "--schema-registry-url", "http://u:p@localhost:8081"}, "carries credentials"},
		{[]string{"run", "--wire-format", "confluent", "--schema-registry-url", "http://localhost:8081", "--schema-registry-basic-auth-file", auth}, "user:password"},
		{[]string{"produce", "--wire-format", "confluent"}, "--schema-registry-url"},
		{[]string{"replay", "--wire-format", "confluent", "--from", "2026-11-01T00:00:00Z", "--dry-run"}, "--schema-registry-url"},
		{[]string{"demo", "--wire-format", "avro"}, "--wire-format"},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			var stderr bytes.Buffer
			args := tc.args
			if args[0] != "demo" {
				args = append(args, "--brokers", "127.0.0.1:1")
			}
			code := Main(context.Background(), args, stdio{in: strings.NewReader(""), out: &bytes.Buffer{}, err: &stderr})
			if code != 2 || !strings.Contains(stderr.String(), tc.want) || strings.Contains(stderr.String(), "u:p@") {
				t.Errorf("exit %d, stderr %q: want 2 and %q", code, stderr.String(), tc.want)
			}
		})
	}
}

// Updates Nosto refuses go to the dead-letter topic framed like the
// updates: session_update.avsc registered under "<dlq-topic>-value".
func TestPipelineConfluentNostoDeadLettersFramed(t *testing.T) {
	t.Setenv("SESSIOND_NOSTO_TOKEN", "test-token")
	refuse := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Write([]byte(`{"errors":[{"message":"refused for the test"}]}`))
	}))
	t.Cleanup(refuse.Close)
	e := newEnv(t, 2)
	r := newTestRegistry(t)
	lines := stream(t, 14, 20, 300)
	want := reduceLines(t, lines)
	e.produceConfluent(t, r, join(lines))
	e.start(t, append(r.flags(), "--nosto-endpoint", refuse.URL, "--output-topic", "")...)
	dead := kafkatest.ReadUntil(t, e.brokers, e.dlq, 2*time.Minute, func(m []kafka.Message) bool { return len(m) >= len(want) })
	r.framedUpdates(t, e.dlq, dead)
}
