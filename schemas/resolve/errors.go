package resolve

import (
	"errors"
	"fmt"
)

// ErrIncompatible is wrapped by every resolution failure: a writer's
// schema sessiond's cannot read (Compile), or a datum that does not
// resolve (Apply).
var ErrIncompatible = errors.New("incompatible schema")

// Error is a resolution failure at one field.
type Error struct {
	Path string // dotted field path from the top-level record; "" for the record itself
	Msg  string
}

func (e *Error) Error() string {
	if e.Path == "" {
		return e.Msg
	}
	return "field " + e.Path + ": " + e.Msg
}

// Unwrap makes every Error match ErrIncompatible.
func (e *Error) Unwrap() error { return ErrIncompatible }

func errorf(path, format string, a ...any) error {
	return &Error{Path: path, Msg: fmt.Sprintf(format, a...)}
}

func join(path, name string) string {
	if path == "" {
		return name
	}
	return path + "." + name
}
