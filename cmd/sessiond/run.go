package main

import (
	"context"
	"flag"
	"io"
	"log/slog"
	"os"
	"strings"

	"github.com/sessiond/sessiond/cmd/kafkaflags"
	"github.com/sessiond/sessiond/consumer"
	"github.com/sessiond/sessiond/emitter"
	"github.com/sessiond/sessiond/internal/config"
	"github.com/sessiond/sessiond/service"
)

func init() {
	register("run", command{summary: "run the service: consume, reduce, emit", run: runService})
}

// bindCommonFlags binds the flags that run and replay share (the
// connection, the wire format, the inputs and the reducer's time
// settings, the Kafka and Nosto sinks, the secrets' files) into c and p,
// whose current values are the defaults.
func bindCommonFlags(fs *flag.FlagSet, c *service.Common, p *consumer.Pipeline, passwordFile *string, secrets *secretFiles) *wireFlags {
	kafkaflags.Bind(fs, &c.Conn, passwordFile)
	fs.Var((*isolationLevel)(&p.ReadUncommitted), "isolation-level", "how input topics written in transactions are read: read_committed (aborted records never applied) or read_uncommitted")
	fs.StringVar(&p.CartTopic, "cart-topic", p.CartTopic, "cart_changed input topic")
	fs.StringVar(&p.CustomerTopic, "customer-topic", p.CustomerTopic, "customer_changed input topic")
	fs.StringVar(&p.ActionTopic, "action-topic", p.ActionTopic, "action input topic")
	fs.DurationVar(&p.SessionTTL, "session-ttl", p.SessionTTL, "event-time inactivity after which a snapshot expires")
	fs.DurationVar(&p.MaxClockSkew, "max-clock-skew", p.MaxClockSkew, "how far ahead of its Kafka timestamp a record's occurred_at may move stream time (housekeeping only)")
	fs.DurationVar(&p.SweepGrace, "sweep-grace", p.SweepGrace, "broker time a visitor stays in memory after its last record, however old its occurred_at (0: event time alone)")
	bindNostoFlags(fs, &c.Nosto, secrets)
	return bindWireFlags(fs, &c.WireFormat, &c.Registry)
}

// bindServiceFlags binds the service's flags straight into cfg's fields;
// cfg's current values (service.DefaultConfig) are the defaults.
func bindServiceFlags(fs *flag.FlagSet, cfg *service.Config, passwordFile *string, secrets *secretFiles) *wireFlags {
	c := &cfg.Consumer
	wire := bindCommonFlags(fs, &cfg.Common, &c.Pipeline, passwordFile, secrets)
	fs.StringVar(&c.Group, "group", c.Group, "consumer group; also prefixes the changelog topic <group>-snapshots")
	fs.StringVar(&cfg.Kafka.Topic, "output-topic", cfg.Kafka.Topic, "topic receiving session updates (empty: Kafka sink off)")
	fs.StringVar(&c.DeadLetterTopic, "dlq-topic", c.DeadLetterTopic, "dead-letter topic for rejected records")
	fs.IntVar(&c.ReplicationFactor, "replication-factor", c.ReplicationFactor, "replication factor of the changelog and dead-letter topics sessiond creates (-1: the brokers' default)")
	fs.IntVar(&c.MinInsyncReplicas, "min-insync-replicas", c.MinInsyncReplicas, "min.insync.replicas of the topics sessiond creates (-1: the brokers' default)")
	fs.DurationVar(&c.MaxIdle, "max-idle", c.MaxIdle, "how long a caught-up input partition is waited for (0: not at all)")
	fs.StringVar(&cfg.HTTPAddr, "http-addr", cfg.HTTPAddr, "address of /livez, /readyz and /metrics (empty: off)")
	fs.IntVar(&c.MaxBatch, "max-batch", c.MaxBatch, "events per partition between two flushes")
	fs.DurationVar(&c.SessionTimeout, "group-session-timeout", c.SessionTimeout, "consumer group session timeout: how soon a dead member's partitions move")
	fs.DurationVar(&c.CommitInterval, "commit-interval", c.CommitInterval, "how often each partition writes its changelog and commits (a visitor touched many times in between is written once; a crash replays about this much input); 0: every batch")
	fs.DurationVar(&c.DrainTimeout, "drain-timeout", c.DrainTimeout, "how long the drain after SIGTERM or a rebalance may take (keep it below the pod's grace period)")
	fs.StringVar(&c.ProcessingGuarantee, "processing-guarantee", c.ProcessingGuarantee, "at-least-once (a crash re-sends the updates since the last commit) or exactly-once (each partition's updates, dead letters, changelog and offsets commit in one Kafka transaction per commit interval; read_committed readers see each update once)")
	fs.DurationVar(&c.TransactionTimeout, "transaction-timeout", c.TransactionTimeout, "exactly-once: transaction.timeout.ms, how long a dead member's open transaction holds read_committed readers before the coordinator aborts it")
	return wire
}

// bindNostoFlags declares the Nosto sink's flags (run and replay).
func bindNostoFlags(fs *flag.FlagSet, n *emitter.NostoConfig, secrets *secretFiles) {
	fs.StringVar(&n.Endpoint, "nosto-endpoint", n.Endpoint, "Nosto GraphQL URL, e.g. https://api.nosto.com/v1/graphql (empty: Nosto sink off)")
	fs.StringVar(&secrets.nostoToken, "nosto-token-file", "", "file holding the Nosto API_APPS token (or set "+envNostoToken+")")
	fs.StringVar(&n.Lookup, "nosto-lookup", n.Lookup, "cid (visitor_id is Nosto's session id) or ref (customer_reference)")
	fs.IntVar(&n.Concurrency, "nosto-concurrency", n.Concurrency, "requests to Nosto in flight, across visitors (one visitor's updates go one at a time)")
	fs.Float64Var(&n.RPS, "nosto-rps", n.RPS, "requests per second to Nosto at most (0: no cap)")
	fs.DurationVar(&n.Timeout, "nosto-timeout", n.Timeout, "bound on one request to Nosto")
	fs.DurationVar(&n.MaxRetry, "nosto-max-retry", n.MaxRetry, "how long one update is retried before it is dead-lettered")
	fs.BoolVar(&n.TestTraffic, "nosto-test-traffic", n.TestTraffic, "send X-Nosto-Ignore: True (not counted in Nosto's statistics)")
	fs.StringVar(&secrets.hmacKey, "customer-reference-hmac-key-file", "", "file holding a key: customer_reference is sent as hex(HMAC-SHA256(key, reference)) (or set "+envHMACKey+")")
}

// Secrets that are never flag values.
const (
	envNostoToken = "SESSIOND_NOSTO_TOKEN"
	envHMACKey    = "SESSIOND_CUSTOMER_REFERENCE_HMAC_KEY"
)

// secretFiles are the files secrets may be read from.
type secretFiles struct{ nostoToken, hmacKey string }

// load reads the Nosto token and the HMAC key from their files or
// variables into cfg.
func (f secretFiles) load(cfg *service.Common, lookup func(string) (string, bool)) error {
	token, key, err := f.read(lookup)
	cfg.Nosto.Token, cfg.HMACKey = token, key
	return err
}

// read returns the Nosto token and the HMAC key.
func (f secretFiles) read(lookup func(string) (string, bool)) (token string, key []byte, err error) {
	if token, err = secret("--nosto-token-file", f.nostoToken, envNostoToken, lookup); err != nil {
		return "", nil, err
	}
	k, err := secret("--customer-reference-hmac-key-file", f.hmacKey, envHMACKey, lookup)
	return token, []byte(k), err
}

// secret reads a secret from its file or, without one, its variable.
func secret(flagName, file, env string, lookup func(string) (string, bool)) (string, error) {
	v, fromEnv := lookup(env)
	switch {
	case file != "" && fromEnv:
		return "", usagef("%s and %s both given: use one", flagName, env)
	case file != "":
		b, err := os.ReadFile(file)
		if err != nil {
			return "", usagef("%s: %v", flagName, err)
		}
		return strings.TrimRight(string(b), "\r\n"), nil
	}
	return v, nil
}

func runService(ctx context.Context, args []string, io stdio) error {
	cfg := service.DefaultConfig()
	fs := newFlagSet("run", io)
	var passwordFile string
	var secrets secretFiles
	wire := bindServiceFlags(fs, &cfg, &passwordFile, &secrets)
	logLevel := fs.String("log-level", "info", "debug, info, warn or error")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if err := wire.load(); err != nil {
		return err
	}
	if err := cfg.Conn.LoadSecrets(passwordFile, os.LookupEnv); err != nil {
		return fieldUsage(config.Within("Conn", err))
	}
	if err := secrets.load(&cfg.Common, os.LookupEnv); err != nil {
		return err
	}
	log, err := newLogger(io.err, *logLevel)
	if err != nil {
		return err
	}
	svc, err := service.New(cfg, log)
	if err != nil {
		return fieldUsage(err)
	}
	defer logStopOn(ctx, log, cfg.Consumer.DrainTimeout)()
	if err := svc.Run(ctx, nil); err != nil {
		// The service logs JSON: its fatal error is a JSON line too.
		log.Error("fatal", "error", explain(err))
		return exitError(1)
	}
	return nil
}

// newLogger returns the JSON logger of run and replay at the level named
// by --log-level.
func newLogger(w io.Writer, level string) (*slog.Logger, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(level)); err != nil {
		return nil, usagef("--log-level: %q is not debug, info, warn or error", level)
	}
	return slog.New(newJSONHandler(w, l)), nil
}
