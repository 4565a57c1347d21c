// Package ratelog keeps a repeated log line from flooding the log: a
// Limiter lets at most one line through per interval and counts the
// occurrences it held back, so that the line that does go out can say how
// many it stands for. The consumer's log of rejected records and the
// Nosto sink's log of retried requests share it.
package ratelog

import (
	"sync"
	"time"
)

// Limiter lets one log line through per interval. The first occurrence
// goes through at once. It is safe for concurrent use; the zero value is
// not usable, use New.
type Limiter struct {
	every time.Duration
	now   func() time.Time

	mu   sync.Mutex
	last time.Time // when a line last went through; zero: never
	held int       // occurrences held back since
}

// New returns a Limiter letting one line through per every.
func New(every time.Duration) *Limiter {
	return &Limiter{every: every, now: time.Now}
}

// Allow notes one occurrence. It reports whether its line may be written
// now and, if so, how many occurrences were held back since the last line
// (then starting the count again); otherwise the occurrence is counted as
// held back.
func (l *Limiter) Allow() (held int, ok bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	if !l.last.IsZero() && now.Sub(l.last) < l.every {
		l.held++
		return 0, false
	}
	held, l.held, l.last = l.held, 0, now
	return held, true
}

// Wait is how long until a line may go through again: 0 if now.
func (l *Limiter) Wait() time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.last.IsZero() {
		return 0
	}
	return max(l.every-l.now().Sub(l.last), 0)
}
