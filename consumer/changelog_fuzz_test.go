package consumer

import (
	"strconv"
	"testing"

	"github.com/segmentio/kafka-go"
)

// FuzzLastSeenHeader: the LastSeen a changelog header carries reads back
// as written, and any header value is either a number or refused, never a
// panic.
func FuzzLastSeenHeader(f *testing.F) {
	for _, seed := range []string{"1764547200000", "0", "-1", "", "soon", "9223372036854775808", " 12"} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, value string) {
		ms, ok := lastSeenOf([]kafka.Header{{Key: "other", Value: []byte("1")}, {Key: HeaderLastSeen, Value: []byte(value)}})
		want, err := strconv.ParseInt(value, 10, 64)
		if ok != (err == nil) || (ok && ms != want) {
			t.Fatalf("lastSeenOf(%q) = %d, %v; want %d, %v", value, ms, ok, want, err == nil)
		}
		if ok {
			back, ok2 := lastSeenOf([]kafka.Header{lastSeenHeader(ms)})
			if !ok2 || back != ms {
				t.Fatalf("round trip of %d gave %d, %v", ms, back, ok2)
			}
		}
	})
}
