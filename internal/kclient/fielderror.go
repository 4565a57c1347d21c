package kclient

// FieldError is a problem with one setting of a ConnConfig, named by its Go
// field path ("Brokers", "TLS.CAFile", "SASL.Password"), so that a command
// can name its own flag for it: kclient knows no flag. ConnConfig.Validate
// and LoadSecrets return one, and so do the probe's diagnoses that point at
// a setting to change.
type FieldError struct {
	// Field is the setting's path in ConnConfig.
	Field string
	// Err is what is wrong with it.
	Err error
}

func (e *FieldError) Error() string { return e.Field + ": " + e.Err.Error() }

// Unwrap returns Err.
func (e *FieldError) Unwrap() error { return e.Err }

// fieldErr wraps err as a problem with field.
func fieldErr(field string, err error) error { return &FieldError{Field: field, Err: err} }
