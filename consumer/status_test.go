package consumer

import (
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

func checkReady(t testing.TB, s *Status, want bool, when string) {
	t.Helper()
	if got := s.Ready(); got != want {
		t.Fatalf("%s: Ready() = %v, want %v", when, got, want)
	}
}

func TestStatusReadiness(t *testing.T) {
	s := NewStatus()
	s.Touch()
	checkReady(t, s, false, "before any generation")
	if got := s.Owned(); len(got) != 0 {
		t.Fatalf("Owned() before any generation = %v", got)
	}

	s.generation([]int{5, 1, 3})
	checkReady(t, s, false, "joined, nothing restored")
	if got := s.Owned(); !slices.Equal(got, []int{1, 3, 5}) {
		t.Fatalf("Owned() = %v, want [1 3 5]", got)
	}
	s.restored(1)
	s.restored(5)
	checkReady(t, s, false, "partition 3 not restored")
	s.restored(7) // not owned: must not count
	checkReady(t, s, false, "a partition not owned restored")
	s.restored(3)
	checkReady(t, s, true, "every owned partition restored")

	s.generation([]int{3, 4})
	checkReady(t, s, false, "new generation: 3 must be restored again, 4 is new")
	s.restored(5) // a task of the previous generation
	checkReady(t, s, false, "a partition of the previous generation restored")
	s.restored(3)
	s.restored(4)
	checkReady(t, s, true, "new generation restored")

	s.left()
	checkReady(t, s, false, "after leaving")
	if got := s.Owned(); !slices.Equal(got, []int{3, 4}) {
		t.Fatalf("Owned() after leaving = %v, want the last generation's [3 4] (stickiness on rejoin)", got)
	}
	s.restored(3)
	checkReady(t, s, false, "restored after leaving")

	s.generation(nil)
	checkReady(t, s, false, "joined with no partitions")
}

// A member whose brokers stopped answering is not ready; it is again once
// they answer.
func TestStatusBrokerSilence(t *testing.T) {
	now := time.Now()
	s := NewStatus()
	s.now = func() time.Time { return now }
	s.generation([]int{0})
	s.restored(0)
	s.Touch()
	checkReady(t, s, true, "restored, brokers answering")
	now = now.Add(BrokerSilence + time.Second)
	checkReady(t, s, false, "brokers silent")
	if _, why := s.Readiness(); !strings.Contains(why, "no answer from the brokers") {
		t.Errorf("reason %q", why)
	}
	s.Touch()
	checkReady(t, s, true, "brokers answering again")
}

func TestStatusOwnedIsACopy(t *testing.T) {
	s := NewStatus()
	parts := []int{2, 0}
	s.generation(parts)
	parts[0] = 9
	got := s.Owned()
	got[0] = 9
	if again := s.Owned(); !slices.Equal(again, []int{0, 2}) {
		t.Errorf("Owned() = %v after callers changed their slices, want [0 2]", again)
	}
}

// Readiness is read by the HTTP handler while tasks restore: run with -race.
func TestStatusConcurrentUse(t *testing.T) {
	s := NewStatus()
	s.generation([]int{0, 1, 2, 3})
	var wg sync.WaitGroup
	for p := range 4 {
		wg.Go(func() { s.restored(p) })
		wg.Go(func() { _ = s.Ready(); _ = s.Owned() })
		wg.Go(s.Touch)
	}
	wg.Wait()
	checkReady(t, s, true, "all restored concurrently")
}
