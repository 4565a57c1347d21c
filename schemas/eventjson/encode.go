package eventjson

import (
	"math"
	"math/bits"
	"strconv"
	"time"
	"unicode/utf8"
)

// AppendString appends s as a JSON string, escaped exactly as
// encoding/json does with HTML escaping off: '"', '\\' and control
// characters are escaped, U+2028 and U+2029 too (for JavaScript), an
// invalid UTF-8 byte becomes \ufffd, everything else is written raw.
func AppendString(dst []byte, s string) []byte {
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		if i = asciiRun(s, i); i == len(s) {
			break
		}
		if c := s[i]; c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			dst = appendEscape(append(dst, s[start:i]...), c)
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			dst = append(append(dst, s[start:i]...), `\ufffd`...)
		case r == '\u2028' || r == '\u2029':
			dst = append(append(dst, s[start:i]...), '\\', 'u', '2', '0', '2', hexDigits[r&0xF])
		default:
			i += size
			continue
		}
		i += size
		start = i
	}
	return append(append(dst, s[start:]...), '"')
}

const hexDigits = "0123456789abcdef"

// asciiRun returns the offset of the first byte at or after i that
// AppendString cannot copy as it is (an escape or a non-ASCII byte), or
// len(s). It tests eight bytes at a time while it can.
func asciiRun(s string, i int) int {
	const ones, highs = 0x0101010101010101, 0x8080808080808080
	for ; i+8 <= len(s); i += 8 {
		x := uint64(s[i]) | uint64(s[i+1])<<8 | uint64(s[i+2])<<16 | uint64(s[i+3])<<24 |
			uint64(s[i+4])<<32 | uint64(s[i+5])<<40 | uint64(s[i+6])<<48 | uint64(s[i+7])<<56
		q, bs := x^('"'*ones), x^('\\'*ones)
		// As in plainRun, plus any byte with the high bit set.
		if m := ((q-ones)&^q | (bs-ones)&^bs | (x-0x20*ones)&^x | x) & highs; m != 0 {
			return i + bits.TrailingZeros64(m)/8
		}
	}
	for i < len(s) && s[i] < utf8.RuneSelf && s[i] >= 0x20 && s[i] != '"' && s[i] != '\\' {
		i++
	}
	return i
}

// appendEscape appends the escape of an ASCII byte that cannot be written
// raw.
func appendEscape(dst []byte, c byte) []byte {
	switch c {
	case '"', '\\':
		return append(dst, '\\', c)
	case '\b':
		return append(dst, '\\', 'b')
	case '\f':
		return append(dst, '\\', 'f')
	case '\n':
		return append(dst, '\\', 'n')
	case '\r':
		return append(dst, '\\', 'r')
	case '\t':
		return append(dst, '\\', 't')
	}
	return append(dst, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xF])
}

// appendFloat appends f as encoding/json writes a float64: the shortest
// decimal that reads back as f, in exponent form only below 1e-6 or from
// 1e21 on (123.45 → 123.45, 999.0 → 999, 1e21 → 1e+21, 1e-7 → 1e-7).
// JSON has no NaN or infinity; they are written as null, which no decoder
// here accepts as a price (reducer.Validate never lets one through).
func appendFloat(dst []byte, f float64) []byte {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return append(dst, "null"...)
	}
	format := byte('f')
	if abs := math.Abs(f); abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		format = 'e'
	}
	dst = strconv.AppendFloat(dst, f, format, -1, 64)
	if format == 'e' { // e-07 → e-7
		if n := len(dst); n >= 4 && dst[n-4] == 'e' && dst[n-3] == '-' && dst[n-2] == '0' {
			dst[n-2] = dst[n-1]
			dst = dst[:n-1]
		}
	}
	return dst
}

// timeLayout is how timestamps are written: UTC, always milliseconds.
const timeLayout = "2006-01-02T15:04:05.000Z"

// appendTime appends a time in milliseconds since the epoch as a quoted
// RFC 3339 string in UTC with three fraction digits.
func appendTime(dst []byte, ms int64) []byte {
	dst = append(dst, '"')
	days, msOfDay := ms/86400000, ms%86400000
	if msOfDay < 0 {
		days, msOfDay = days-1, msOfDay+86400000
	}
	y, m, d := civil(days)
	if y < 0 || y > 9999 {
		dst = time.UnixMilli(ms).UTC().AppendFormat(dst, timeLayout)
		return append(dst, '"')
	}
	dst = append4(dst, y)
	dst = append2(append(dst, '-'), m)
	dst = append2(append(dst, '-'), d)
	dst = append2(append(dst, 'T'), int(msOfDay/3600000))
	dst = append2(append(dst, ':'), int(msOfDay/60000%60))
	dst = append2(append(dst, ':'), int(msOfDay/1000%60))
	ms3 := int(msOfDay % 1000)
	return append(dst, '.', byte('0'+ms3/100), byte('0'+ms3/10%10), byte('0'+ms3%10), 'Z', '"')
}

// civil converts days since 1970-01-01 to a proleptic Gregorian date
// (Howard Hinnant's civil_from_days).
func civil(days int64) (year, month, day int) {
	z := days + 719468
	era := z / 146097
	if z < 0 && z%146097 != 0 {
		era--
	}
	doe := z - era*146097
	yoe := (doe - doe/1460 + doe/36524 - doe/146096) / 365
	doy := doe - (365*yoe + yoe/4 - yoe/100)
	mp := (5*doy + 2) / 153
	d := doy - (153*mp+2)/5 + 1
	m := mp + 3
	if m > 12 {
		m -= 12
	}
	y := yoe + era*400
	if m <= 2 {
		y++
	}
	return int(y), int(m), int(d)
}

func append2(dst []byte, n int) []byte { return append(dst, byte('0'+n/10), byte('0'+n%10)) }

func append4(dst []byte, n int) []byte {
	return append(dst, byte('0'+n/1000), byte('0'+n/100%10), byte('0'+n/10%10), byte('0'+n%10))
}

// appendStrings appends a list of strings.
func appendStrings(dst []byte, list []string) []byte {
	dst = append(dst, '[')
	for i, s := range list {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = AppendString(dst, s)
	}
	return append(dst, ']')
}

// appendBool appends true or false.
func appendBool(dst []byte, b bool) []byte { return strconv.AppendBool(dst, b) }

func appendInt32(dst []byte, n int32) []byte { return strconv.AppendInt(dst, int64(n), 10) }
