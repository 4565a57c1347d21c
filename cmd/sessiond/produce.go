package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/segmentio/kafka-go"
	"github.com/sessiond/sessiond/consumer"
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
	fs := newFlagSet("produce", io)
	connCfg := kafkautil.DefaultConnConfig()
	var passwordFile string
	kafkautil.BindFlags(fs, &connCfg, &passwordFile)
	topics := [reducer.NumKinds]*string{
		reducer.KindCart:     fs.String("cart-topic", consumer.DefaultCartTopic, "topic for cart_changed events"),
		reducer.KindCustomer: fs.String("customer-topic", consumer.DefaultCustomerTopic, "topic for customer_changed events"),
		reducer.KindAction:   fs.String("action-topic", consumer.DefaultActionTopic, "topic for action events"),
	}
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if err := connCfg.LoadSecrets(passwordFile, os.LookupEnv); err != nil {
		return err
	}
	conn, err := kafkautil.NewConn(connCfg)
	if err != nil {
		return configError(fmt.Errorf("kafka connection: %w", err))
	}
	if err := conn.Probe(ctx); err != nil {
		return fmt.Errorf("kafka: %w", err)
	}
	names := []string{*topics[0], *topics[1], *topics[2]}
	if _, err := kafkautil.PartitionCounts(ctx, conn.Client(), names...); err != nil {
		return fmt.Errorf("input topics: %w (create them first)", err)
	}
	codecs, err := schemas.Load()
	if err != nil {
		return err
	}
	w := conn.Writer("", &kafka.Murmur2Balancer{})
	defer w.Close()
	p := &producer{w: w, codecs: codecs, progress: io.err, lastReport: time.Now()}
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
	topics [reducer.NumKinds]string
	batch  []kafka.Message
	sent   int

	progress   io.Writer // a JSON progress line every produceReportEvery
	lastReport time.Time
}

// produceReportEvery is how often a long produce reports progress.
const produceReportEvery = 5 * time.Second

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
		return fmt.Errorf("produce to %s: %w", p.topicsOf(), err)
	}
	p.sent += len(p.batch)
	p.batch = p.batch[:0]
	if time.Since(p.lastReport) >= produceReportEvery {
		p.lastReport = time.Now()
		fmt.Fprintf(p.progress, `{"progress":{"produced":%d}}`+"\n", p.sent)
	}
	return nil
}

// topicsOf names the topics of the batch being written.
func (p *producer) topicsOf() string {
	seen := map[string]bool{}
	var names []string
	for _, m := range p.batch {
		if !seen[m.Topic] {
			seen[m.Topic] = true
			names = append(names, m.Topic)
		}
	}
	return strings.Join(names, ", ")
}
