// Package kclient holds the small pieces of Kafka plumbing that the
// consumer, the emitter and the commands share: a client for admin requests
// (topic metadata, creation, offsets), writers configured for durability, and
// the one retry policy used for every write and commit.
package kclient
