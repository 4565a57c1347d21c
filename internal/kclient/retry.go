package kclient

import (
	"context"
	"time"

	"github.com/cenkalti/backoff/v4"
)

// RetryPolicy bounds how a failed write or commit is retried.
type RetryPolicy struct {
	// Initial is the first wait. Default: 50ms.
	Initial time.Duration
	// Max caps one wait. Default: 5s.
	Max time.Duration
	// MaxElapsed gives up after this long; 0 retries until the context
	// ends, which is what the pipeline wants for its sinks: a broker that is
	// down is waited for, not skipped. Default: 0.
	MaxElapsed time.Duration
}

func (p RetryPolicy) backOff(ctx context.Context) backoff.BackOff {
	b := backoff.NewExponentialBackOff()
	b.InitialInterval = orDefault(p.Initial, 50*time.Millisecond)
	b.MaxInterval = orDefault(p.Max, 5*time.Second)
	b.MaxElapsedTime = p.MaxElapsed
	return backoff.WithContext(b, ctx)
}

func orDefault(d, def time.Duration) time.Duration {
	if d <= 0 {
		return def
	}
	return d
}

// Retry runs op until it succeeds, returns a permanent error (wrap it with
// backoff.Permanent), the policy gives up or ctx ends. notify, if not nil, is
// told of each failure before the wait.
func (p RetryPolicy) Retry(ctx context.Context, op func() error, notify func(err error, wait time.Duration)) error {
	return backoff.RetryNotify(op, p.backOff(ctx), notify)
}
