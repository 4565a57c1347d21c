package emitter

import (
	"fmt"
	"strconv"
	"time"

	"github.com/segmentio/kafka-go"
	"github.com/sessiond/sessiond/reducer"
)

// Dead-letter record headers, one set for everything sessiond
// dead-letters: input records that do not decode or break a rule (the
// consumer's rejections, with their provenance) and updates Nosto refuses
// (the Nosto sink's, with Nosto's answer). A rejected record keeps its
// original key and value; a refused update is the Avro update.
const (
	HeaderSourceTopic     = "sessiond.source.topic"
	HeaderSourcePartition = "sessiond.source.partition"
	HeaderSourceOffset    = "sessiond.source.offset"
	HeaderSourceTimestamp = "sessiond.source.timestamp" // RFC 3339, the record's Kafka timestamp
	HeaderError           = "sessiond.error"
	// HeaderReason is "decode" or "invalid" for a rejected input record,
	// "nosto-graphql", "nosto-http", "nosto-retries" or "nosto-reference"
	// for a refused update.
	HeaderReason         = "sessiond.error.reason"
	HeaderHint           = "sessiond.error.hint" // the usual cause of a decode failure, when one fits
	HeaderNostoStatus    = "sessiond.nosto.status"
	HeaderNostoRequestID = "sessiond.nosto.request_id"
	HeaderUpdateID       = "sessiond.update_id"
	// HeaderOrigin is what dead-lettered a record: OriginNostoSink for an
	// update the Nosto sink could not deliver; absent on rejected input
	// records (their provenance headers say where they came from).
	HeaderOrigin = "sessiond.origin"
)

// OriginNostoSink marks the dead letters of the Nosto sink.
const OriginNostoSink = "nosto-sink"

// DeadLetter is a dead-letter record: key and value as given, the reason
// and the error text, then extra headers.
func DeadLetter(key, value []byte, reason, errText string, extra ...kafka.Header) kafka.Message {
	headers := make([]kafka.Header, 0, 2+len(extra))
	headers = append(headers, kafka.Header{Key: HeaderError, Value: []byte(errText)},
		kafka.Header{Key: HeaderReason, Value: []byte(reason)})
	return kafka.Message{Key: key, Value: value, Headers: append(headers, extra...)}
}

// RejectedRecord is the dead-letter record of an input record rejected
// for reason with err: its original bytes, where it came from and, when
// one fits, a hint.
func RejectedRecord(msg kafka.Message, reason string, err error, hint string) kafka.Message {
	extra := provenance(reducer.Source{Topic: msg.Topic, Partition: msg.Partition, Offset: msg.Offset, Time: msg.Time})
	if hint != "" {
		extra = append(extra, kafka.Header{Key: HeaderHint, Value: []byte(hint)})
	}
	return DeadLetter(msg.Key, msg.Value, reason, err.Error(), extra...)
}

// provenance is the headers naming the input record src.
func provenance(src reducer.Source) []kafka.Header {
	return []kafka.Header{
		{Key: HeaderSourceTopic, Value: []byte(src.Topic)},
		{Key: HeaderSourcePartition, Value: []byte(strconv.Itoa(src.Partition))},
		{Key: HeaderSourceOffset, Value: []byte(strconv.FormatInt(src.Offset, 10))},
		{Key: HeaderSourceTimestamp, Value: []byte(src.Time.UTC().Format(time.RFC3339Nano))},
	}
}

// NostoDeadLetter is the dead-letter record of an update Nosto refused:
// the Avro update as value, keyed by visitor_id, with the reason, error,
// HTTP status, Nosto's X-Request-Id, the update_id and the origin
// (OriginNostoSink) as headers, and the provenance of the action record
// the update came from when it is known (u.Source): never zeros in its
// place.
func NostoDeadLetter(enc UpdateEncoder, u *reducer.Update, f NostoFailure) (kafka.Message, error) {
	v, err := enc.EncodeUpdate(nil, u)
	if err != nil {
		return kafka.Message{}, fmt.Errorf("encode update: %w", err)
	}
	extra := []kafka.Header{
		{Key: HeaderOrigin, Value: []byte(OriginNostoSink)},
		{Key: HeaderNostoStatus, Value: []byte(strconv.Itoa(f.Status))},
		{Key: HeaderNostoRequestID, Value: []byte(f.RequestID)},
		{Key: HeaderUpdateID, Value: []byte(u.UpdateID)},
	}
	if u.Source.Known() {
		extra = append(extra, provenance(u.Source)...)
	}
	return DeadLetter([]byte(u.VisitorID), v, "nosto-"+f.Reason, f.Error, extra...), nil
}
