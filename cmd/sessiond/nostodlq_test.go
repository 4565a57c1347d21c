package main

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"
	"github.com/sessiond/sessiond/emitter"
	"github.com/sessiond/sessiond/internal/kclient/kafkatest"
	"github.com/sessiond/sessiond/reducer"
	"github.com/sessiond/sessiond/schemas"
)

// An update Nosto refuses is dead-lettered with the provenance of the
// action record it came from (topic, partition, offset) and marked as the
// Nosto sink's, and `sessiond tail` shows that instead of zeros.
func TestPipelineNostoDeadLetterProvenance(t *testing.T) {
	t.Setenv("SESSIOND_NOSTO_TOKEN", "test-token")
	refuse := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Write([]byte(`{"errors":[{"message":"refused for the test"}]}`))
	}))
	t.Cleanup(refuse.Close)
	e := newEnv(t, 2)
	lines := stream(t, 22, 10, 200)
	want := reduceLines(t, lines)
	e.produce(t, join(lines))
	e.start(t, "--nosto-endpoint", refuse.URL, "--output-topic", "")
	dead := kafkatest.ReadUntil(t, e.brokers, e.dlq, 2*time.Minute, func(m []kafka.Message) bool { return len(m) >= len(want) })

	actions := actionRecords(t, e)
	for _, m := range dead {
		h := headerMap(m)
		at := fmt.Sprintf("%s/%s@%s", h[emitter.HeaderSourceTopic], h[emitter.HeaderSourcePartition], h[emitter.HeaderSourceOffset])
		src, ok := actions[at]
		switch {
		case h[emitter.HeaderOrigin] != emitter.OriginNostoSink:
			t.Fatalf("dead letter %s: origin %q, want %s", h[emitter.HeaderUpdateID], h[emitter.HeaderOrigin], emitter.OriginNostoSink)
		case !ok:
			t.Fatalf("dead letter %s: provenance %s is no action record", h[emitter.HeaderUpdateID], at)
		case src.EventID != h[emitter.HeaderUpdateID] || src.VisitorID != string(m.Key):
			t.Fatalf("dead letter %s of %s: the action record at %s is %s of %s", h[emitter.HeaderUpdateID], m.Key, at, src.EventID, src.VisitorID)
		}
	}

	var out, errs bytes.Buffer
	code := Main(context.Background(), []string{"tail", "--from-beginning", "--brokers", strings.Join(e.brokers, ","), e.dlq},
		stdio{in: strings.NewReader(""), out: &out, err: &errs})
	first, _, _ := strings.Cut(out.String(), "\n")
	for _, s := range []string{`"dead_letter":{"topic":"` + e.action + `","partition":`, `"source":"nosto-sink","update_id":"`, `"reason":"nosto-graphql"`} {
		if code != 0 || !strings.Contains(first, s) {
			t.Errorf("tail %s: exit %d, first line %s (stderr %s); want %s", e.dlq, code, first, errs.String(), s)
		}
	}
}

// actionRecords reads e's action topic: the events by "topic/partition@offset".
func actionRecords(t *testing.T, e *env) map[string]*reducer.Event {
	t.Helper()
	codecs, err := schemas.Load()
	if err != nil {
		t.Fatal(err)
	}
	msgs, err := kafkatest.ReadAll(context.Background(), e.brokers, e.action)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]*reducer.Event{}
	for _, m := range msgs {
		ev, err := codecs.DecodeEvent(reducer.KindAction, m.Value)
		if err != nil {
			continue // a record that does not decode is no update's source
		}
		out[fmt.Sprintf("%s/%d@%d", m.Topic, m.Partition, m.Offset)] = ev
	}
	return out
}
