// Package config holds the one error type that every configuration's
// Validate returns: a FieldError names the Go field at fault (a dotted
// path such as "Consumer.SessionTTL" or "Conn.TLS.CAFile") and wraps the
// problem. Packages below cmd know no command-line flag; cmd/sessiond maps
// field paths to the flags bound into them, so that a refused value is
// reported with the flag (or variable) the user set.
package config
