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
func newLoadWriter(brokers string, batchSize int, batchTimeout time.Duration) *kafka.Writer {
	return &kafka.Writer{
		Addr:         kafka.TCP(kafkautil.Brokers(brokers)...),
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
