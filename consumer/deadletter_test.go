package consumer

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"
	"github.com/sessiond/sessiond/emitter"
	"github.com/sessiond/sessiond/reducer"
)

// header returns the value of the one header named key.
func header(t testing.TB, msg kafka.Message, key string) string {
	t.Helper()
	var vals []string
	for _, h := range msg.Headers {
		if h.Key == key {
			vals = append(vals, string(h.Value))
		}
	}
	if len(vals) != 1 {
		t.Fatalf("header %q appears %d times, want once: %v", key, len(vals), msg.Headers)
	}
	return vals[0]
}

func TestDeadLetter(t *testing.T) {
	fieldErr := &reducer.FieldError{Field: "cart.items[0].quantity", Reason: "must be at least 1"}
	tests := []struct {
		name   string
		err    error
		reason string
	}{
		{"field error", fieldErr, "invalid"},
		{"wrapped field error", fmt.Errorf("partition 3 offset 42: %w", fieldErr), "invalid"},
		{"wrapped ErrInvalid", fmt.Errorf("action: %w", reducer.ErrInvalid), "invalid"},
		{"decode error", errors.New("avro: short buffer"), "decode"},
		{"wrapped decode error", fmt.Errorf("schema 7: %w", errors.New("unknown schema id")), "decode"},
	}
	// A timestamp off UTC, to see that the header is normalised.
	sent := time.Date(2026, 11, 27, 11, 0, 0, 123_000_000, time.FixedZone("CET", 3600))
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src := kafka.Message{
				Topic: "actions", Partition: 3, Offset: 42, Time: sent,
				Key: []byte("visitor-1"), Value: []byte{0x00, 0xff, 0x02, 'x'},
				Headers: []kafka.Header{{Key: "traceparent", Value: []byte("00-abc")}},
			}
			dl := deadLetter(src, tt.err)

			if !bytes.Equal(dl.Key, src.Key) || !bytes.Equal(dl.Value, src.Value) {
				t.Errorf("key/value %q/%x, want the original %q/%x", dl.Key, dl.Value, src.Key, src.Value)
			}
			// The dead-letter writer names the topic and picks the partition:
			// a message that names them too is refused by kafka-go.
			if dl.Topic != "" || dl.Partition != 0 || dl.Offset != 0 {
				t.Errorf("topic %q partition %d offset %d, want them unset", dl.Topic, dl.Partition, dl.Offset)
			}
			want := map[string]string{
				emitter.HeaderSourceTopic:     "actions",
				emitter.HeaderSourcePartition: "3",
				emitter.HeaderSourceOffset:    "42",
				emitter.HeaderError:           tt.err.Error(),
				emitter.HeaderReason:          tt.reason,
			}
			for key, v := range want {
				if got := header(t, dl, key); got != v {
					t.Errorf("header %s = %q, want %q", key, got, v)
				}
			}
			ts := header(t, dl, emitter.HeaderSourceTimestamp)
			at, err := time.Parse(time.RFC3339Nano, ts)
			if err != nil || !at.Equal(sent) || at.Location() != time.UTC {
				t.Errorf("header %s = %q (%v), want %v in UTC", emitter.HeaderSourceTimestamp, ts, err, sent)
			}
			if reason(tt.err) != tt.reason {
				t.Errorf("reason(%v) = %q, want %q", tt.err, reason(tt.err), tt.reason)
			}
		})
	}
}

func TestDeadLetterEmptyRecord(t *testing.T) {
	dl := deadLetter(kafka.Message{Topic: "cart-changed"}, errors.New("empty value"))
	if dl.Key != nil || dl.Value != nil {
		t.Errorf("key/value %q/%q, want nil like the original", dl.Key, dl.Value)
	}
	if got := header(t, dl, emitter.HeaderSourceOffset); got != "0" {
		t.Errorf("offset header %q, want 0", got)
	}
	if _, err := time.Parse(time.RFC3339Nano, header(t, dl, emitter.HeaderSourceTimestamp)); err != nil {
		t.Errorf("timestamp header of a record without time: %v", err)
	}
}

func TestDeadLetterHints(t *testing.T) {
	decodeErr := errors.New("union: index ought to be between 0 and 1; read index: 21")
	invalid := fmt.Errorf("cart.items[0].quantity: must be at least 1: %w", reducer.ErrInvalid)
	tests := []struct {
		name  string
		err   error
		value []byte
		want  string // "" for no hint
	}{
		{"schema registry framing", decodeErr, []byte{0, 0, 0, 0, 7, 2, 'v'}, "Schema Registry"},
		{"json object", decodeErr, []byte(`{"type":"action"}`), "JSON"},
		{"json array", decodeErr, []byte(`[1]`), "JSON"},
		{"no value", decodeErr, nil, "no value"},
		{"other bytes", decodeErr, []byte{0xff, 0xfe}, "another schema"},
		{"invalid, not a decode failure", invalid, []byte{0, 0, 0, 0, 7}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := hint(tt.err, tt.value)
			if (got == "") != (tt.want == "") || !strings.Contains(got, tt.want) {
				t.Errorf("hint = %q, want %q", got, tt.want)
			}
			dl := deadLetter(kafka.Message{Value: tt.value}, tt.err)
			var header string
			for _, h := range dl.Headers {
				if h.Key == emitter.HeaderHint {
					header = string(h.Value)
				}
			}
			if header != got {
				t.Errorf("header %s = %q, want %q", emitter.HeaderHint, header, got)
			}
			if strings.Contains(got, `"type"`) {
				t.Error("the hint echoes the value")
			}
		})
	}
}
