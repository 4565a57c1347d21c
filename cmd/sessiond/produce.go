package main

import (
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/segmentio/kafka-go"
	"github.com/sessiond/sessiond/cmd/kafkaflags"
	"github.com/sessiond/sessiond/consumer"
	"github.com/sessiond/sessiond/internal/gen"
	"github.com/sessiond/sessiond/internal/kclient"
	"github.com/sessiond/sessiond/reducer"
	"github.com/sessiond/sessiond/schemas"
	"github.com/sessiond/sessiond/schemas/confluent"
	"github.com/sessiond/sessiond/schemas/eventjson"
	"github.com/sessiond/sessiond/service"
)

func init() {
	register("produce", command{summary: "publish JSON-line events (stdin) to the input topics as Avro", run: runProduce})
}

// produceBatch is how many records produce writes per request.
const produceBatch = 5000

func runProduce(ctx context.Context, args []string, io stdio) error {
	fs := newFlagSet("produce", io)
	connCfg := kclient.DefaultConnConfig()
	var passwordFile string
	kafkaflags.Bind(fs, &connCfg, &passwordFile)
	topics := [reducer.NumKinds]*string{
		reducer.KindCart:     fs.String("cart-topic", consumer.DefaultCartTopic, "topic for cart_changed events"),
		reducer.KindCustomer: fs.String("customer-topic", consumer.DefaultCustomerTopic, "topic for customer_changed events"),
		reducer.KindAction:   fs.String("action-topic", consumer.DefaultActionTopic, "topic for action events"),
	}
	wireFormat, registry := service.WireRaw, confluent.DefaultConfig()
	wire := bindWireFlags(fs, &wireFormat, &registry)
	var g generateFlags
	fs.IntVar(&g.events, "generate", 0, "instead of reading stdin, produce this many generated shopper events (-1: until interrupted)")
	fs.IntVar(&g.visitors, "visitors", 1000, "with --generate: distinct shoppers")
	fs.IntVar(&g.rate, "rate", 0, "with --generate: events per second (0: as fast as possible)")
	fs.Uint64Var(&g.seed, "seed", 1, "with --generate: seed of the stream")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if g.visitors < 1 || g.rate < 0 || g.events < -1 {
		return usagef("--generate, --visitors and --rate must be whole numbers (--visitors ≥ 1)")
	}
	if err := wire.load(); err != nil {
		return err
	}
	conn, err := openConn(ctx, connCfg, passwordFile)
	if err != nil {
		return err
	}
	defer conn.Close()
	names := []string{*topics[0], *topics[1], *topics[2]}
	if _, err := kclient.PartitionCounts(ctx, conn.Client(), names...); err != nil {
		return fmt.Errorf("input topics: %w (create them first)", err)
	}
	codecs, err := schemas.Load()
	if err != nil {
		return err
	}
	p := &producer{progress: io.err, lastReport: time.Now()}
	for k, t := range topics {
		p.topics[k] = *t
	}
	reg, err := wire.open(nil)
	if err != nil {
		return err
	}
	if p.enc, err = eventEncoderFor(ctx, reg, codecs, p.topics); err != nil {
		return err
	}
	w := conn.Writer("", &kafka.Murmur2Balancer{})
	defer w.Close()
	p.w = w
	if g.events != 0 {
		return p.generate(ctx, g, io)
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
	w   *kafka.Writer
	enc eventEncoder // bare Avro (schemas.Codecs) or Confluent-framed

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
	v, err := p.enc.EncodeEvent(nil, ev)
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
	if err := kclient.Write(ctx, p.w, p.batch, kclient.DefaultRetryPolicy().WithMaxElapsed(2*time.Minute), nil); err != nil {
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

// generateFlags are produce's --generate settings.
type generateFlags struct {
	events, visitors, rate int
	seed                   uint64
}

// generate produces the generated shopper stream of the demo (valid
// events, realistic carts and actions) at the given rate.
func (p *producer) generate(ctx context.Context, g generateFlags, io stdio) error {
	gn, err := gen.New(gen.Config{Seed: g.seed, Visitors: g.visitors})
	if err != nil {
		return usagef("--generate: %v", err)
	}
	per, every := produceBatch, time.Duration(0)
	if g.rate > 0 {
		per, every = max(1, g.rate/20), 50*time.Millisecond
	}
	next := time.Now()
	for sent := 0; g.events < 0 || sent < g.events; {
		for i := 0; i < per && (g.events < 0 || sent < g.events); i++ {
			ev := gn.Next()
			v, err := p.enc.EncodeEvent(nil, ev)
			if err != nil {
				return err
			}
			p.batch = append(p.batch, kafka.Message{Topic: p.topics[ev.Kind], Key: []byte(ev.VisitorID), Value: v})
			sent++
		}
		if err := p.flush(ctx); err != nil {
			if ctx.Err() != nil {
				break
			}
			return err
		}
		if every > 0 {
			next = next.Add(every)
			select {
			case <-ctx.Done():
			case <-time.After(time.Until(next)):
			}
		}
		if ctx.Err() != nil {
			break
		}
	}
	fmt.Fprintf(io.err, `{"produced":%d,"rejected":0}`+"\n", p.sent)
	return nil
}
