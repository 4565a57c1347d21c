// Package emitter delivers session updates downstream. KafkaSink writes
// them as Avro session_update records (schemas/session_update.avsc) to the
// output topic, keyed by visitor_id and partitioned with the Java-compatible
// murmur2 partitioner, acknowledged by all in-sync replicas. A sink's Write
// returns nil only once every update is durably accepted; the consumer
// commits its input offsets only after that.
package emitter
