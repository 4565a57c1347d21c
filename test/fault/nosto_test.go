//go:build fault

package fault

import (
	"context"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"
)

// stormyNosto stands in for Nosto under strain: it answers 429 (with
// Retry-After), 503 or slowly to a share of the requests, accepts the
// rest, and records the update_ids (Idempotency-Key) it accepted.
type stormyNosto struct {
	mu       sync.Mutex
	rng      *rand.Rand
	accepted map[string]int
	requests int
}

func (n *stormyNosto) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	io.Copy(io.Discard, r.Body)
	n.mu.Lock()
	n.requests++
	roll := n.rng.IntN(10)
	n.mu.Unlock()
	switch roll {
	case 0:
		w.Header().Set("Retry-After", "1")
		http.Error(w, "slow down", http.StatusTooManyRequests)
		return
	case 1:
		http.Error(w, "unavailable", http.StatusServiceUnavailable)
		return
	case 2:
		time.Sleep(80 * time.Millisecond)
	}
	n.mu.Lock()
	n.accepted[r.Header.Get("Idempotency-Key")]++
	n.mu.Unlock()
	w.Write([]byte(`{"data":{"updateSession":{"id":"s"}}}`))
}

func (n *stormyNosto) missing(want map[string]string) (missing, dups int) {
	n.mu.Lock()
	defer n.mu.Unlock()
	for id := range want {
		switch c := n.accepted[id]; {
		case c == 0:
			missing++
		case c > 1:
			dups += c - 1
		}
	}
	return missing, dups
}

// TestFaultNostoStormKill9 sends the updates to a Nosto that answers a
// fifth of the requests with 429 or 503 and some slowly, and kills
// sessiond with SIGKILL every few seconds: every update must reach Nosto
// (at least once), none is dead-lettered.
func TestFaultNostoStormKill9(t *testing.T) {
	nosto := &stormyNosto{rng: rand.New(rand.NewPCG(15, 0)), accepted: map[string]int{}}
	srv := httptest.NewServer(nosto)
	defer srv.Close()
	t.Setenv("SESSIOND_NOSTO_TOKEN", "fault-token")
	s := newSetup(t, 4)
	evs := events(t, 15, 4_000, 40_000)
	want := expected(t, evs)
	args := s.runArgs("--nosto-endpoint", srv.URL, "--output-topic", "")
	p := start(t, "sessiond-0", args...)
	procs := []*proc{p}
	defer func() { dumpLogs(t, procs...) }()
	rng := rand.New(rand.NewPCG(15, 1))
	kills := 0
	nextKill := time.Now().Add(jitter(rng, 2*time.Second, 4*time.Second))
	err := newProducer(t, s).send(context.Background(), evs, 2_000, func(int) {
		if time.Now().Before(nextKill) {
			return
		}
		p.kill9()
		kills++
		p = start(t, "sessiond-"+itoa(kills), args...)
		procs = append(procs, p)
		nextKill = time.Now().Add(jitter(rng, 2*time.Second, 4*time.Second))
	})
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(3 * time.Minute)
	var missing, dups int
	for {
		if missing, dups = nosto.missing(want); missing == 0 || time.Now().After(deadline) {
			break
		}
		time.Sleep(500 * time.Millisecond)
	}
	nosto.mu.Lock()
	requests := nosto.requests
	nosto.mu.Unlock()
	t.Logf("REPORT nosto-storm-kill9: events=%d kills=%d expected=%d requests=%d missing=%d duplicates=%d",
		len(evs), kills, len(want), requests, missing, dups)
	if missing > 0 {
		t.Errorf("%d of %d updates never reached Nosto", missing, len(want))
	}
	if kills < 3 {
		t.Errorf("only %d kills happened", kills)
	}
}
