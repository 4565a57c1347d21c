package consumer

import (
	"context"
	"errors"
	"log/slog"
	"strconv"
	"testing"
	"time"

	"github.com/cenkalti/backoff/v4"
	"github.com/segmentio/kafka-go"
	"github.com/sessiond/sessiond/internal/kclient"
	"github.com/sessiond/sessiond/internal/kclient/kafkatest"
	"github.com/sessiond/sessiond/reducer"
)

// actionsDecoder decodes a record whose value is its occurred_at (ms) into
// a view-cart action of visitor v1, so that the test needs no codec.
type actionsDecoder struct{}

func (actionsDecoder) DecodeEvent(_ context.Context, _ reducer.Kind, v []byte) (*reducer.Event, error) {
	at, err := strconv.ParseInt(string(v), 10, 64)
	if err != nil {
		return nil, err
	}
	return actionEvent("v1", "a"+string(v), at), nil
}

// failingSink fails every write with err.
type failingSink struct{ err error }

func (failingSink) Name() string                                     { return "failing" }
func (s failingSink) Write(context.Context, []*reducer.Update) error { return s.err }

// replayOnto writes three actions to a fresh set of inputs and returns a
// ReplayConfig over them writing to sink.
func replayOnto(t *testing.T, ctx context.Context, sink Sink) ReplayConfig {
	t.Helper()
	brokers := kafkatest.Embedded(t)
	cfg := DefaultReplayConfig()
	cfg.CartTopic, cfg.CustomerTopic, cfg.ActionTopic = kafkatest.Name("cart"), kafkatest.Name("customer"), kafkatest.Name("action")
	kafkatest.CreateTopics(t, brokers, 1, cfg.CartTopic, cfg.CustomerTopic, cfg.ActionTopic)
	conn := kclient.PlainConn(brokers)
	w := conn.Writer(cfg.ActionTopic, kclient.PartitionBalancer{})
	defer w.Close()
	msgs := []kafka.Message{{Value: []byte("1000")}, {Value: []byte("2000")}, {Value: []byte("3000")}}
	if err := kclient.Write(ctx, w, msgs, kclient.DefaultRetryPolicy(), nil); err != nil {
		t.Fatal(err)
	}
	cfg.Conn, cfg.Decoder, cfg.Sinks = conn, actionsDecoder{}, []Sink{sink}
	cfg.From, cfg.To = time.UnixMilli(0), time.UnixMilli(10_000)
	cfg.Logger = slog.New(slog.DiscardHandler)
	return cfg
}

// replayGuard bounds a replay test that would hang, so that it fails
// instead (this is no timed assertion: a pass takes a fraction of it).
const replayGuard = 2 * time.Minute

// A sink that refuses the updates for good (backoff.Permanent) ends a
// replay at once with its error, even with a policy that never gives up.
func TestReplayReturnsPermanentSinkError(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), replayGuard)
	defer cancel()
	refused := errors.New("refused for good")
	cfg := replayOnto(t, ctx, failingSink{err: backoff.Permanent(refused)})
	cfg.Retry = kclient.RetryPolicy{Initial: time.Millisecond, Max: time.Millisecond} // no MaxElapsed: only permanence ends it
	_, err := Replay(ctx, cfg)
	if !errors.Is(err, refused) {
		t.Fatalf("Replay returned %v, want an error wrapping the sink's", err)
	}
}

// A sink that keeps failing with a passing error ends a replay once the
// retry policy's MaxElapsed has passed, with its error.
func TestReplayGivesUpAfterMaxElapsed(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), replayGuard)
	defer cancel()
	down := errors.New("sink down")
	cfg := replayOnto(t, ctx, failingSink{err: down})
	cfg.Retry = kclient.RetryPolicy{Initial: time.Millisecond, Max: 10 * time.Millisecond, MaxElapsed: 100 * time.Millisecond}
	_, err := Replay(ctx, cfg)
	if !errors.Is(err, down) {
		t.Fatalf("Replay returned %v, want an error wrapping the sink's", err)
	}
	if errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Replay ran into the test's guard: %v", err)
	}
}
