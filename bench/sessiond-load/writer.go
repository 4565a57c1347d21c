package main

import (
	"time"

	"github.com/segmentio/kafka-go"
	"github.com/sessiond/sessiond/internal/kclient"
)

// Both load producers key by visitor with the Java-compatible partitioner
// and want acks from all replicas.

// newPreloadWriter returns the preload's producer: a kafka-go Writer with
// LZ4, its BatchSize sized to the writes (kafka-go allocates a []Message
// of BatchSize capacity, 152 bytes each, for every partition batch).
func newPreloadWriter(conn *kclient.Conn, batchSize int, batchTimeout time.Duration) *kafka.Writer {
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

// newSteadyWriter returns the producer of the steady phases (latency,
// soak): the connection's batching Producer, as sessiond writes, which
// sends one request per broker with every partition's records, as a Java
// producer does. kafka-go's Writer sent one request per partition every
// 10 ms: a load on the shared broker that a real upstream would not add.
func newSteadyWriter(conn *kclient.Conn) *kclient.TopicWriter {
	return conn.BatchWriter("", &kafka.Murmur2Balancer{})
}

// readerConfig is a per-partition reader over the run's connection.
func readerConfig(cfg *config, topic string, p int) kafka.ReaderConfig {
	rc := cfg.conn.ReaderConfig(topic, p)
	rc.MinBytes, rc.MaxBytes, rc.MaxWait = 1, 1<<20, 500*time.Millisecond
	return rc
}
