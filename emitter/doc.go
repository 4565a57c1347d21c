// Package emitter delivers session updates downstream. Every sink has the
// consumer's Sink shape (Name, Write) and returns nil from Write only once
// every update is durably accepted; the consumer commits its input offsets
// only after that.
//
//   - KafkaSink writes Avro session_update records
//     (schemas/session_update.avsc) to the output topic, keyed by
//     visitor_id, partitioned with the Java-compatible murmur2
//     partitioner and acknowledged by all in-sync replicas, through the
//     connection's shared producer (internal/kclient).
//   - NostoSink sends each update to Nosto's GraphQL API (one visitor's
//     updates one at a time, Idempotency-Key = update_id) and hands what
//     Nosto refuses to a dead-letter callback; its Probe is the start-up
//     check of the endpoint and the token (a query, no update).
//   - FileSink writes JSON lines in the format of `sessiond reduce`;
//     CountSink (a dry run) only counts.
//   - ReferenceHasher wraps any sink so that it sends
//     hex(HMAC-SHA256(key, customer_reference)); the assembly (service/)
//     wraps every sink with it when a key is given.
//
// deadletter.go is the one header set of every dead-letter record: input
// records the consumer rejects (with their provenance) and updates Nosto
// refuses (with Nosto's answer).
//
// Metrics (NostoMetrics, registered by the assembly when the Nosto sink is
// on): sessiond_nosto_requests_total{outcome,status},
// sessiond_nosto_retries_total, sessiond_nosto_request_seconds,
// sessiond_nosto_in_flight, sessiond_nosto_backlog and
// sessiond_nosto_dead_lettered_total{reason}.
package emitter
