package schemas

import (
	"fmt"

	"github.com/linkedin/goavro/v2"
)

// Codecs holds the compiled schemas. It is immutable once loaded and safe
// for concurrent use; load it once per process.
type Codecs struct {
	codec [numSchemas]*goavro.Codec
}

// Load compiles every embedded schema.
func Load() (*Codecs, error) {
	c := new(Codecs)
	for _, s := range All() {
		codec, err := goavro.NewCodec(s.Text())
		if err != nil {
			return nil, fmt.Errorf("compile %s: %w", s.File(), err)
		}
		c.codec[s] = codec
	}
	return c, nil
}

// Codec returns the compiled goavro codec of a schema, for callers that need
// goavro itself (e.g. its canonical form or Rabin fingerprint).
func (c *Codecs) Codec(s Schema) *goavro.Codec {
	if s < numSchemas {
		return c.codec[s]
	}
	return nil
}

// decode reads one whole record of schema s from data: trailing bytes are an
// error.
func (c *Codecs) decode(s Schema, data []byte) (map[string]any, error) {
	native, rest, err := c.codec[s].NativeFromBinary(data)
	if err != nil {
		return nil, fmt.Errorf("decode %s: %w: %w", s, ErrDecode, err)
	}
	if len(rest) != 0 {
		return nil, fmt.Errorf("decode %s: %w: %d trailing bytes", s, ErrDecode, len(rest))
	}
	rec, ok := native.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("decode %s: %w: got %T, want a record", s, ErrDecode, native)
	}
	return rec, nil
}

// encode appends the binary encoding of rec to dst. On error it returns dst
// unchanged.
func (c *Codecs) encode(dst []byte, s Schema, rec map[string]any) ([]byte, error) {
	out, err := c.codec[s].BinaryFromNative(dst, rec)
	if err != nil {
		return dst, fmt.Errorf("encode %s: %w: %w", s, ErrEncode, err)
	}
	return out, nil
}

// recoverDecode turns a panic in goavro or in a conversion into an error
// wrapping ErrDecode, and clears the result: bad input must never crash a
// partition. Use it as `defer recoverDecode(s, &v, &err)` in a function with
// named results.
func recoverDecode[T any](s Schema, v **T, err *error) {
	if p := recover(); p != nil {
		*v, *err = nil, fmt.Errorf("decode %s: %w: panic: %v", s, ErrDecode, p)
	}
}

// recoverEncode is recoverDecode for encoding: the error wraps ErrEncode and
// the result is dst.
func recoverEncode(s Schema, dst []byte, out *[]byte, err *error) {
	if p := recover(); p != nil {
		*out, *err = dst, fmt.Errorf("encode %s: %w: panic: %v", s, ErrEncode, p)
	}
}
