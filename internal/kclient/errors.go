package kclient

import (
	"context"
	"errors"

	"github.com/cenkalti/backoff/v4"
	"github.com/segmentio/kafka-go"
)

// Error classes of Kafka errors. Every decision to retry, give up or stop,
// here (Write) and in the consumer, is taken from these three, so the rules
// live in one place, next to the retry policy (see errors_test.go).

// IsFenced reports an error meaning this member no longer owns the
// partition: its generation ended. A commit refused so is dropped; the next
// owner replays from the previous commit.
func IsFenced(err error) bool {
	return errors.Is(err, kafka.RebalanceInProgress) || errors.Is(err, kafka.IllegalGeneration) ||
		errors.Is(err, kafka.UnknownMemberId) || errors.Is(err, kafka.FencedInstanceID)
}

// IsPermanent reports an error that retrying cannot cure: a record the
// broker will never take, a failed authentication, a closed Conn, or one
// marked with backoff.Permanent.
func IsPermanent(err error) bool {
	var perm *backoff.PermanentError
	var tooLarge kafka.MessageTooLargeError
	return errors.As(err, &perm) || errors.As(err, &tooLarge) || errors.Is(err, ErrClosed) ||
		errors.Is(err, ErrTxnAbortable) || errors.Is(err, ErrProducerFenced) ||
		errors.Is(err, kafka.MessageSizeTooLarge) ||
		errors.Is(err, kafka.SASLAuthenticationFailed) ||
		errors.Is(err, kafka.TopicAuthorizationFailed) ||
		errors.Is(err, kafka.GroupAuthorizationFailed) ||
		errors.Is(err, kafka.ClusterAuthorizationFailed)
}

// IsRetryable reports an error worth another attempt: neither permanent,
// nor fencing, nor the end of the caller's context.
func IsRetryable(err error) bool {
	return err != nil && !IsPermanent(err) && !IsFenced(err) &&
		!errors.Is(err, context.Canceled) && !errors.Is(err, context.DeadlineExceeded)
}
