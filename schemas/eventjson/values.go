package eventjson

import (
	"math"
	"strconv"
)

// The typed readers below consume one value of the JSON type they name. A
// value of another JSON type is a FieldError without a path (the caller
// knows the field); a malformed one is a SyntaxError.

// str reads a string.
func (s *scanner) str() (string, error) {
	if s.peek() != '"' {
		return "", s.typeErr("must be a string")
	}
	start, end, escaped, err := s.stringSpan()
	if err != nil {
		return "", err
	}
	if escaped {
		return string(unescape(s.buf[start:end])), nil
	}
	return s.line[start:end], nil
}

// optStr reads a string or null; ok is false for null.
func (s *scanner) optStr() (v string, ok bool, err error) {
	if isNull, err := s.null(); isNull || err != nil {
		return "", false, err
	}
	v, err = s.str()
	return v, err == nil, err
}

// optBool reads a boolean or null; ok is false for null.
func (s *scanner) optBool() (v, ok bool, err error) {
	switch s.peek() {
	case 't':
		return true, true, s.literal("true")
	case 'f':
		return false, true, s.literal("false")
	case 'n':
		return false, false, s.literal("null")
	}
	return false, false, s.typeErr("must be a boolean")
}

// isNumber reports whether c can start a number.
func isNumber(c byte) bool { return c == '-' || '0' <= c && c <= '9' }

// int32v reads an integer literal (no fraction, no exponent: 2.0 is not an
// integer here) that fits in 32 bits.
func (s *scanner) int32v() (int32, error) {
	if !isNumber(s.peek()) {
		return 0, s.typeErr("must be an integer")
	}
	start, integer, err := s.number()
	if err != nil {
		return 0, err
	}
	if !integer {
		return 0, fieldErr("must be an integer")
	}
	n, err := strconv.ParseInt(s.line[start:s.pos], 10, 32)
	if err != nil {
		return 0, fieldErr("must fit in a 32-bit integer")
	}
	return int32(n), nil
}

// float reads a number as a double. A number too large for one is an
// error, not an infinity; -0 reads as 0.
func (s *scanner) float() (float64, error) {
	if !isNumber(s.peek()) {
		return 0, s.typeErr("must be a number")
	}
	start, _, err := s.number()
	if err != nil {
		return 0, err
	}
	f, err := strconv.ParseFloat(s.line[start:s.pos], 64)
	if err != nil || math.IsInf(f, 0) {
		return 0, fieldErr("must be a finite number")
	}
	if f == 0 {
		f = 0 // not -0
	}
	return f, nil
}

// optStrs reads a list of strings or null; null gives nil, [] an empty,
// non-nil slice, so that an update repeats what was sent.
func (s *scanner) optStrs() ([]string, error) {
	if isNull, err := s.null(); isNull || err != nil {
		return nil, err
	}
	if s.peek() != '[' {
		return nil, s.typeErr("must be a list of strings")
	}
	s.pos++
	var stack [8]string
	list := stack[:0]
	for n := 0; ; n++ {
		ok, err := s.element(n)
		if err != nil {
			return nil, err
		}
		if !ok {
			return append(make([]string, 0, len(list)), list...), nil
		}
		v, err := s.str()
		if err != nil {
			return nil, within(index(n), err)
		}
		list = append(list, v)
	}
}
