// Package kclient is sessiond's Kafka client, built on segmentio/kafka-go's
// protocol and transport. Every Kafka connection of the program comes from
// one place here.
//
//   - Connection (conn.go): a ConnConfig (brokers, TLS with an optional CA
//     bundle and client certificate, SASL plain or SCRAM, dial timeout;
//     Validate only checks) becomes a Conn, from which every kafka-go
//     Transport, Dialer, Client and Writer is made. LoadSecrets reads the
//     SASL password from a file or SESSIOND_KAFKA_SASL_PASSWORD; no error
//     or String ever shows it. Problems with a setting are *config.FieldError,
//     named by the Go field path ("TLS.CAFile"): kclient knows no flag,
//     the commands map fields to theirs (cmd/kafkaflags).
//   - Probe (probe.go): a first contact with each broker that tells a
//     wrong port, a TLS/PLAINTEXT mismatch, an untrusted certificate or a
//     refused SASL login apart, instead of kafka-go's retries.
//   - Admin (topics.go, offsets.go, leaders.go): topic metadata and
//     creation, partition offsets, grouping by partition leader.
//   - Fetching: PartitionFetcher reads one topic-partition with Fetch
//     requests and, under ReadCommitted, drops aborted transactions'
//     records and skips control markers (aborted.go), reporting the
//     offsets they take. Its requests go through the Conn's FetchBatcher,
//     which merges the long polls of many readers into one request per
//     leader (or straight to the transport: NewDirectPartitionFetcher).
//   - Producing: the Conn's Producer sends every writer's records in as
//     few Produce requests as it can (natural batching); TopicWriter
//     writes one topic through it. A call's records keep their order per
//     partition, also across a partial failure (ErrNotSent).
//   - Group membership (group.go): Group joins a consumer group with
//     JoinGroup/SyncGroup through the transport, which finds the
//     coordinator for every request, so a coordinator that moves costs
//     no generation (kafka-go's ConsumerGroup ended it); a Generation
//     heartbeats, commits offsets with its id and member id, and ends on
//     a rebalance, a fencing, or a session timeout without an answer.
//   - Errors and retries (errors.go, retry.go, writer.go): IsFenced,
//     IsPermanent and IsRetryable classify Kafka errors once; RetryPolicy
//     (cenkalti/backoff/v4) is the one retry policy, and Write retries a
//     write's failed records with it until they are acknowledged, an
//     error is permanent or the context ends.
//
// Goroutines: a Generation's heartbeat loop is its own, ended and waited
// for by Generation.Stop. PartitionFetcher, Probe, the admin calls and Write run on
// their caller's goroutine and context. The Producer's rounds and the
// FetchBatcher's rounds and gather timers run in goroutines the Conn owns,
// on the Conn's lifetime context rather than the callers': Conn.Close
// cancels every round in flight and waits for all of them, and the
// Producer and FetchBatcher then refuse work with ErrClosed. Whoever makes
// a Conn closes it, after the last write through it (the service does at
// the end of Run). kafka-go Readers and Writers made from a Conn are their
// owners' to close.
//
// kafkatest starts the embedded kfake broker the tests run against (or
// points them at $KAFKA_BROKERS).
package kclient
