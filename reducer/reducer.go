package reducer

import (
	"fmt"
	"time"
)

// Config tunes a Reducer. Start from DefaultConfig: as everywhere in
// sessiond, defaults are set there and only there, and Validate refuses a
// value that means nothing instead of replacing it.
type Config struct {
	// SessionTTL is the event-time inactivity after which a visitor's
	// snapshot expires. Default: 24h.
	SessionTTL time.Duration
	// Decode turns a snapshot stored by the caller back into a Snapshot:
	// RestoreEncoded keeps the bytes and Decode runs on the visitor's first
	// use. Its errors mean "no snapshot". The Reducer calls it and does
	// nothing else with it: counting or logging what does not decode is
	// the caller's business, inside Decode.
	// Default: nil (RestoreEncoded is refused).
	Decode func(data []byte) (*Snapshot, error)
}

// DefaultSessionTTL is Config.SessionTTL's default.
const DefaultSessionTTL = 24 * time.Hour

// DefaultConfig returns the defaults: a 24h session TTL, no Decode.
func DefaultConfig() Config { return Config{SessionTTL: DefaultSessionTTL} }

// Validate checks the configuration; it changes nothing.
func (c Config) Validate() error {
	if c.SessionTTL <= 0 {
		return fmt.Errorf("reducer: session TTL %v must be positive", c.SessionTTL)
	}
	return nil
}

// Result says what applying one event did.
type Result struct {
	Update    *Update // non-nil when the event is an action that produced an update
	Late      bool    // a cart/customer mutation older than the part's: ignored
	Duplicate bool    // an action id already applied: no update
	Expired   bool    // the visitor's previous snapshot expired before this event
}

// Reducer holds the snapshots of a set of visitors (in the pipeline: one
// input partition's). It is not safe for concurrent use; the zero value is
// not usable, call New.
type Reducer struct {
	ttl      int64
	visitors map[string]*Snapshot
	encoded  map[string]encoded // restored, not decoded yet (encoded.go)
	decode   func([]byte) (*Snapshot, error)
}

// New returns an empty Reducer, or cfg's problem (a zero SessionTTL is
// refused: start from DefaultConfig).
func New(cfg Config) (*Reducer, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	return &Reducer{ttl: cfg.SessionTTL.Milliseconds(), visitors: make(map[string]*Snapshot),
		encoded: make(map[string]encoded), decode: cfg.Decode}, nil
}

// Len returns the number of visitors with a snapshot, decoded or not.
func (r *Reducer) Len() int { return len(r.visitors) + len(r.encoded) }

// Apply validates ev and folds it into its visitor's snapshot. A rejected
// event returns an error wrapping ErrInvalid and changes nothing.
func (r *Reducer) Apply(ev *Event) (Result, error) { return r.ApplyAt(ev, 0) }

// ApplyAt is Apply for an event the caller saw at touched (its own time,
// such as a Kafka timestamp): the snapshot's Touched becomes the newest
// such time, for ExpireIdle. touched changes no update.
func (r *Reducer) ApplyAt(ev *Event, touched int64) (Result, error) {
	if err := Validate(ev); err != nil {
		return Result{}, err
	}
	var res Result
	s := r.Snapshot(ev.VisitorID)
	if s != nil && ev.OccurredAt-s.LastSeen > r.ttl {
		s, res.Expired = nil, true
	}
	if s == nil {
		s = &Snapshot{LastSeen: ev.OccurredAt}
		r.visitors[ev.VisitorID] = s
	}
	if ev.OccurredAt > s.LastSeen {
		s.LastSeen = ev.OccurredAt
	}
	if touched > s.Touched {
		s.Touched = touched
	}
	switch ev.Kind {
	case KindCart:
		res.Late = applyCart(s, ev)
	case KindCustomer:
		res.Late = applyCustomer(s, ev)
	case KindAction:
		res.Update, res.Duplicate = applyAction(s, ev)
	}
	return res, nil
}

func applyCart(s *Snapshot, ev *Event) (late bool) {
	if ev.Cart == nil {
		return false
	}
	if s.Cart != nil && ev.OccurredAt < s.CartAt {
		return true
	}
	s.Cart, s.CartAt = ev.Cart, ev.OccurredAt
	return false
}

func applyCustomer(s *Snapshot, ev *Event) (late bool) {
	if ev.Customer == nil {
		return false
	}
	if s.Customer != nil && ev.OccurredAt < s.CustomerAt {
		return true
	}
	s.Customer, s.CustomerAt = ev.Customer, ev.OccurredAt
	return false
}

func applyAction(s *Snapshot, ev *Event) (*Update, bool) {
	h := HashEventID(ev.EventID)
	if s.seen(h) {
		return nil, true
	}
	s.remember(h)
	return &Update{
		UpdateID:   ev.EventID,
		VisitorID:  ev.VisitorID,
		OccurredAt: ev.OccurredAt,
		Action:     ev.Action,
		Cart:       s.Cart,
		Customer:   s.Customer,
	}, false
}
