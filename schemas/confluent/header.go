package confluent

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// HeaderSize is the length of the Confluent header: magic byte and id.
const HeaderSize = 5

// magic is the first byte of every framed record.
const magic = 0

// Header errors. Both make the record a dead letter.
var (
	ErrShortHeader = errors.New("shorter than the 5-byte Confluent header")
	ErrNoMagic     = errors.New("no Confluent magic byte")
)

// AppendHeader appends the header for schema id to dst.
func AppendHeader(dst []byte, id int) []byte {
	return binary.BigEndian.AppendUint32(append(dst, magic), uint32(id))
}

// ParseHeader splits a framed value into its schema id and payload.
func ParseHeader(value []byte) (id int, payload []byte, err error) {
	if len(value) < HeaderSize {
		if len(value) > 0 && value[0] != magic {
			return 0, nil, &decodeError{err: ErrNoMagic, hint: noMagicHint(value[0])}
		}
		return 0, nil, &decodeError{err: fmt.Errorf("%w: %d bytes", ErrShortHeader, len(value)),
			hint: "a truncated record, or one with no value (a tombstone?)"}
	}
	if value[0] != magic {
		return 0, nil, &decodeError{err: fmt.Errorf("%w: the value starts with 0x%02x", ErrNoMagic, value[0]), hint: noMagicHint(value[0])}
	}
	return int(binary.BigEndian.Uint32(value[1:HeaderSize])), value[HeaderSize:], nil
}

func noMagicHint(b byte) string {
	if b == '{' || b == '[' {
		return "it starts with '" + string(b) + "': JSON? The inputs are Avro"
	}
	return "not Confluent-framed: a producer writing bare Avro (read such topics with --wire-format raw) or another format"
}

// decodeError is a rejection with a hint for the dead-letter record's
// sessiond.error.hint header.
type decodeError struct {
	err  error
	hint string
}

func (e *decodeError) Error() string { return e.err.Error() }
func (e *decodeError) Unwrap() error { return e.err }

// Hint is the usual cause, for the dead-letter header.
func (e *decodeError) Hint() string { return e.hint }
