package gen

import (
	"errors"
	"fmt"
	"math"
	"time"
)

// Defaults of Config's zero fields.
const (
	DefaultVisitors  = 1000
	DefaultMeanGap   = 50 * time.Millisecond
	DefaultLoginRate = 0.4
)

// DefaultStart is Config.Start's default: Black Friday 2026, 10:00 UTC.
var DefaultStart = time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)

// MaxVisitors bounds Config.Visitors.
const MaxVisitors = 1 << 30

// Config describes a stream. The zero Config is valid: every zero field
// takes its default.
type Config struct {
	// Seed selects the stream; the same Config always gives the same events.
	Seed uint64

	// Visitors is the number of distinct visitors (VisitorID "v-000000" to
	// "v-000999" for the default 1000). Memory is proportional to it.
	Visitors int

	// Start is the OccurredAt of the first event, truncated to the
	// millisecond. Default: DefaultStart, 2026-11-27T10:00:00Z.
	Start time.Time

	// MeanGap is the mean event-time gap between consecutive events of the
	// whole stream (gaps are exponentially distributed, as for independent
	// shoppers). Default: 50ms, i.e. 20 events per second of event time.
	MeanGap time.Duration

	// LoginRate is the fraction of visitors who have an account and log in
	// from time to time; the others stay guests. Default: 0.4. A negative
	// value means that nobody ever logs in.
	LoginRate float64

	// DuplicateRate is the probability that an action is delivered a
	// second time, 1 to 20 events later, with the same EventID and
	// OccurredAt (an at-least-once producer's retry). Default: 0. With
	// duplicates, OccurredAt may step back by the re-send delay.
	DuplicateRate float64

	// LateRate is the probability that a cart_changed or customer_changed
	// event carries an OccurredAt 1 to 5 seconds older than stream time (but
	// not before Start). Default: 0. The reducer ignores a late event only
	// if the visitor's part changed since; a visitor acts about every
	// Visitors × MeanGap (50s by default), so fewer visitors make more late
	// events count as late.
	LateRate float64
}

// Validate reports a field out of range. Zero fields are valid: they take
// their defaults.
func (c Config) Validate() error {
	var errs []error
	if c.Visitors < 0 || c.Visitors > MaxVisitors {
		errs = append(errs, fmt.Errorf("gen: visitors must be in [0 (default), %d], got %d", MaxVisitors, c.Visitors))
	}
	if c.MeanGap < 0 {
		errs = append(errs, fmt.Errorf("gen: mean gap must not be negative, got %s", c.MeanGap))
	}
	if math.IsNaN(c.LoginRate) || c.LoginRate > 1 {
		errs = append(errs, fmt.Errorf("gen: login rate must be at most 1, got %v", c.LoginRate))
	}
	for _, r := range [...]struct {
		name string
		v    float64
	}{{"duplicate rate", c.DuplicateRate}, {"late rate", c.LateRate}} {
		if !(r.v >= 0 && r.v <= 1) {
			errs = append(errs, fmt.Errorf("gen: %s must be in [0, 1], got %v", r.name, r.v))
		}
	}
	if !c.Start.IsZero() && (c.Start.Year() < 1970 || c.Start.Year() > 9999) {
		errs = append(errs, fmt.Errorf("gen: start must be within the years 1970 to 9999, got %s", c.Start))
	}
	return errors.Join(errs...)
}

// WithDefaults returns c with every zero field set to its default.
func (c Config) WithDefaults() Config {
	if c.Visitors == 0 {
		c.Visitors = DefaultVisitors
	}
	if c.Start.IsZero() {
		c.Start = DefaultStart
	}
	if c.MeanGap == 0 {
		c.MeanGap = DefaultMeanGap
	}
	if c.LoginRate == 0 {
		c.LoginRate = DefaultLoginRate
	}
	return c
}
