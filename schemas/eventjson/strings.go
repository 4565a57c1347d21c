package eventjson

import (
	"encoding/binary"
	"math/bits"
	"unicode/utf8"
)

// stringSpan consumes a string and returns the offsets of its content
// between the quotes and whether it holds escapes. The line is valid UTF-8
// (checked up front), so only escapes and control characters need checks.
func (s *scanner) stringSpan() (start, end int, escaped bool, err error) {
	start = s.pos + 1 // after the opening quote
	b := s.buf
	for i := start; ; {
		i = plainRun(b, i)
		s.pos = i
		switch {
		case i == len(b):
			return 0, 0, false, s.syntaxErr("unterminated string")
		case b[i] == '"':
			s.pos = i + 1
			return start, i, escaped, nil
		case b[i] == '\\':
			escaped = true
			if err := s.escape(); err != nil {
				return 0, 0, false, err
			}
			i = s.pos
		default:
			return 0, 0, false, s.syntaxErr("control character in string")
		}
	}
}

// plainRun returns the offset of the first byte at or after i that is not
// plain, or len(b). It tests eight bytes at a time while it can.
func plainRun(b []byte, i int) int {
	const ones, highs = 0x0101010101010101, 0x8080808080808080
	for ; i+8 <= len(b); i += 8 {
		x := binary.LittleEndian.Uint64(b[i:])
		q, bs := x^('"'*ones), x^('\\'*ones)
		// A byte of q or bs is zero at a quote or backslash; a byte of x
		// is below 0x20 at a control character. The tests flag the high
		// bit of such bytes; they may also flag a byte after a real hit
		// (borrows run upwards) but never before one, so the lowest flag
		// is the first hit.
		if m := ((q-ones)&^q | (bs-ones)&^bs | (x-0x20*ones)&^x) & highs; m != 0 {
			return i + bits.TrailingZeros64(m)/8
		}
	}
	for i < len(b) && plain[b[i]] {
		i++
	}
	return i
}

// plain marks the bytes that stand for themselves inside a string.
var plain = func() (t [256]bool) {
	for c := 0x20; c < 256; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()

// escape consumes one escape sequence, checking that a \u escape of a
// UTF-16 surrogate is one half of a well-formed pair: a lone surrogate is
// not a character and cannot become valid UTF-8.
func (s *scanner) escape() error {
	if s.pos+1 >= len(s.buf) {
		return s.syntaxErr("unterminated string")
	}
	switch s.buf[s.pos+1] {
	case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
		s.pos += 2
		return nil
	case 'u':
	default:
		return s.syntaxErr("invalid escape in string")
	}
	r, ok := hex4(s.buf[s.pos+2:])
	if !ok {
		return s.syntaxErr("invalid \\u escape in string")
	}
	if r < 0xD800 || r > 0xDFFF {
		s.pos += 6
		return nil
	}
	if r >= 0xDC00 || !isLowSurrogate(s.buf[s.pos+6:]) {
		return s.syntaxErr("unpaired surrogate in \\u escape")
	}
	s.pos += 12
	return nil
}

// isLowSurrogate reports whether b starts with \uDC00 to \uDFFF.
func isLowSurrogate(b []byte) bool {
	if len(b) < 6 || b[0] != '\\' || b[1] != 'u' {
		return false
	}
	r, ok := hex4(b[2:])
	return ok && r >= 0xDC00 && r <= 0xDFFF
}

// hex4 decodes the four hex digits that start b.
func hex4(b []byte) (rune, bool) {
	if len(b) < 4 {
		return 0, false
	}
	var r rune
	for _, c := range b[:4] {
		switch {
		case '0' <= c && c <= '9':
			c -= '0'
		case 'a' <= c && c <= 'f':
			c -= 'a' - 10
		case 'A' <= c && c <= 'F':
			c -= 'A' - 10
		default:
			return 0, false
		}
		r = r<<4 | rune(c)
	}
	return r, true
}

// unescape decodes the content of a string whose escapes stringSpan has
// checked.
func unescape(b []byte) []byte {
	out := make([]byte, 0, len(b))
	for i := 0; i < len(b); {
		c := b[i]
		if c != '\\' {
			out = append(out, c)
			i++
			continue
		}
		switch b[i+1] {
		case 'b':
			out = append(out, '\b')
		case 'f':
			out = append(out, '\f')
		case 'n':
			out = append(out, '\n')
		case 'r':
			out = append(out, '\r')
		case 't':
			out = append(out, '\t')
		case 'u':
			r, _ := hex4(b[i+2:])
			if r >= 0xD800 && r <= 0xDFFF {
				lo, _ := hex4(b[i+8:])
				r = 0x10000 + (r-0xD800)<<10 + (lo - 0xDC00)
				i += 6
			}
			out = utf8.AppendRune(out, r)
			i += 6
			continue
		default: // '"', '\\', '/'
			out = append(out, b[i+1])
		}
		i += 2
	}
	return out
}
