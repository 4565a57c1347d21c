package reducer

import (
	"errors"
	"fmt"
)

// ErrInvalid is wrapped by every validation failure, so callers can tell a
// rejected event (dead-letter it, report it) from an internal failure.
var ErrInvalid = errors.New("invalid event")

// FieldError says which field of an event broke which rule.
type FieldError struct {
	Field  string // dotted path, e.g. "cart.items[2].quantity"
	Reason string // e.g. "must be at least 1"
}

func (e *FieldError) Error() string { return e.Field + ": " + e.Reason }

// Unwrap makes errors.Is(err, ErrInvalid) hold for every FieldError.
func (e *FieldError) Unwrap() error { return ErrInvalid }

func invalid(field, format string, args ...any) error {
	return &FieldError{Field: field, Reason: fmt.Sprintf(format, args...)}
}
