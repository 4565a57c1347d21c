package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/segmentio/kafka-go"
	"github.com/sessiond/sessiond/cmd/kafkaflags"
	"github.com/sessiond/sessiond/internal/kclient"
)

// defaultBrokers is used when neither --brokers nor $KAFKA_BROKERS is set:
// the port scripts/kafka.sh listens on.
const defaultBrokers = "127.0.0.1:39092"

// config is the command line.
type config struct {
	brokers        string // for the report
	connCfg        kclient.ConnConfig
	passwordFile   string
	conn           *kclient.Conn
	partitions     int
	replication    int // of the topics created; 0: the brokers' default
	events         int
	visitors       int
	seed           uint64
	rate           int
	latencySeconds int
	sessiondBin    string
	profileDir     string
	jsonOut        string
	keepTopics     bool
	phaseTimeout   time.Duration
	wire           wire
	soak           time.Duration
	soakWarmup     time.Duration
	plotDir        string
	kstreamsJar    string
	java           string
	rebalance      string // "", rebalanceScaleOut or rebalanceRestart
	meanGap        time.Duration
	guarantee      string // sessiond's --processing-guarantee
}

// exactlyOnce reports whether sessiond runs with exactly-once processing:
// the harness then reads the output as a read_committed consumer would.
func (c *config) exactlyOnce() bool { return c.guarantee == "exactly-once" }

// sessiondGuarantee is the --processing-guarantee sessiond runs with
// (both: at-least-once first).
func (c *config) sessiondGuarantee() string {
	if c.guarantee == guaranteeBoth {
		return "at-least-once"
	}
	return c.guarantee
}

// outputIsolation is how the harness reads sessiond's output.
func (c *config) outputIsolation() kafka.IsolationLevel {
	if c.exactlyOnce() {
		return kafka.ReadCommitted
	}
	return kafka.ReadUncommitted
}

func parseConfig(args []string, stderr io.Writer) (*config, error) {
	c := &config{}
	fs := flag.NewFlagSet("sessiond-load", flag.ContinueOnError)
	fs.SetOutput(stderr)
	def := defaultBrokers
	if v := os.Getenv("KAFKA_BROKERS"); v != "" {
		def = v
	}
	c.connCfg = kclient.DefaultConnConfig()
	c.connCfg.Brokers = kclient.Brokers(def) // $KAFKA_BROKERS, if set, is the default
	kafkaflags.Bind(fs, &c.connCfg, &c.passwordFile)
	fs.IntVar(&c.partitions, "partitions", 12, "partitions of every topic")
	fs.IntVar(&c.replication, "replication-factor", 0, "replication factor of the topics it creates and of sessiond's changelog and dead-letter topics (0: the brokers' default; the report says what the topics got)")
	fs.IntVar(&c.events, "events", 1_000_000, "events to preload")
	fs.IntVar(&c.visitors, "visitors", 100_000, "distinct visitors of the generated stream")
	fs.Uint64Var(&c.seed, "seed", 1, "seed of the generated stream")
	fs.IntVar(&c.rate, "rate", 10_000, "events per second in the latency phase")
	fs.IntVar(&c.latencySeconds, "latency-seconds", 30, "seconds of the latency phase (0 skips it)")
	fs.StringVar(&c.sessiondBin, "sessiond-bin", "", "sessiond binary to run (default: go build ./cmd/sessiond into a temporary directory)")
	fs.StringVar(&c.profileDir, "profile", "", "run the pipeline in this process and write CPU and blocking profiles of phases 3-5 into this directory")
	fs.StringVar(&c.jsonOut, "json", "", "also write the results as JSON to this file (- for stdout)")
	fs.BoolVar(&c.keepTopics, "keep-topics", false, "keep the topics (and the group's changelog) at the end")
	fs.StringVar(&c.wire.format, "wire-format", "raw", "raw, or confluent: an in-process Schema Registry, every record framed (the baseline decodes through the registry path too)")
	fs.BoolVar(&c.wire.evolved, "evolved", false, "with --wire-format confluent: the producer writes evolved schemas (fields reordered and added), which sessiond resolves")
	fs.DurationVar(&c.soak, "soak", 0, "instead of the phases: run one sessiond for this long at --rate events/s, sampling RSS, heap, GC and lag every 5s")
	fs.DurationVar(&c.soakWarmup, "soak-warmup", 0, "with --soak: the start left out of the memory verdict, while the visitors' state fills (default: a fifth of --soak, at least 1m)")
	fs.StringVar(&c.plotDir, "plot-dir", "", "with --soak: write soak.csv and SVG plots (memory, lag, GC) into this directory")
	fs.StringVar(&c.kstreamsJar, "kstreams-jar", "", "also run the Kafka Streams implementation of the job from this jar (mvn -f bench/kstreams/pom.xml package builds it at "+defaultKStreamsJar+"), with its defaults and tuned, on the same topics before sessiond's pipeline phase")
	fs.StringVar(&c.java, "java", "java", "with --kstreams-jar: the java command")
	fs.DurationVar(&c.meanGap, "mean-gap", 0, "event-time gap between consecutive generated events; set, the preload's occurred_at times end now (a live stream; 0: the generator's 50ms from 2026-11-27, which 25M events carry 14 days on)")
	fs.StringVar(&c.rebalance, "rebalance", "", "in phase 5, a third of the way in: scale-out (a second member joins the group) or restart (the member is stopped with SIGTERM and a new one started); the report gives the new member's restore and the longest wait of an update")
	fs.StringVar(&c.guarantee, "processing-guarantee", "at-least-once", "sessiond's --processing-guarantee: at-least-once, exactly-once (the output is then read read_committed, as its consumers would: an update counts once its transaction has committed; the Kafka Streams peer runs with exactly_once_v2), or both: the phases at-least-once, then the pipeline and latency phases again exactly-once, side by side in one run")
	fs.DurationVar(&c.phaseTimeout, "phase-timeout", 15*time.Minute, "give up on a phase after this long")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	if err := c.validate(); err != nil {
		return nil, err
	}
	if err := c.connCfg.LoadSecrets(c.passwordFile, os.LookupEnv); err != nil {
		return nil, err
	}
	conn, err := kclient.NewConn(c.connCfg)
	if err != nil {
		return nil, fmt.Errorf("kafka connection: %w", err)
	}
	c.conn, c.brokers = conn, strings.Join(c.connCfg.Brokers, ",")
	return c, nil
}

func (c *config) validate() error {
	switch {
	case len(c.connCfg.Brokers) == 0:
		return errors.New("--brokers is empty")
	case c.partitions < 1:
		return errors.New("--partitions must be at least 1")
	case c.guarantee != "at-least-once" && c.guarantee != "exactly-once" && c.guarantee != guaranteeBoth:
		return fmt.Errorf("--processing-guarantee %q: want at-least-once, exactly-once or both", c.guarantee)
	case c.replication < 0:
		return errors.New("--replication-factor must not be negative")
	case c.events < 1:
		return errors.New("--events must be at least 1")
	case c.visitors < 1:
		return errors.New("--visitors must be at least 1")
	case c.rate < 1:
		return errors.New("--rate must be at least 1")
	case c.soak < 0:
		return errors.New("--soak must not be negative")
	case c.latencySeconds < 0:
		return errors.New("--latency-seconds must not be negative")
	case c.wire.format != "raw" && c.wire.format != "confluent":
		return errors.New("--wire-format must be raw or confluent")
	case c.kstreamsJar != "" && c.wire.format != "raw":
		return errors.New("--kstreams-jar needs --wire-format raw (the Kafka Streams application reads raw Avro)")
	case c.kstreamsJar != "" && c.soak > 0:
		return errors.New("--kstreams-jar does not go with --soak")
	case c.rebalance != "" && c.rebalance != rebalanceScaleOut && c.rebalance != rebalanceRestart:
		return errors.New("--rebalance must be scale-out or restart")
	case c.rebalance != "" && (c.latencySeconds == 0 || c.soak > 0 || c.inProcess()):
		return errors.New("--rebalance needs the latency phase (--latency-seconds > 0), no --soak and no --profile")
	case c.wire.evolved && c.wire.format != "confluent":
		return errors.New("--evolved needs --wire-format confluent")
	}
	return nil
}

// latency is the length of the latency phase.
func (c *config) latency() time.Duration { return time.Duration(c.latencySeconds) * time.Second }

// inProcess reports whether the pipeline runs inside this process.
func (c *config) inProcess() bool { return c.profileDir != "" }
