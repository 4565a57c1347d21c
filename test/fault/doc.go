// Package fault is sessiond's fault suite: it runs the real sessiond binary
// as separate processes against a real Kafka broker and breaks things while
// events flow — kill -9 at random moments, rolling restarts, a broker
// restart, poison records, unequal partition counts — then checks that no
// update was lost and that an update seen twice is identical.
//
// It is behind the `fault` build tag and needs KAFKA_BROKERS (scripts/test.sh
// starts Apache Kafka and sets it); the broker-restart case also needs
// KAFKA_RESTART_CMD. Each test logs a line starting with REPORT holding its
// figures; RELIABILITY.md quotes them.
package fault
