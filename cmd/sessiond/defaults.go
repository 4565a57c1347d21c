package main

import "github.com/sessiond/sessiond/consumer"

const (
	consumerDefaultTTL            = consumer.DefaultSessionTTL
	consumerDefaultMaxIdle        = consumer.DefaultMaxIdle
	consumerDefaultMaxBatch       = consumer.DefaultMaxBatch
	consumerDefaultSessionTimeout = consumer.DefaultSessionTimeout
)
