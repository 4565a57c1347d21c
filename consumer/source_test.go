package consumer

import (
	"context"
	"fmt"
	"log/slog"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"
	"github.com/sessiond/sessiond/internal/kclient"
	"github.com/sessiond/sessiond/internal/kclient/kafkatest"
	"github.com/sessiond/sessiond/reducer"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// rejectAll hands every record over as a rejected one, so the test sees
// records without needing Avro.
type rejectAll struct{}

func (rejectAll) DecodeEvent(context.Context, reducer.Kind, []byte) (*reducer.Event, error) {
	return nil, fmt.Errorf("raw")
}

// A source whose offset was deleted by retention while it consumed moves
// to the log start instead of failing forever.
func TestSourceRepositionsAfterRetention(t *testing.T) {
	brokers := kafkatest.Embedded(t)
	topic := kafkatest.Name("src")
	kafkatest.CreateTopics(t, brokers, 1, topic)
	conn := kclient.PlainConn(brokers)
	w := conn.Writer(topic, kclient.PartitionBalancer{})
	defer w.Close()
	msgs := make([]kafka.Message, 10)
	for i := range msgs {
		msgs[i] = kafka.Message{Value: []byte{byte(i)}}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := kclient.Write(ctx, w, msgs, kclient.DefaultRetryPolicy(), nil); err != nil {
		t.Fatal(err)
	}
	deleteBefore(t, ctx, brokers, topic, 5)

	src := newSource(conn, topic, 0, reducer.KindCart, 0, kclient.ReadCommitted, slog.New(slog.DiscardHandler))
	go src.fetch(ctx, rejectAll{})
	select {
	case rec := <-src.ch:
		if rec.msg.Offset != 5 {
			t.Fatalf("first record at offset %d, want 5 (the new log start)", rec.msg.Offset)
		}
	case <-ctx.Done():
		t.Fatal("no record after the offset went out of range")
	}
}

// deleteBefore deletes the records of partition 0 before offset (with
// franz-go: kafka-go has no DeleteRecords).
func deleteBefore(t *testing.T, ctx context.Context, brokers []string, topic string, offset int64) {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(brokers...))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	req := kmsg.NewPtrDeleteRecordsRequest()
	rt := kmsg.NewDeleteRecordsRequestTopic()
	rt.Topic = topic
	rp := kmsg.NewDeleteRecordsRequestTopicPartition()
	rp.Partition, rp.Offset = 0, offset
	rt.Partitions = append(rt.Partitions, rp)
	req.Topics = append(req.Topics, rt)
	req.TimeoutMillis = 10000
	resp, err := req.RequestWith(ctx, cl)
	if err != nil {
		t.Fatal(err)
	}
	if code := resp.Topics[0].Partitions[0].ErrorCode; code != 0 {
		t.Fatalf("delete records: error code %d", code)
	}
}
