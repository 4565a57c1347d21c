package gen

import (
	"reflect"
	"testing"

	"github.com/sessiond/sessiond/reducer"
)

// TestThroughReducer feeds the stream to the reducer: every event is
// accepted, every action gives exactly one update, nothing is late or a
// duplicate, and the story holds: an order carries the cart the snapshot
// has, and the visitor's next cart event resets it.
func TestThroughReducer(t *testing.T) {
	t.Parallel()
	for _, tc := range testConfigs {
		t.Run(tc.name, func(t *testing.T) {
			r, err := reducer.New(reducer.DefaultConfig())
			if err != nil {
				t.Fatal(err)
			}
			const n = 100000
			var updates, actions, orders int
			ordered := map[string]bool{}
			for i, ev := range newGen(t, tc.cfg).Take(n) {
				res, err := r.Apply(ev)
				if err != nil {
					t.Fatalf("event %d: %v", i, err)
				}
				if res.Late || res.Duplicate || res.Expired {
					t.Fatalf("event %d: %+v", i, res)
				}
				if ev.Kind == reducer.KindCart && ordered[ev.VisitorID] {
					if ev.Cart == nil || len(ev.Cart.Items) != 0 {
						t.Fatalf("event %d: %s's first cart event after an order is %+v, want a reset", i, ev.VisitorID, ev.Cart)
					}
					delete(ordered, ev.VisitorID)
				}
				if ev.Kind != reducer.KindAction {
					continue
				}
				actions++
				if res.Update == nil {
					t.Fatalf("event %d: action without update", i)
				}
				updates++
				if ordered[ev.VisitorID] {
					t.Fatalf("event %d: %s acts before its cart reset", i, ev.VisitorID)
				}
				if a := ev.Action; a.Type == reducer.ActionAddOrder {
					orders++
					ordered[ev.VisitorID] = true
					if c := res.Update.Cart; c == nil || len(c.Items) == 0 || !reflect.DeepEqual(c.Items, a.Order.Items) {
						t.Fatalf("event %d: order of %+v, snapshot cart %+v", i, a.Order.Items, c)
					}
				}
			}
			t.Logf("%d events: %d updates, %d orders, %d visitors", n, updates, orders, r.Len())
			if updates != actions || updates < n/2 || updates > 3*n/5 {
				t.Fatalf("%d updates for %d actions in %d events", updates, actions, n)
			}
			if orders == 0 || r.Len() != tc.cfg.WithDefaults().Visitors {
				t.Fatalf("%d orders, %d visitors", orders, r.Len())
			}
		})
	}
}

// TestFaults checks that faults are added to the clean stream without
// changing it, and that the reducer sees them as what they are.
func TestFaults(t *testing.T) {
	t.Parallel()
	const n = 50000
	clean := newGen(t, Config{Seed: 21}).Take(n)
	g := newGen(t, Config{Seed: 21, DuplicateRate: 0.1, LateRate: 0.1})
	r, _ := reducer.New(reducer.DefaultConfig())
	seen := map[string]*reducer.Event{}
	var dups, lates, lateApplied, dupResults, updates int
	for i := 0; i < n; {
		ev := g.Next()
		res, err := r.Apply(ev)
		if err != nil {
			t.Fatal(err)
		}
		if res.Update != nil {
			updates++
		}
		if res.Duplicate {
			dupResults++
		}
		if res.Late {
			lateApplied++
		}
		if first, ok := seen[ev.EventID]; ok {
			dups++
			if ev.Kind != reducer.KindAction || !reflect.DeepEqual(ev, first) {
				t.Fatalf("re-sent %+v differs from %+v", ev, first)
			}
			continue
		}
		seen[ev.EventID] = ev
		want := clean[i]
		i++
		if ev.OccurredAt != want.OccurredAt {
			lates++
			d := want.OccurredAt - ev.OccurredAt
			clamped := ev.OccurredAt == DefaultStart.UnixMilli() // not before Start
			if ev.Kind == reducer.KindAction || d < 1 || d > 5000 || d < 1000 && !clamped {
				t.Fatalf("late %s by %dms", ev.Kind, d)
			}
			late := *ev
			late.OccurredAt = want.OccurredAt
			ev = &late
		}
		if !reflect.DeepEqual(ev, want) {
			t.Fatalf("event %d is %+v, clean stream has %+v", i-1, ev, want)
		}
	}
	actions := int(kindCounts(clean)[reducer.KindAction])
	t.Logf("%d duplicates (%d seen by the reducer), %d late (%d ignored), %d updates for %d actions",
		dups, dupResults, lates, lateApplied, updates, actions)
	if dups == 0 || dupResults != dups || updates != actions {
		t.Fatalf("%d duplicates, %d reducer duplicates, %d updates for %d actions", dups, dupResults, updates, actions)
	}
	st := g.Stats()
	if want := (Stats{Events: uint64(n + dups), Kinds: st.Kinds, Orders: st.Orders, Duplicates: uint64(dups), Late: uint64(lates)}); st != want ||
		st.Kinds != kindCounts(clean) {
		t.Fatalf("stats %+v, want %+v with kinds %v", st, want, kindCounts(clean))
	}
	if want := 0.1 * float64(n-actions); float64(lates) < 0.8*want || float64(lates) > 1.2*want {
		t.Fatalf("%d late events, want about %.0f", lates, want)
	}
}
