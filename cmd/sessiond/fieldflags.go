package main

import (
	"errors"
	"fmt"
	"strings"

	"github.com/sessiond/sessiond/cmd/kafkaflags"
	"github.com/sessiond/sessiond/internal/config"
)

// fieldFlags names the flag (or variable) behind each configuration
// field, by the field's dotted path in service.Config or
// service.ReplayConfig; the connection's ("Conn.…") are cmd/kafkaflags'. Packages below cmd know no flag: their Validate
// returns a config.FieldError, and this table turns it into a usage error
// that names what the user set. A path is looked up whole, then without
// its leading parts ("Consumer.SessionTTL", then "SessionTTL").
var fieldFlags = map[string]string{
	"WireFormat":              "--wire-format",
	"Registry.URLs":           "--schema-registry-url",
	"Registry.User":           "--schema-registry-basic-auth-file or SESSIOND_SCHEMA_REGISTRY_USER/_PASSWORD",
	"Registry.CAFile":         "--schema-registry-ca-file",
	"Registry.Timeout":        "--schema-registry-timeout",
	"Kafka.Topic":             "--output-topic",
	"Nosto.Endpoint":          "--nosto-endpoint",
	"Nosto.Token":             "--nosto-token-file or " + envNostoToken,
	"Nosto.Lookup":            "--nosto-lookup",
	"Nosto.Concurrency":       "--nosto-concurrency",
	"Nosto.RPS":               "--nosto-rps",
	"Nosto.Timeout":           "--nosto-timeout",
	"Nosto.MaxRetry":          "--nosto-max-retry",
	"Group":                   "--group",
	"CartTopic":               "--cart-topic",
	"CustomerTopic":           "--customer-topic",
	"ActionTopic":             "--action-topic",
	"DeadLetterTopic":         "--dlq-topic",
	"ReplicationFactor":       "--replication-factor",
	"MinInsyncReplicas":       "--min-insync-replicas",
	"ChangelogTopic":          "--group",
	"SessionTTL":              "--session-ttl",
	"MaxClockSkew":            "--max-clock-skew",
	"SweepGrace":              "--sweep-grace",
	"MaxIdle":                 "--max-idle",
	"MaxBatch":                "--max-batch",
	"SessionTimeout":          "--group-session-timeout",
	"DrainTimeout":            "--drain-timeout",
	"CommitInterval":          "--commit-interval",
	"ProcessingGuarantee":     "--processing-guarantee",
	"ReadUncommitted":         "--isolation-level",
	"TransactionTimeout":      "--transaction-timeout",
	"Sinks":                   "--output-topic, --nosto-endpoint",
	"Replay.From":             "--from, --to",
	"Replay.Warmup":           "--warmup",
	"Replay.Partitions":       "--partitions",
	"Outputs":                 "--output-topic, --output-file, --nosto-endpoint, --dry-run",
	"Replay.Retry":            "--max-retry",
	"Replay.Retry.MaxElapsed": "--max-retry",
}

// flagOfField returns the flag behind field, trying shorter suffixes of
// the path.
func flagOfField(field string) (string, bool) {
	if conn, ok := strings.CutPrefix(field, "Conn."); ok {
		f := kafkaflags.FlagOfField(conn)
		return f, f != ""
	}
	for p := field; p != ""; {
		if f, ok := fieldFlags[p]; ok {
			return f, true
		}
		_, rest, cut := strings.Cut(p, ".")
		if !cut {
			break
		}
		p = rest
	}
	return "", false
}

// fieldUsage turns an error holding a config.FieldError into a usage error
// (exit 2) naming the flag; any other error is returned as it is (exit 1:
// not something the command line can fix).
func fieldUsage(err error) error {
	if err == nil {
		return nil
	}
	field, ok := config.FieldOf(err)
	if !ok {
		return err
	}
	if f, ok := flagOfField(field); ok {
		return usagef("%s: %v", f, err)
	}
	return usagef("%v", err)
}

// explain prefixes err with the flag behind its field error, if any, for
// errors that are not usage errors (a probe's diagnosis while running
// names the setting to change).
func explain(err error) error {
	field, ok := config.FieldOf(err)
	if !ok {
		return err
	}
	if f, ok := flagOfField(field); ok {
		return fmt.Errorf("%s: %w", f, err)
	}
	return err
}

// isUsage reports whether err is already a usage error.
func isUsage(err error) bool {
	var u usageError
	return errors.As(err, &u)
}
