package kafkautil

import (
	"strings"
	"time"

	"github.com/segmentio/kafka-go"
)

// Brokers splits a comma-separated bootstrap list, dropping blanks.
func Brokers(list string) []string {
	var out []string
	for _, b := range strings.Split(list, ",") {
		if b = strings.TrimSpace(b); b != "" {
			out = append(out, b)
		}
	}
	return out
}

// NewClient returns a kafka-go client for admin and offset requests. The
// client's transport routes each request to the right broker.
func NewClient(brokers []string) *kafka.Client {
	return &kafka.Client{Addr: kafka.TCP(brokers...), Timeout: 30 * time.Second}
}
