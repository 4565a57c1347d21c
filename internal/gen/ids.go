package gen

import "strconv"

// mix64 is the SplitMix64 finalizer: a bijection on uint64 that scatters
// every input bit over the output.
func mix64(x uint64) uint64 {
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	x ^= x >> 31
	return x
}

// unitFloat maps h to [0, 1).
func unitFloat(h uint64) float64 { return float64(h>>11) / (1 << 53) }

const hexDigits = "0123456789abcdef"

// appendHex appends the 16 lower-case hex digits of x.
func appendHex(dst []byte, x uint64) []byte {
	for s := 60; s >= 0; s -= 4 {
		dst = append(dst, hexDigits[x>>uint(s)&15])
	}
	return dst
}

// visitorIDs holds every visitor id in one string: "v-000000" to
// "v-<Visitors-1>", zero-padded to at least 6 digits, sliced without
// allocating.
type visitorIDs struct {
	all   string
	width int
}

func newVisitorIDs(n int) visitorIDs {
	digits := max(6, len(strconv.Itoa(n-1)))
	width := 2 + digits
	buf := make([]byte, 0, n*width)
	var num [20]byte
	for i := 0; i < n; i++ {
		d := strconv.AppendInt(num[:0], int64(i), 10)
		buf = append(buf, 'v', '-')
		for j := len(d); j < digits; j++ {
			buf = append(buf, '0')
		}
		buf = append(buf, d...)
	}
	return visitorIDs{all: string(buf), width: width}
}

func (v visitorIDs) id(i int) string { return v.all[i*v.width : (i+1)*v.width] }
