package kclient

import (
	"context"
	"errors"
	"fmt"
	"io"
	"testing"

	"github.com/cenkalti/backoff/v4"
	"github.com/segmentio/kafka-go"
)

func TestErrorClasses(t *testing.T) {
	wrap := func(err error) error { return fmt.Errorf("commit: %w", err) }
	tests := []struct {
		name                         string
		err                          error
		fenced, permanent, retryable bool
	}{
		{"nil", nil, false, false, false},
		{"connection reset", io.ErrUnexpectedEOF, false, false, true},
		{"leader moved", kafka.NotLeaderForPartition, false, false, true},
		{"request timed out", kafka.RequestTimedOut, false, false, true},
		{"rebalance in progress", kafka.RebalanceInProgress, true, false, false},
		{"illegal generation, wrapped", wrap(kafka.IllegalGeneration), true, false, false},
		{"unknown member", kafka.UnknownMemberId, true, false, false},
		{"fenced instance", kafka.FencedInstanceID, true, false, false},
		{"message too large", kafka.MessageTooLargeError{}, false, true, false},
		{"message size too large", kafka.MessageSizeTooLarge, false, true, false},
		{"sasl failed", wrap(kafka.SASLAuthenticationFailed), false, true, false},
		{"topic authorization", kafka.TopicAuthorizationFailed, false, true, false},
		{"connection closed", wrap(ErrClosed), false, true, false},
		{"not sent after an earlier failure", wrap(ErrNotSent), false, false, true},
		{"marked permanent", backoff.Permanent(errors.New("bad")), false, true, false},
		{"context canceled", wrap(context.Canceled), false, false, false},
		{"deadline", context.DeadlineExceeded, false, false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := IsFenced(tt.err); got != tt.fenced {
				t.Errorf("IsFenced = %v, want %v", got, tt.fenced)
			}
			if got := IsPermanent(tt.err); got != tt.permanent {
				t.Errorf("IsPermanent = %v, want %v", got, tt.permanent)
			}
			if got := IsRetryable(tt.err); got != tt.retryable {
				t.Errorf("IsRetryable = %v, want %v", got, tt.retryable)
			}
		})
	}
}
