// Package kafkatest gives tests a real Kafka-protocol broker over TCP and
// the helpers to use it: random topic names, topic creation, producing and
// reading back.
//
// Brokers returns the brokers in KAFKA_BROKERS when that is set (a real
// Apache Kafka started by scripts/kafka.sh, or any cluster), otherwise an
// embedded github.com/twmb/franz-go/pkg/kfake cluster that lives as long as
// the test. Nothing here fakes the client: kafka-go speaks the protocol to
// whichever broker it is given.
package kafkatest
