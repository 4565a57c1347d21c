package kclient

import "github.com/sessiond/sessiond/internal/config"

// fieldErr wraps err as a problem with one setting of a ConnConfig, named
// by its Go field path ("Brokers", "TLS.CAFile", "SASL.Password"), so that
// a command can name its own flag for it: kclient knows no flag.
// ConnConfig.Validate and LoadSecrets return one, and so do the probe's
// diagnoses that point at a setting to change.
func fieldErr(field string, err error) error { return &config.FieldError{Field: field, Err: err} }
