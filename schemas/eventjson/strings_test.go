package eventjson

import (
	"strings"
	"testing"
	"unicode/utf8"
)

// TestRuns checks the eight-bytes-at-a-time scans against a byte-by-byte
// reference, with every special byte at every position of the word.
func TestRuns(t *testing.T) {
	t.Parallel()
	plainRef := func(b []byte, i int) int {
		for i < len(b) && plain[b[i]] {
			i++
		}
		return i
	}
	asciiRef := func(s string, i int) int {
		for i < len(s) && s[i] >= 0x20 && s[i] < utf8.RuneSelf && s[i] != '"' && s[i] != '\\' {
			i++
		}
		return i
	}
	for _, special := range []byte{'"', '\\', 0, 0x1f, 0x80, 0xff, '!', 0x21, ' ', 0x7f} {
		for n := 0; n <= 20; n++ {
			for at := 0; at <= n; at++ {
				b := []byte(strings.Repeat("a", n))
				if at < n {
					b[at] = special
				}
				// A second hit after the first must not move the result.
				if at+1 < n {
					b[at+1] = '"'
				}
				for from := 0; from <= n; from++ {
					if got, want := plainRun(b, from), plainRef(b, from); got != want {
						t.Fatalf("plainRun(%q, %d) = %d, want %d", b, from, got, want)
					}
					if got, want := asciiRun(string(b), from), asciiRef(string(b), from); got != want {
						t.Fatalf("asciiRun(%q, %d) = %d, want %d", b, from, got, want)
					}
				}
			}
		}
	}
}
