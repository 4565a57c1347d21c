package kclient

import (
	"bytes"
	"io"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"
	"github.com/segmentio/kafka-go/protocol"
)

// batchCases are the shapes a batch can take: keys and values nil, empty
// or long (multi-byte varints), headers with nil values, timestamps out of
// order (the max is not the last), zero times.
func batchCases() map[string][]kafka.Message {
	t0 := time.UnixMilli(1_764_000_000_123)
	long := bytes.Repeat([]byte("v"), 300)
	return map[string][]kafka.Message{
		"one":   {{Key: []byte("k"), Value: []byte("v"), Time: t0}},
		"nils":  {{Time: t0}, {Key: []byte{}, Value: []byte{}, Time: t0}},
		"long":  {{Key: long, Value: bytes.Repeat(long, 100), Time: t0}},
		"times": {{Value: []byte("a"), Time: t0.Add(time.Hour)}, {Value: []byte("b"), Time: t0}, {Value: []byte("c"), Time: t0.Add(-time.Hour)}},
		"headers": {{Key: []byte("k"), Value: []byte("v"), Time: t0, Headers: []kafka.Header{
			{Key: "sessiond.touched", Value: []byte("123")}, {Key: "empty", Value: []byte{}}, {Key: "nil"},
		}}},
		"many": func() []kafka.Message {
			var ms []kafka.Message
			for i := range 200 {
				ms = append(ms, kafka.Message{Key: []byte{byte(i)}, Value: bytes.Repeat([]byte{byte(i)}, i), Time: t0.Add(time.Duration(i) * time.Millisecond)})
			}
			return ms
		}(),
	}
}

// TestEncodeBatchMatchesKafkaGo: without a producer identity the batch is
// kafka-go's own encoding of the same messages, byte for byte.
func TestEncodeBatchMatchesKafkaGo(t *testing.T) {
	for name, msgs := range batchCases() {
		t.Run(name, func(t *testing.T) {
			var want bytes.Buffer
			rs := protocol.RecordSet{Version: 2, Records: &messageRecords{msgs: msgs}}
			if _, err := rs.WriteTo(&want); err != nil {
				t.Fatal(err)
			}
			got := encodeBatch(nil, msgs, noIdentity, false)
			if !bytes.Equal(got, want.Bytes()) {
				t.Fatalf("encodeBatch differs from kafka-go's encoding:\n got %x\nwant %x", got, want.Bytes())
			}
		})
	}
}

// TestEncodeBatchCarriesTheIdentity: kafka-go's decoder reads back the
// producer id, epoch, base sequence and transactional bit, and the records
// (which proves the CRC and lengths: it checks neither, so the bytes are
// also compared above).
func TestEncodeBatchCarriesTheIdentity(t *testing.T) {
	msgs := batchCases()["headers"]
	msgs = append(msgs, batchCases()["times"]...)
	id := producerIdentity{id: 4711, epoch: 3, seq: 1_000_000}
	for _, txn := range []bool{false, true} {
		raw := encodeBatch([]byte("prefix"), msgs, id, txn)[len("prefix"):]
		var rs protocol.RecordSet
		if _, err := rs.ReadFrom(bytes.NewReader(raw)); err != nil {
			t.Fatal(err)
		}
		st, ok := rs.Records.(*protocol.RecordStream)
		if !ok || len(st.Records) != 1 {
			t.Fatalf("decoded %T, want a stream of one batch", rs.Records)
		}
		b, ok := st.Records[0].(*protocol.RecordBatch)
		if !ok {
			t.Fatalf("decoded %T, want a record batch", rs.Records)
		}
		if b.ProducerID != id.id || b.ProducerEpoch != id.epoch || b.BaseSequence != id.seq {
			t.Fatalf("identity read back as %d/%d/%d, want %+v", b.ProducerID, b.ProducerEpoch, b.BaseSequence, id)
		}
		if rs.Attributes.Transactional() != txn {
			t.Fatalf("transactional %v, want %v", rs.Attributes.Transactional(), txn)
		}
		for i := 0; ; i++ {
			r, err := rs.Records.ReadRecord()
			if err == io.EOF {
				if i != len(msgs) {
					t.Fatalf("read %d records, want %d", i, len(msgs))
				}
				break
			}
			if err != nil {
				t.Fatal(err)
			}
			v, _ := io.ReadAll(r.Value)
			if !bytes.Equal(v, msgs[i].Value) || !r.Time.Equal(msgs[i].Time) || len(r.Headers) != len(msgs[i].Headers) {
				t.Fatalf("record %d read back as %q at %v (%d headers), want %q at %v", i, v, r.Time, len(r.Headers), msgs[i].Value, msgs[i].Time)
			}
		}
	}
}

// messageRecords reads messages as the records of a batch: what kafka-go's
// own encoder takes, to compare encodeBatch with.
type messageRecords struct {
	msgs       []kafka.Message
	i          int
	rec        kafka.Record
	key, value bytesReader
}

func (r *messageRecords) ReadRecord() (*kafka.Record, error) {
	if r.i >= len(r.msgs) {
		return nil, io.EOF
	}
	m := &r.msgs[r.i]
	r.i++
	r.rec = kafka.Record{Time: m.Time, Headers: m.Headers}
	if m.Key != nil {
		r.key.Reset(m.Key)
		r.rec.Key = &r.key
	}
	if m.Value != nil {
		r.value.Reset(m.Value)
		r.rec.Value = &r.value
	}
	return &r.rec, nil
}

type bytesReader struct{ bytes.Reader }

func (*bytesReader) Close() error { return nil }
