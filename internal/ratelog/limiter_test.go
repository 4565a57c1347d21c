package ratelog

import (
	"testing"
	"time"
)

func TestLimiter(t *testing.T) {
	t.Parallel()
	start := time.Unix(1000, 0)
	for _, tc := range []struct {
		name string
		at   []time.Duration // occurrences, from start
		want []int           // held counts of the lines let through; -1: held back
	}{
		{"first goes through", []time.Duration{0}, []int{0}},
		{"burst is one line", []time.Duration{0, 1, 2, 3}, []int{0, -1, -1, -1}},
		{"next line counts the held", []time.Duration{0, time.Second, 2 * time.Second, 10 * time.Second}, []int{0, -1, -1, 2}},
		{"spaced all go through", []time.Duration{0, 10 * time.Second, 25 * time.Second}, []int{0, 0, 0}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var now time.Time
			l := New(10 * time.Second)
			l.now = func() time.Time { return now }
			for i, at := range tc.at {
				now = start.Add(at)
				held, ok := l.Allow()
				if want := tc.want[i]; ok != (want >= 0) || (ok && held != want) {
					t.Errorf("occurrence %d at %v: Allow = %d, %v; want %d", i, at, held, ok, want)
				}
			}
		})
	}
}

func TestLimiterWait(t *testing.T) {
	t.Parallel()
	now := time.Unix(1000, 0)
	l := New(10 * time.Second)
	l.now = func() time.Time { return now }
	if w := l.Wait(); w != 0 {
		t.Fatalf("Wait before any line = %v, want 0", w)
	}
	l.Allow()
	now = now.Add(3 * time.Second)
	if w := l.Wait(); w != 7*time.Second {
		t.Fatalf("Wait 3 s after a line = %v, want 7s", w)
	}
	now = now.Add(30 * time.Second)
	if w := l.Wait(); w != 0 {
		t.Fatalf("Wait long after a line = %v, want 0", w)
	}
}
