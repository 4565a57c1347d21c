package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/segmentio/kafka-go"
	"github.com/sessiond/sessiond/emitter"
	"github.com/sessiond/sessiond/internal/gen"
	"github.com/sessiond/sessiond/internal/kclient"
	"github.com/sessiond/sessiond/reducer"
	"github.com/sessiond/sessiond/schemas"
	"github.com/sessiond/sessiond/schemas/confluent"
	"github.com/sessiond/sessiond/schemas/confluent/confluenttest"
	"github.com/sessiond/sessiond/schemas/eventjson"
	"github.com/sessiond/sessiond/service"
	"github.com/twmb/franz-go/pkg/kfake"
	"golang.org/x/sync/errgroup"
)

func init() {
	register("demo", command{summary: "everything in one process: embedded Kafka, a shopper stream, the pipeline, the updates", run: runDemo})
}

// demoFlags are demo's own settings.
type demoFlags struct {
	events, visitors, rate, partitions int
	seed                               uint64
	follow, nosto                      bool
	httpAddr, wireFormat               string
}

func runDemo(ctx context.Context, args []string, io stdio) error {
	var d demoFlags
	fs := newFlagSet("demo", io)
	fs.IntVar(&d.events, "events", 600, "events to generate (with --follow: no limit)")
	fs.IntVar(&d.visitors, "visitors", 25, "distinct shoppers")
	fs.IntVar(&d.rate, "rate", 300, "events per second")
	fs.IntVar(&d.partitions, "partitions", 3, "partitions per topic")
	fs.Uint64Var(&d.seed, "seed", 1, "random seed of the shopper stream")
	fs.BoolVar(&d.follow, "follow", false, "keep generating until interrupted")
	fs.BoolVar(&d.nosto, "nosto", false, "send the updates to an in-process Nosto-like GraphQL server and print each mutation it receives (redacted) instead of the Avro updates")
	fs.StringVar(&d.httpAddr, "http-addr", "127.0.0.1:0", "address of /livez, /readyz, /metrics (port 0: any free port)")
	fs.StringVar(&d.wireFormat, "wire-format", service.WireRaw, "raw, or confluent: an embedded Schema Registry beside the embedded broker, every record framed with its schema id")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if d.wireFormat != service.WireRaw && d.wireFormat != service.WireConfluent {
		return usagef("--wire-format %q is not raw or confluent", d.wireFormat)
	}
	cluster, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.AllowAutoTopicCreation())
	if err != nil {
		return fmt.Errorf("start embedded kafka: %w", err)
	}
	defer cluster.Close()
	cfg := demoConfig(cluster.ListenAddrs(), d.httpAddr)
	switch d.wireFormat {
	case service.WireRaw:
	case service.WireConfluent:
		url, stop, err := confluenttest.Serve("127.0.0.1:0")
		if err != nil {
			return err
		}
		defer stop()
		cfg.WireFormat, cfg.Registry.URLs = service.WireConfluent, []string{url}
	}
	var nosto *demoNosto
	if d.nosto {
		if nosto, err = newDemoNosto(io.out); err != nil {
			return err
		}
		cfg.Kafka.Topic = "" // the updates go to Nosto only
		cfg.Nosto.Endpoint, cfg.Nosto.Token = nosto.url, "demo-token"
	}
	if err := createDemoTopics(ctx, &cfg, d.partitions); err != nil {
		return err
	}
	log := slog.New(newJSONHandler(io.err, slog.LevelWarn))
	svc, err := service.New(cfg, log)
	if err != nil {
		return err
	}
	ready := func(addr net.Addr) {
		fmt.Fprintf(io.err, "sessiond demo: embedded Kafka at %s, metrics at http://%s/metrics\n", strings.Join(cfg.Conn.Brokers, ","), addr)
		if cfg.WireFormat == service.WireConfluent {
			fmt.Fprintf(io.err, "sessiond demo: embedded Schema Registry at %s: inputs and updates in the Confluent wire format\n", cfg.Registry.URLs[0])
		}
		what := "one JSON update per action on stdout"
		if d.nosto {
			what = "each GraphQL mutation a local Nosto-like server receives on stdout (names and e-mails redacted)"
		}
		fmt.Fprintf(io.err, "sessiond demo: %d shoppers, %d events at %d/s; %s\n", d.visitors, d.events, d.rate, what)
		fmt.Fprintf(io.err, "sessiond demo: two deliberately broken records go to the dead-letter topic, to show it at work\n\n")
	}
	return runDemoParts(ctx, &d, &cfg, svc, nosto, ready, io)
}

// demoConfig is the service's defaults on the embedded broker, in the
// demo's own group.
func demoConfig(brokers []string, httpAddr string) service.Config {
	cfg := service.DefaultConfig()
	cfg.Conn.Brokers = brokers
	cfg.Consumer.Group = "sessiond-demo"
	cfg.HTTPAddr = httpAddr
	return cfg
}

func createDemoTopics(ctx context.Context, cfg *service.Config, partitions int) error {
	c := kclient.PlainConn(cfg.Conn.Brokers).Client()
	var specs []kclient.TopicSpec
	inputs := cfg.Consumer.InputTopics()
	for _, t := range append(inputs[:], cfg.Kafka.Topic, cfg.Consumer.DeadLetterTopic) {
		if t != "" {
			specs = append(specs, kclient.TopicSpec{Name: t, Partitions: partitions})
		}
	}
	return kclient.EnsureTopics(ctx, c, specs...)
}

// runDemoParts runs the pipeline, the shopper stream and the printers
// until every expected update is printed (or, with --follow, until ctx ends).
func runDemoParts(ctx context.Context, d *demoFlags, cfg *service.Config, svc *service.Service, nosto *demoNosto, ready func(net.Addr), io stdio) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error { return svc.Run(gctx, ready) })
	var dead atomic.Int64
	c := newCompletion()
	begin := time.Now()
	g.Go(func() error {
		n, poisoned, err := produceDemoStream(gctx, d, cfg)
		if err == nil && !d.follow {
			c.expect(n, poisoned)
		}
		return err
	})
	if nosto != nil {
		g.Go(func() error { return nosto.serve(gctx, c.printedOne) })
	} else {
		g.Go(func() error {
			return printTopic(gctx, cfg, cfg.Kafka.Topic, d.partitions, func(m kafka.Message) error {
				if err := printUpdate(io.out, m); err != nil {
					return err
				}
				c.printedOne()
				return nil
			})
		})
	}
	g.Go(func() error {
		return printTopic(gctx, cfg, cfg.Consumer.DeadLetterTopic, d.partitions, func(m kafka.Message) error {
			dead.Add(1)
			c.deadOne()
			fmt.Fprintf(io.err, "dead letter (a deliberate poison record, to show the dead-letter topic): %s\n", describeDeadLetter(m))
			return nil
		})
	})
	select {
	case <-c.done:
	case <-gctx.Done():
	}
	cancel()
	err := g.Wait()
	fmt.Fprintf(io.err, "\nsessiond demo: %d updates printed, %d records dead-lettered, in %.1fs\n",
		c.count(), dead.Load(), time.Since(begin).Seconds())
	if errors.Is(err, context.Canceled) {
		return nil
	}
	return err
}

// completion closes done once the numbers of updates and dead letters
// expected are known and that many are printed, whichever comes last.
type completion struct {
	mu                        sync.Mutex
	expected, printed         int64
	expectedDead, printedDead int64
	done                      chan struct{}
	closed                    bool
}

func newCompletion() *completion { return &completion{expected: -1, done: make(chan struct{})} }

func (c *completion) expect(updates, dead int64) {
	c.mu.Lock()
	c.expected, c.expectedDead = updates, dead
	c.check()
	c.mu.Unlock()
}
func (c *completion) deadOne()    { c.mu.Lock(); c.printedDead++; c.check(); c.mu.Unlock() }
func (c *completion) printedOne() { c.mu.Lock(); c.printed++; c.check(); c.mu.Unlock() }

func (c *completion) count() int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.printed
}

func (c *completion) check() {
	if !c.closed && c.expected >= 0 && c.printed >= c.expected && c.printedDead >= c.expectedDead {
		c.closed = true
		close(c.done)
	}
}

func printUpdate(w io.Writer, m kafka.Message) error {
	codecs, err := schemas.Load()
	if err != nil {
		return err
	}
	u, err := confluent.DecodeUpdate(codecs, m.Value)
	if err != nil {
		return fmt.Errorf("decode update: %w", err)
	}
	_, err = w.Write(append(eventjson.AppendUpdate(nil, u), '\n'))
	return err
}

func describeDeadLetter(m kafka.Message) string {
	h := map[string]string{}
	for _, x := range m.Headers {
		h[x.Key] = string(x.Value)
	}
	return fmt.Sprintf("%s/%s@%s: %s", h[emitter.HeaderSourceTopic], h[emitter.HeaderSourcePartition],
		h[emitter.HeaderSourceOffset], h[emitter.HeaderError])
}

// printTopic reads every partition of topic from the start and calls fn for
// each message until ctx ends.
func printTopic(ctx context.Context, cfg *service.Config, topic string, partitions int, fn func(kafka.Message) error) error {
	g, gctx := errgroup.WithContext(ctx)
	for p := 0; p < partitions; p++ {
		rc := kclient.PlainConn(cfg.Conn.Brokers).ReaderConfig(topic, p)
		rc.MinBytes, rc.MaxBytes, rc.MaxWait = 1, 1<<20, 500*time.Millisecond
		r := kafka.NewReader(rc)
		g.Go(func() error {
			defer r.Close()
			for {
				m, err := r.ReadMessage(gctx)
				if err != nil {
					if gctx.Err() != nil {
						return nil
					}
					return err
				}
				if err := fn(m); err != nil {
					return err
				}
			}
		})
	}
	return g.Wait()
}

// produceDemoStream writes the generated shopper stream at the demo's rate,
// with two poison records to show the dead-letter topic at work, and returns
// how many updates the pipeline should emit.
func produceDemoStream(ctx context.Context, d *demoFlags, cfg *service.Config) (actions, poisoned int64, err error) {
	codecs, err := schemas.Load()
	if err != nil {
		return 0, 0, err
	}
	g, err := gen.New(gen.Config{Seed: d.seed, Visitors: d.visitors})
	if err != nil {
		return 0, 0, err
	}
	var reg *confluent.Registry
	if cfg.WireFormat == service.WireConfluent {
		if reg, err = confluent.NewRegistry(cfg.Registry, nil, nil); err != nil {
			return 0, 0, err
		}
	}
	enc, err := eventEncoderFor(ctx, reg, codecs, cfg.Consumer.InputTopics())
	if err != nil {
		return 0, 0, err
	}
	w := kclient.PlainConn(cfg.Conn.Brokers).Writer("", &kafka.Murmur2Balancer{})
	defer w.Close()
	topics := cfg.Consumer.InputTopics()
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	perTick := max(1, d.rate/20)
	for sent := 0; d.follow || sent < d.events; {
		var msgs []kafka.Message
		for i := 0; i < perTick && (d.follow || sent < d.events); i++ {
			ev := g.Next()
			v, err := enc.EncodeEvent(nil, ev)
			if err != nil {
				return 0, 0, err
			}
			if ev.Kind == reducer.KindAction {
				actions++
			}
			msgs = append(msgs, kafka.Message{Topic: topics[ev.Kind], Key: []byte(ev.VisitorID), Value: v})
			sent++
			if sent == d.events/3 || sent == 2*d.events/3 {
				msgs = append(msgs, poison(sent, topics))
				poisoned++
			}
		}
		if err := kclient.Write(ctx, w, msgs, kclient.DefaultRetryPolicy(), nil); err != nil {
			return 0, 0, err
		}
		select {
		case <-ctx.Done():
			return actions, poisoned, ctx.Err()
		case <-tick.C:
		}
	}
	return actions, poisoned, nil
}

// poison returns a record no decoder accepts: bytes that are not Avro.
func poison(n int, topics [reducer.NumKinds]string) kafka.Message {
	return kafka.Message{Topic: topics[n%3], Key: []byte("v-poison"), Value: []byte("\xff\xfenot avro at all")}
}
