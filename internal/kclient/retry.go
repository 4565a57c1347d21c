package kclient

import (
	"context"
	"fmt"
	"time"

	"github.com/cenkalti/backoff/v4"
	"github.com/sessiond/sessiond/internal/config"
)

// RetryPolicy bounds how a failed write or commit is retried. Start from
// DefaultRetryPolicy: as every configuration of sessiond, a zero value is
// never replaced by a default (Validate refuses a zero wait).
type RetryPolicy struct {
	// Initial is the first wait. Must be positive. Default: 50ms.
	Initial time.Duration
	// Max caps one wait. At least Initial. Default: 5s.
	Max time.Duration
	// MaxElapsed gives up after this long; 0 retries until the context
	// ends, which is what the pipeline wants for its sinks: a broker that is
	// down is waited for, not skipped. A batch job (replay) sets it.
	// Default: 0.
	MaxElapsed time.Duration
}

// Defaults of RetryPolicy.
const (
	DefaultRetryInitial = 50 * time.Millisecond
	DefaultRetryMax     = 5 * time.Second
)

// DefaultRetryPolicy returns the defaults: 50ms doubling to 5s, until the
// context ends.
func DefaultRetryPolicy() RetryPolicy {
	return RetryPolicy{Initial: DefaultRetryInitial, Max: DefaultRetryMax}
}

// WithMaxElapsed returns p giving up after d.
func (p RetryPolicy) WithMaxElapsed(d time.Duration) RetryPolicy {
	p.MaxElapsed = d
	return p
}

// Validate reports the first problem with p. It changes nothing.
func (p RetryPolicy) Validate() error {
	switch {
	case p.Initial <= 0:
		return config.Errorf("Initial", "retry: first wait %v must be positive", p.Initial)
	case p.Max < p.Initial:
		return config.Errorf("Max", "retry: longest wait %v is shorter than the first %v", p.Max, p.Initial)
	case p.MaxElapsed < 0:
		return config.Errorf("MaxElapsed", "retry: time limit %v must not be negative", p.MaxElapsed)
	}
	return nil
}

// NewBackOff returns p's waits as a backoff.BackOff on ctx, for a loop
// that retries on its own (a fetch loop): NextBackOff is the next wait,
// Reset starts again after a success. p is assumed valid.
func (p RetryPolicy) NewBackOff(ctx context.Context) backoff.BackOff { return p.backOff(ctx) }

func (p RetryPolicy) backOff(ctx context.Context) backoff.BackOff {
	b := backoff.NewExponentialBackOff()
	b.InitialInterval = p.Initial
	b.MaxInterval = p.Max
	b.MaxElapsedTime = p.MaxElapsed
	return backoff.WithContext(b, ctx)
}

// Retry runs op until it succeeds, returns a permanent error (wrap it with
// backoff.Permanent), the policy gives up or ctx ends. notify, if not nil, is
// told of each failure before the wait. An invalid policy runs nothing and
// returns its problem.
func (p RetryPolicy) Retry(ctx context.Context, op func() error, notify func(err error, wait time.Duration)) error {
	if err := p.Validate(); err != nil {
		return fmt.Errorf("kclient: %w", err)
	}
	return backoff.RetryNotify(op, p.backOff(ctx), notify)
}
