package reducer_test

import (
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/sessiond/sessiond/reducer"
)

// store is a test double for the caller's encoding: RestoreEncoded gets a
// key into it, Decode looks the key up and counts the calls.
type store struct {
	snaps   map[string]*reducer.Snapshot
	decoded []string
}

func (s *store) decode(data []byte) (*reducer.Snapshot, error) {
	s.decoded = append(s.decoded, string(data))
	if snap, ok := s.snaps[string(data)]; ok {
		return snap, nil
	}
	return nil, errors.New("undecodable")
}

func newLazyReducer(t *testing.T, ttl time.Duration, st *store) *reducer.Reducer {
	t.Helper()
	r, err := reducer.New(reducer.Config{SessionTTL: ttl, Decode: st.decode})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestRestoreEncoded(t *testing.T) {
	t.Parallel()
	c := cart(item("A", 1))
	u := customer(email("a@x.io"))
	snap := func() *reducer.Snapshot {
		return &reducer.Snapshot{LastSeen: at(time.Minute), CartAt: at(0), CustomerAt: at(time.Minute),
			Cart: c, Customer: u, Recent: []uint64{reducer.HashEventID("a1")}}
	}
	t.Run("decoded on the first event, then behaves as Restore", func(t *testing.T) {
		st := &store{snaps: map[string]*reducer.Snapshot{"s1": snap()}}
		r := newLazyReducer(t, time.Hour, st)
		if !r.RestoreEncoded(defaultVisitor, at(time.Minute), 0, []byte("s1")) {
			t.Fatal("RestoreEncoded refused with a Decode configured")
		}
		if r.Len() != 1 || r.Encoded() != 1 || len(st.decoded) != 0 {
			t.Fatalf("after RestoreEncoded: Len %d, Encoded %d, decodes %v; want 1, 1, none", r.Len(), r.Encoded(), st.decoded)
		}
		run(t, r, []step{
			{ev: act("a1", at(2*time.Minute)), dup: true},
			{ev: cartEv("c0", at(-time.Second), cart()), late: true},
			{ev: act("a2", at(2*time.Minute)), emit: true, cart: c, cust: u},
		})
		if !slices.Equal(st.decoded, []string{"s1"}) || r.Encoded() != 0 || r.Len() != 1 {
			t.Fatalf("decodes %v, Encoded %d, Len %d; want [s1], 0, 1", st.decoded, r.Encoded(), r.Len())
		}
	})
	t.Run("same updates as a decoded restore", func(t *testing.T) {
		steps := []step{
			{ev: act("a1", at(2*time.Minute)), dup: true},
			{ev: custEv("u1", at(30*time.Second), customer(email("old@x.io"))), late: true},
			{ev: cartEv("c1", at(3*time.Minute), cart(item("B", 2)))},
			{ev: act("a3", at(4*time.Minute)), emit: true, cart: cart(item("B", 2)), cust: u},
		}
		eager := newReducer(t, time.Hour)
		eager.Restore(defaultVisitor, snap())
		run(t, eager, steps)
		st := &store{snaps: map[string]*reducer.Snapshot{"s1": snap()}}
		lazy := newLazyReducer(t, time.Hour, st)
		lazy.RestoreEncoded(defaultVisitor, at(time.Minute), 0, []byte("s1"))
		run(t, lazy, steps)
	})
	t.Run("Snapshot decodes", func(t *testing.T) {
		st := &store{snaps: map[string]*reducer.Snapshot{"s1": snap()}}
		r := newLazyReducer(t, time.Hour, st)
		r.RestoreEncoded(defaultVisitor, at(time.Minute), 0, []byte("s1"))
		if s := r.Snapshot(defaultVisitor); s == nil || s.LastSeen != at(time.Minute) {
			t.Fatalf("Snapshot = %+v", s)
		}
		if r.Snapshot(defaultVisitor) == nil || len(st.decoded) != 1 {
			t.Fatalf("decodes %v, want one", st.decoded)
		}
	})
	t.Run("keeps its touched time, encoded and decoded", func(t *testing.T) {
		st := &store{snaps: map[string]*reducer.Snapshot{"s1": snap()}}
		r := newLazyReducer(t, time.Hour, st)
		r.RestoreEncoded(defaultVisitor, at(time.Minute), 4242, []byte("s1"))
		if got := r.Touched(defaultVisitor); got != 4242 || len(st.decoded) != 0 {
			t.Fatalf("Touched = %d (decodes %v), want 4242 without decoding", got, st.decoded)
		}
		if got := r.ExpireIdle(at(5*time.Hour), 4242); got != nil {
			t.Errorf("ExpireIdle dropped %v touched at the bound", got)
		}
		if s := r.Snapshot(defaultVisitor); s == nil || s.Touched != 4242 {
			t.Fatalf("decoded snapshot %+v, want Touched 4242", s)
		}
	})
	t.Run("expires by the given LastSeen without decoding", func(t *testing.T) {
		st := &store{snaps: map[string]*reducer.Snapshot{"s1": snap(), "s2": snap()}}
		r := newLazyReducer(t, time.Hour, st)
		r.RestoreEncoded("old", at(0), 0, []byte("s1"))
		r.RestoreEncoded("new", at(time.Hour), 0, []byte("s2"))
		got := r.ExpireBefore(at(time.Hour + time.Minute))
		if !slices.Equal(got, []string{"old"}) || len(st.decoded) != 0 || r.Len() != 1 {
			t.Fatalf("ExpireBefore = %v, decodes %v, Len %d; want [old], none, 1", got, st.decoded, r.Len())
		}
		if r.Snapshot("old") != nil {
			t.Fatal("expired visitor still has a snapshot")
		}
	})
	t.Run("an event past the TTL expires it", func(t *testing.T) {
		st := &store{snaps: map[string]*reducer.Snapshot{"s1": snap()}}
		r := newLazyReducer(t, time.Hour, st)
		r.RestoreEncoded(defaultVisitor, at(time.Minute), 0, []byte("s1"))
		run(t, r, []step{{ev: act("a1", at(2*time.Hour)), expired: true, emit: true, cart: nil}})
	})
	t.Run("undecodable bytes are no snapshot", func(t *testing.T) {
		st := &store{}
		r := newLazyReducer(t, time.Hour, st)
		r.RestoreEncoded(defaultVisitor, at(time.Minute), 0, []byte("garbage"))
		run(t, r, []step{{ev: act("a1", at(2*time.Minute)), emit: true, cart: nil}})
		if r.Len() != 1 || r.Encoded() != 0 {
			t.Fatalf("Len %d, Encoded %d; want 1 (the fresh snapshot), 0", r.Len(), r.Encoded())
		}
	})
	t.Run("Restore and tombstones replace encoded", func(t *testing.T) {
		st := &store{snaps: map[string]*reducer.Snapshot{"s1": snap()}}
		r := newLazyReducer(t, time.Hour, st)
		r.RestoreEncoded("v2", at(0), 0, []byte("s1"))
		r.Restore("v2", nil)
		r.RestoreEncoded(defaultVisitor, at(0), 0, []byte("s1"))
		r.Restore(defaultVisitor, &reducer.Snapshot{LastSeen: at(0)})
		if r.Len() != 1 || r.Encoded() != 0 || len(st.decoded) != 0 {
			t.Fatalf("Len %d, Encoded %d, decodes %v; want 1, 0, none", r.Len(), r.Encoded(), st.decoded)
		}
		run(t, r, []step{{ev: act("a1", at(time.Second)), emit: true, cart: nil}})
		apply(t, r, cartEv("c1", at(2*time.Second), c))
		r.RestoreEncoded(defaultVisitor, at(time.Minute), 0, []byte("s1")) // replaces a decoded one
		run(t, r, []step{{ev: act("a1", at(2*time.Minute)), dup: true}})
	})
	t.Run("refused without Decode", func(t *testing.T) {
		r := newReducer(t, time.Hour)
		if r.RestoreEncoded(defaultVisitor, at(0), 0, []byte("s1")) || r.Len() != 0 {
			t.Fatal("RestoreEncoded accepted without a Decode")
		}
	})
}
