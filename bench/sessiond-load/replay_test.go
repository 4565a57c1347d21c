package main

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/segmentio/kafka-go"
	"github.com/sessiond/sessiond/internal/kclient"
	"github.com/sessiond/sessiond/internal/kclient/kafkatest"
)

// inputEnds gives every input topic-partition's end offset in the form
// `sessiond replay --end-offsets` reads.
func TestInputEnds(t *testing.T) {
	brokers := kafkatest.Embedded(t)
	tp := newTopics(2)
	kafkatest.CreateTopics(t, brokers, 2, tp.input[:]...)
	conn := kclient.PlainConn(brokers)
	w := conn.Writer(tp.input[2], kclient.PartitionBalancer{})
	t.Cleanup(func() { w.Close() })
	msgs := []kafka.Message{{Partition: 1, Value: []byte("a")}, {Partition: 1, Value: []byte("b")}, {Partition: 0, Value: []byte("c")}}
	if err := w.WriteMessages(context.Background(), msgs...); err != nil {
		t.Fatal(err)
	}
	got, err := inputEnds(context.Background(), conn.Client(), tp)
	if err != nil {
		t.Fatal(err)
	}
	want := strings.Join([]string{
		fmt.Sprintf("%s:0:0", tp.input[0]), fmt.Sprintf("%s:1:0", tp.input[0]),
		fmt.Sprintf("%s:0:0", tp.input[1]), fmt.Sprintf("%s:1:0", tp.input[1]),
		fmt.Sprintf("%s:0:1", tp.input[2]), fmt.Sprintf("%s:1:2", tp.input[2]),
	}, ",")
	if got != want {
		t.Errorf("inputEnds = %q, want %q", got, want)
	}
}
