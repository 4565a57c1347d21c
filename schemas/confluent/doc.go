// Package confluent reads and writes the Confluent wire format: each
// record's value is magic byte 0, a 4-byte big-endian schema id, then the
// Avro binary written with that schema, whose text a Confluent-compatible
// Schema Registry (Confluent, Karapace, Apicurio's ccompat API, Redpanda)
// serves at GET /schemas/ids/{id}.
//
// Reading (Decoder): the header is parsed, the writer's schema fetched once
// per id and kept for the life of the process (ids are immutable, so after
// warm-up the registry is not needed), decoded with goavro and resolved to
// sessiond's schema of the topic's event kind by a plan compiled once per
// (id, kind) (package resolve). A writer's schema identical to sessiond's
// skips the resolution and decodes exactly as --wire-format raw does.
//
// What dead-letters (the error says why, naming the field where there is
// one): no magic byte or fewer than 5 bytes; an id the registry does not
// have; a schema that is not Avro, uses references or does not compile;
// a schema sessiond's cannot read; a datum that does not resolve. What
// waits: a registry that cannot be reached, answers 5xx, 429 or refuses the
// credentials, on an id not yet cached; the fetch is retried with
// exponential backoff for as long as it takes, the partition waiting,
// since those records will decode once the registry is back.
//
// Writing (UpdateEncoder, EventEncoder): sessiond's schemas are registered
// under the topic-name strategy, "<topic>-value", and each record framed
// with the id the registry gives.
//
// The registry client is franz-go's pkg/sr (HTTP only); credentials never
// appear in logs or errors.
package confluent
