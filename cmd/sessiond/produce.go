package main

import (
	"context"
	"fmt"

	"github.com/segmentio/kafka-go"
	"github.com/sessiond/sessiond/internal/eventjson"
	"github.com/sessiond/sessiond/internal/kafkautil"
	"github.com/sessiond/sessiond/reducer"
	"github.com/sessiond/sessiond/schemas"
)

func init() {
	register("produce", command{summary: "publish JSON-line events (stdin) to the input topics as Avro", run: runProduce})
}

// produceBatch is how many records produce writes per request.
const produceBatch = 5000

func runProduce(ctx context.Context, args []string, io stdio) error {
	fs := newFlagSet("produce", io.err)
	brokers := fs.String("brokers", "localhost:9092", "bootstrap brokers, comma-separated")
	topics := [3]*string{
		reducer.KindCart:     fs.String("cart-topic", "cart-changed", "topic for cart_changed events"),
		reducer.KindCustomer: fs.String("customer-topic", "customer-changed", "topic for customer_changed events"),
		reducer.KindAction:   fs.String("action-topic", "actions", "topic for action events"),
	}
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	codecs, err := schemas.Load()
	if err != nil {
		return err
	}
	w := kafkautil.NewWriter(kafkautil.Brokers(*brokers), "", &kafka.Murmur2Balancer{})
	defer w.Close()
	p := &producer{w: w, codecs: codecs}
	for k, t := range topics {
		p.topics[k] = *t
	}
	rejected := 0
	err = eachLine(io.in, func(n int, line []byte, lerr error) error {
		if lerr == nil {
			lerr = p.add(line)
		}
		if lerr != nil {
			rejected++
			writeLineError(io.err, n, lerr)
			return nil
		}
		if len(p.batch) >= produceBatch {
			return p.flush(ctx)
		}
		return nil
	})
	if err == nil {
		err = p.flush(ctx)
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(io.err, `{"produced":%d,"rejected":%d}`+"\n", p.sent, rejected)
	if rejected > 0 {
		return exitError(1)
	}
	return nil
}

// producer batches encoded events per write.
type producer struct {
	w      *kafka.Writer
	codecs *schemas.Codecs
	topics [3]string
	batch  []kafka.Message
	sent   int
}

func (p *producer) add(line []byte) error {
	ev, err := eventjson.DecodeEvent(line)
	if err != nil {
		return err
	}
	v, err := p.codecs.EncodeEvent(nil, ev)
	if err != nil {
		return err
	}
	p.batch = append(p.batch, kafka.Message{Topic: p.topics[ev.Kind], Key: []byte(ev.VisitorID), Value: v})
	return nil
}

func (p *producer) flush(ctx context.Context) error {
	if len(p.batch) == 0 {
		return nil
	}
	if err := kafkautil.Write(ctx, p.w, p.batch, kafkautil.RetryPolicy{MaxElapsed: 2 * 60e9}, nil); err != nil {
		return fmt.Errorf("produce: %w", err)
	}
	p.sent += len(p.batch)
	p.batch = p.batch[:0]
	return nil
}
