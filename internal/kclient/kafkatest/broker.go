package kafkatest

import (
	"os"
	"strings"
	"testing"

	"github.com/twmb/franz-go/pkg/kfake"
)

// EnvBrokers names the variable pointing the tests at an external cluster.
const EnvBrokers = "KAFKA_BROKERS"

// External reports whether the tests run against an external cluster.
func External() bool { return os.Getenv(EnvBrokers) != "" }

// Brokers returns bootstrap brokers for tb: KAFKA_BROKERS when set, else a
// fresh embedded cluster closed when the test ends.
func Brokers(tb testing.TB) []string {
	tb.Helper()
	if v := os.Getenv(EnvBrokers); v != "" {
		return strings.Split(v, ",")
	}
	return Embedded(tb)
}

// Embedded starts an in-process kfake cluster on a loopback port and
// returns its address. It is closed by tb.Cleanup.
func Embedded(tb testing.TB) []string {
	tb.Helper()
	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.AllowAutoTopicCreation())
	if err != nil {
		tb.Fatalf("start embedded kafka: %v", err)
	}
	tb.Cleanup(c.Close)
	return c.ListenAddrs()
}
