// Package kstreams holds the Kafka Streams peer of sessiond, for the
// side-by-side benchmark that answers "why not Kafka Streams?".
//
// The directory is a Maven project (pom.xml, src/main/java): the same job as
// sessiond — the three input topics reduced per visitor into a snapshot, one
// session update per accepted action, rejected records to a dead-letter
// topic — written with the Kafka Streams Processor API, a RocksDB state store
// with its changelog, and the repository's own schemas/*.avsc. It builds to
// target/sessiond-kstreams.jar:
//
//	mvn -q -B -f bench/kstreams/pom.xml -DskipTests package
//
// The Go side is only kstreams_test.go, which proves that the jar does the
// same job: it runs the jar against a real Kafka on a generated stream and
// compares every update with what package reducer computes. It is skipped
// unless KSTREAMS_JAR and KAFKA_BROKERS are set (scripts/test.sh sets both).
// README.md beside this file says how to run the jar, what its default and
// tuned settings are, and where its semantics differ from sessiond's.
package kstreams
