package consumer

import (
	"strconv"
	"testing"

	"github.com/segmentio/kafka-go"
	"github.com/sessiond/sessiond/reducer"
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
			hs := snapshotHeaders(&reducer.Snapshot{LastSeen: ms, Touched: ms})
			back, ok2 := lastSeenOf(hs)
			touched, ok3 := msHeader(hs, HeaderTouched)
			if !ok2 || back != ms || ms > 0 && (!ok3 || touched != ms) {
				t.Fatalf("round trip of %d gave %d, %v (touched %d, %v)", ms, back, ok2, touched, ok3)
			}
		}
	})
}
