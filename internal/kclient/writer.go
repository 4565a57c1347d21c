package kclient

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/cenkalti/backoff/v4"
	"github.com/segmentio/kafka-go"
)

// Writer returns a synchronous writer for topic that waits for all
// in-sync replicas and sends a partial batch after a millisecond, so that a
// whole batch handed to WriteMessages goes out at once. kafka-go's own
// retries are off: Write retries with the project's policy. BatchSize stays
// modest: kafka-go allocates a slice of that many messages for every
// partition batch it opens. No compression, as Kafka's producer default.
func (c *Conn) Writer(topic string, balancer kafka.Balancer) *kafka.Writer {
	return &kafka.Writer{
		Addr:         kafka.TCP(c.brokers...),
		Transport:    c.transport,
		Topic:        topic,
		Balancer:     balancer,
		RequiredAcks: kafka.RequireAll,
		MaxAttempts:  1,
		BatchSize:    1000,
		BatchBytes:   16 << 20,
		BatchTimeout: time.Millisecond,
		WriteTimeout: 30 * time.Second,
	}
}

// PartitionBalancer sends every message to the partition named in its
// Partition field: for the changelog, whose partition N holds the state of
// input partition N whatever the key hashes to.
type PartitionBalancer struct{}

// Balance returns msg.Partition.
func (PartitionBalancer) Balance(msg kafka.Message, _ ...int) int { return msg.Partition }

// MessageWriter is what Write writes with: a kafka-go Writer, or a
// TopicWriter of a shared Producer.
type MessageWriter interface {
	WriteMessages(ctx context.Context, msgs ...kafka.Message) error
}

// topicOf names w's topic for errors.
func topicOf(w MessageWriter) string {
	switch w := w.(type) {
	case *kafka.Writer:
		return w.Topic
	case *TopicWriter:
		return w.topic
	}
	return "?"
}

// Write sends msgs and retries, with policy, the ones that failed (in their
// order), until all are acknowledged, an error is permanent (IsPermanent:
// a record too large, a closed Conn) or ctx ends. notify is told of each
// failed attempt.
func Write(ctx context.Context, w MessageWriter, msgs []kafka.Message, policy RetryPolicy, notify func(error, time.Duration)) error {
	pending := msgs
	op := func() error {
		if len(pending) == 0 {
			return nil
		}
		err := w.WriteMessages(ctx, pending...)
		if err == nil {
			pending = nil
			return nil
		}
		var werrs kafka.WriteErrors
		if errors.As(err, &werrs) && len(werrs) == len(pending) {
			failed := pending[:0:0]
			for i, e := range werrs {
				if e != nil {
					failed = append(failed, pending[i])
				}
			}
			pending = failed
		}
		if perr := permanentWrite(err); perr != nil {
			// The record's own error, not the kafka.WriteErrors list, so
			// that errors.Is sees it (kafka-go's list does not unwrap).
			return backoff.Permanent(fmt.Errorf("write to %s: %w", topicOf(w), perr))
		}
		return fmt.Errorf("write %d messages to %s: %w", len(pending), topicOf(w), err)
	}
	return policy.Retry(ctx, op, notify)
}

// permanentWrite returns the write's error if it is permanent, else the
// first permanent error of one of its records, else nil.
func permanentWrite(err error) error {
	if IsPermanent(err) {
		return err
	}
	var werrs kafka.WriteErrors
	if errors.As(err, &werrs) {
		for _, e := range werrs {
			if e != nil && IsPermanent(e) {
				return e
			}
		}
	}
	return nil
}
