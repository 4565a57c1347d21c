package config

import (
	"errors"
	"fmt"
)

// FieldError is a refused configuration value: Field is the dotted Go path
// of the field, relative to the configuration that Validate was called on.
type FieldError struct {
	Field string
	Err   error
}

func (e *FieldError) Error() string { return e.Err.Error() }

func (e *FieldError) Unwrap() error { return e.Err }

// Errorf returns a FieldError for field with a formatted message.
func Errorf(field, format string, args ...any) error {
	return &FieldError{Field: field, Err: fmt.Errorf(format, args...)}
}

// Within prefixes the field of a FieldError found in err with parent (the
// name of the field that holds the configuration which refused it). err is
// returned as it is when it holds no FieldError.
func Within(parent string, err error) error {
	var fe *FieldError
	if !errors.As(err, &fe) {
		return err
	}
	return &FieldError{Field: parent + "." + fe.Field, Err: err}
}

// FieldOf returns the field path of the FieldError in err, if any.
func FieldOf(err error) (string, bool) {
	var fe *FieldError
	if !errors.As(err, &fe) {
		return "", false
	}
	return fe.Field, true
}
