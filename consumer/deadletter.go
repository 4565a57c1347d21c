package consumer

import (
	"errors"
	"strconv"
	"time"

	"github.com/segmentio/kafka-go"
	"github.com/sessiond/sessiond/reducer"
)

// Dead-letter record headers: where the record came from and why it was
// rejected. The record's key and value are the original bytes.
const (
	HeaderSourceTopic     = "sessiond.source.topic"
	HeaderSourcePartition = "sessiond.source.partition"
	HeaderSourceOffset    = "sessiond.source.offset"
	HeaderSourceTimestamp = "sessiond.source.timestamp" // RFC 3339, the record's Kafka timestamp
	HeaderError           = "sessiond.error"
	HeaderReason          = "sessiond.error.reason" // "invalid" (decoded, broke a rule) or "decode"
)

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

// deadLetter builds the dead-letter record for msg rejected with err.
func deadLetter(msg kafka.Message, err error) kafka.Message {
	return kafka.Message{
		Key:   msg.Key,
		Value: msg.Value,
		Headers: []kafka.Header{
			{Key: HeaderSourceTopic, Value: []byte(msg.Topic)},
			{Key: HeaderSourcePartition, Value: []byte(strconv.Itoa(msg.Partition))},
			{Key: HeaderSourceOffset, Value: []byte(strconv.FormatInt(msg.Offset, 10))},
			{Key: HeaderSourceTimestamp, Value: []byte(msg.Time.UTC().Format(time.RFC3339Nano))},
			{Key: HeaderError, Value: []byte(err.Error())},
			{Key: HeaderReason, Value: []byte(reason(err))},
		},
	}
}
