package consumer

import (
	"errors"

	"github.com/segmentio/kafka-go"
	"github.com/sessiond/sessiond/emitter"
	"github.com/sessiond/sessiond/reducer"
)

// hint suggests the usual cause of a record that does not decode, from
// the first bytes of its value (never the value itself).
func hint(err error, value []byte) string {
	if reason(err) != reasonDecode {
		return ""
	}
	var h interface{ Hint() string }
	if errors.As(err, &h) { // the decoder knows better (another wire format)
		return h.Hint()
	}
	switch {
	case len(value) == 0:
		return "the record has no value (a tombstone?)"
	case value[0] == 0 && len(value) >= 5:
		return "it starts with byte 0x00: Confluent Schema Registry framing (magic byte and schema id)? Read such topics with --wire-format confluent"
	case value[0] == '{' || value[0] == '[':
		return "it starts with '" + string(value[0]) + "': JSON? The inputs are Avro; `sessiond produce` turns JSON lines into Avro"
	}
	return "not the topic's Avro record: a producer with another schema, or the wrong topic?"
}

// Rejection reasons, for the header and the metric.
const (
	reasonDecode  = "decode"  // the bytes are not the topic's Avro record
	reasonInvalid = "invalid" // decoded, but broke a rule of docs/design.md §2
)

// reason classifies a rejection for the header and the metric.
func reason(err error) string {
	if errors.Is(err, reducer.ErrInvalid) {
		return reasonInvalid
	}
	return reasonDecode
}

// deadLetter builds the dead-letter record for msg rejected with err
// (emitter's header set, shared with the Nosto sink's refusals).
func deadLetter(msg kafka.Message, err error) kafka.Message {
	return emitter.RejectedRecord(msg, reason(err), err, hint(err, msg.Value))
}
