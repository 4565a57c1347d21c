package eventjson

import "math/bits"

// maxDepth bounds the nesting of skipped values, as encoding/json does, so
// that a hostile line cannot exhaust the stack.
const maxDepth = 10000

// scanner reads one JSON text from a line, checking the full grammar of RFC
// 8259 as it goes: a line it accepts is valid JSON. The typed readers
// (values.go) report a wrong JSON type as a FieldError without a path.
type scanner struct {
	buf  []byte // the line
	line string // the line as a string: strings without escapes are substrings of it
	pos  int    // offset of the next byte to read
}

func (s *scanner) syntaxErr(msg string) error {
	return &SyntaxError{Column: s.pos + 1, Msg: msg}
}

// typeErr reports a value of the wrong JSON type, or the end of the line
// where a value should be.
func (s *scanner) typeErr(reason string) error {
	if s.pos >= len(s.buf) {
		return s.syntaxErr(s.atEnd("expected a value"))
	}
	return fieldErr(reason)
}

// atEnd prefixes what was expected with "unexpected end of line" when the
// line has ended.
func (s *scanner) atEnd(expected string) string {
	if s.pos >= len(s.buf) {
		return "unexpected end of line, " + expected
	}
	return expected
}

// peek skips whitespace and returns the next byte, or 0 at the end.
func (s *scanner) peek() byte {
	if s.pos < len(s.buf) && s.buf[s.pos] > ' ' { // no whitespace: the usual case
		return s.buf[s.pos]
	}
	return s.skipSpace()
}

func (s *scanner) skipSpace() byte {
	for s.pos < len(s.buf) {
		switch c := s.buf[s.pos]; c {
		case ' ', '\t', '\n', '\r':
			s.pos++
		default:
			return c
		}
	}
	return 0
}

// end checks that nothing but whitespace follows the top-level value.
func (s *scanner) end() error {
	if s.peek(); s.pos < len(s.buf) {
		return s.syntaxErr("unexpected data after the top-level value")
	}
	return nil
}

// literal consumes the literal lit (true, false or null).
func (s *scanner) literal(lit string) error {
	if len(s.buf)-s.pos < len(lit) || string(s.buf[s.pos:s.pos+len(lit)]) != lit {
		return s.syntaxErr("invalid literal")
	}
	s.pos += len(lit)
	return nil
}

// null consumes a null if one comes next and reports whether it did.
func (s *scanner) null() (bool, error) {
	if s.peek() != 'n' {
		return false, nil
	}
	return true, s.literal("null")
}

// member moves to the next member of an object whose '{' has been read and
// which has had n members so far. It returns the member's key, with the
// scanner on its value, or ok false after the closing '}'.
// knownMembers reads the members of an object whose '{' has been read.
// lookup maps a key to its bit; an unknown key (0) has its value skipped,
// as an Avro reader skips fields it does not know. field reads a known
// member, and its error is placed within the key's name, names being
// indexed by bit position.
func (s *scanner) knownMembers(names []string, lookup func([]byte) uint16, field func(bit uint16) error) error {
	for n := 0; ; n++ {
		key, ok, err := s.member(n)
		if err != nil || !ok {
			return err
		}
		bit := lookup(key)
		if bit == 0 {
			if err := s.skip(1); err != nil {
				return err
			}
			continue
		}
		if err := field(bit); err != nil {
			return within(names[bits.TrailingZeros16(bit)], err)
		}
	}
}

func (s *scanner) member(n int) (key []byte, ok bool, err error) {
	c := s.peek()
	if c == '}' {
		s.pos++
		return nil, false, nil
	}
	if n > 0 {
		if c != ',' {
			return nil, false, s.syntaxErr(s.atEnd("expected ',' or '}' after object member"))
		}
		s.pos++
		c = s.peek()
	}
	if c != '"' {
		return nil, false, s.syntaxErr(s.atEnd("expected a string key"))
	}
	start, end, escaped, err := s.stringSpan()
	if err != nil {
		return nil, false, err
	}
	if s.peek() != ':' {
		return nil, false, s.syntaxErr(s.atEnd("expected ':' after object key"))
	}
	s.pos++
	if escaped {
		return unescape(s.buf[start:end]), true, nil
	}
	return s.buf[start:end], true, nil
}

// element moves to the next element of an array whose '[' has been read and
// which has had n elements so far; ok is false after the closing ']'.
func (s *scanner) element(n int) (ok bool, err error) {
	c := s.peek()
	if c == ']' {
		s.pos++
		return false, nil
	}
	if n > 0 {
		if c != ',' {
			return false, s.syntaxErr(s.atEnd("expected ',' or ']' after array element"))
		}
		s.pos++
		if s.peek() == ']' {
			return false, s.syntaxErr("expected a value after ','")
		}
	}
	return true, nil
}

// skip consumes one value of any type, checking its syntax.
func (s *scanner) skip(depth int) error {
	if depth > maxDepth {
		return s.syntaxErr("nesting too deep")
	}
	switch s.peek() {
	case '{':
		s.pos++
		for n := 0; ; n++ {
			_, ok, err := s.member(n)
			if err != nil || !ok {
				return err
			}
			if err := s.skip(depth + 1); err != nil {
				return err
			}
		}
	case '[':
		s.pos++
		for n := 0; ; n++ {
			ok, err := s.element(n)
			if err != nil || !ok {
				return err
			}
			if err := s.skip(depth + 1); err != nil {
				return err
			}
		}
	case '"':
		_, _, _, err := s.stringSpan()
		return err
	case 't':
		return s.literal("true")
	case 'f':
		return s.literal("false")
	case 'n':
		return s.literal("null")
	}
	_, _, err := s.number()
	return err
}

// number consumes a number (RFC 8259 §6) and reports whether it is an
// integer literal: no fraction, no exponent.
func (s *scanner) number() (start int, integer bool, err error) {
	start = s.pos
	b := s.buf
	i := s.pos
	if i < len(b) && b[i] == '-' {
		i++
	}
	switch {
	case i < len(b) && b[i] == '0':
		i++
	case i < len(b) && '1' <= b[i] && b[i] <= '9':
		i = digits(b, i)
	case i > start:
		s.pos = i
		return 0, false, s.syntaxErr("expected a digit after '-'")
	case i == len(b):
		return 0, false, s.syntaxErr(s.atEnd("expected a value"))
	default:
		return 0, false, s.syntaxErr("expected a value")
	}
	integer = true
	if i < len(b) && b[i] == '.' {
		integer = false
		if i = digits(b, i+1); b[i-1] == '.' {
			s.pos = i
			return 0, false, s.syntaxErr("expected a digit after the decimal point")
		}
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		integer = false
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		if j := digits(b, i); j == i {
			s.pos = i
			return 0, false, s.syntaxErr("expected a digit in the exponent")
		} else {
			i = j
		}
	}
	s.pos = i
	return start, integer, nil
}

// digits returns the offset of the first non-digit at or after i.
func digits(b []byte, i int) int {
	for i < len(b) && '0' <= b[i] && b[i] <= '9' {
		i++
	}
	return i
}
