package config

import (
	"errors"
	"fmt"
	"testing"
)

func TestFieldPaths(t *testing.T) {
	t.Parallel()
	inner := Errorf("TLS.CAFile", "consumer: %s is unreadable", "ca.pem")
	err := fmt.Errorf("kafka connection: %w", Within("Conn", inner))
	field, ok := FieldOf(err)
	if !ok || field != "Conn.TLS.CAFile" {
		t.Fatalf("FieldOf = %q, %v; want Conn.TLS.CAFile", field, ok)
	}
	if got, want := err.Error(), "kafka connection: consumer: ca.pem is unreadable"; got != want {
		t.Errorf("Error() = %q, want %q (the path is for cmd, not the message)", got, want)
	}
	if !errors.Is(err, inner) {
		t.Error("the wrapped error is lost")
	}
	plain := errors.New("not a field")
	if Within("Conn", plain) != plain {
		t.Error("Within changed an error without a field")
	}
	if _, ok := FieldOf(plain); ok {
		t.Error("FieldOf found a field in a plain error")
	}
}
