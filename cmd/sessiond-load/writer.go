package main

import (
	"time"

	"github.com/segmentio/kafka-go"
	"github.com/sessiond/sessiond/internal/kafkautil"
)

// newLoadWriter returns the load generator's producer: keyed by visitor
// with the Java-compatible partitioner, acks from all replicas, LZ4 like
// kafkautil.NewWriter. Its BatchSize is sized to the writes: kafka-go
// allocates a []Message of BatchSize capacity (152 bytes each) for every
// partition batch, so kafkautil's 10000 would cost 1.5 MB per partition
// per write — CPU taken from the pipeline under test.
func newLoadWriter(conn *kafkautil.Conn, batchSize int, batchTimeout time.Duration) *kafka.Writer {
	return &kafka.Writer{
		Addr:         kafka.TCP(conn.Brokers()...),
		Transport:    conn.Transport(),
		Balancer:     &kafka.Murmur2Balancer{},
		RequiredAcks: kafka.RequireAll,
		MaxAttempts:  1,
		BatchSize:    batchSize,
		BatchBytes:   16 << 20,
		BatchTimeout: batchTimeout,
		WriteTimeout: 30 * time.Second,
		Compression:  kafka.Lz4,
	}
}

// readerConfig is a per-partition reader over the run's connection.
func readerConfig(cfg *config, topic string, p int) kafka.ReaderConfig {
	rc := cfg.conn.ReaderConfig(topic, p)
	rc.MinBytes, rc.MaxBytes, rc.MaxWait = 1, 1<<20, 500*time.Millisecond
	return rc
}
