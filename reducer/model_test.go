package reducer_test

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/sessiond/sessiond/reducer"
)

// model is docs/design.md §2 written as plainly as possible, as an oracle for the
// reducer: event ids are remembered as strings, not hashes.
type model struct {
	ttl      int64
	visitors map[string]*modelVisitor
}

type modelVisitor struct {
	lastSeen        int64
	cart            *reducer.Cart
	cartAt          int64
	customer        *reducer.Customer
	customerAt      int64
	recentActionIDs []string // oldest first, at most 32
}

func (m *model) apply(ev *reducer.Event) reducer.Result {
	var res reducer.Result
	v := m.visitors[ev.VisitorID]
	if v != nil && ev.OccurredAt > v.lastSeen+m.ttl {
		v, res.Expired = nil, true
	}
	if v == nil {
		v = &modelVisitor{lastSeen: ev.OccurredAt}
		m.visitors[ev.VisitorID] = v
	}
	v.lastSeen = max(v.lastSeen, ev.OccurredAt)
	switch {
	case ev.Kind == reducer.KindCart && ev.Cart != nil:
		if v.cart != nil && ev.OccurredAt < v.cartAt {
			res.Late = true
		} else {
			v.cart, v.cartAt = ev.Cart, ev.OccurredAt
		}
	case ev.Kind == reducer.KindCustomer && ev.Customer != nil:
		if v.customer != nil && ev.OccurredAt < v.customerAt {
			res.Late = true
		} else {
			v.customer, v.customerAt = ev.Customer, ev.OccurredAt
		}
	case ev.Kind == reducer.KindAction:
		if slices.Contains(v.recentActionIDs, ev.EventID) {
			res.Duplicate = true
			break
		}
		v.recentActionIDs = append(v.recentActionIDs, ev.EventID)
		if len(v.recentActionIDs) > 32 {
			v.recentActionIDs = v.recentActionIDs[1:]
		}
		res.Update = &reducer.Update{
			UpdateID: ev.EventID, VisitorID: ev.VisitorID, OccurredAt: ev.OccurredAt,
			Action: ev.Action, Cart: v.cart, Customer: v.customer,
		}
	}
	return res
}

// TestAgainstModel feeds random streams — few visitors, jittered and
// out-of-order times, gaps past the TTL, redelivered actions, resets,
// unchanged parts and invalid events — to the reducer and to the model.
func TestAgainstModel(t *testing.T) {
	t.Parallel()
	const ttl = time.Hour
	for seed := range uint64(50) {
		t.Run(fmt.Sprint(seed), func(t *testing.T) {
			rng := rand.New(rand.NewPCG(seed, 99))
			r := newReducer(t, ttl)
			m := &model{ttl: ttl.Milliseconds(), visitors: map[string]*modelVisitor{}}
			var sent []*reducer.Event // actions, for redelivery
			var late, dup, expired, updates, nilCart int
			now := t0
			for i := range 3000 {
				ev := randomEvent(rng, i, &now, sent)
				if ev.Kind == reducer.KindAction {
					sent = append(sent, ev)
				}
				got, err := r.Apply(ev)
				if reducer.Validate(ev) != nil {
					if err == nil || got != (reducer.Result{}) {
						t.Fatalf("event %d: invalid event gave %+v, %v", i, got, err)
					}
					continue
				}
				if err != nil {
					t.Fatalf("event %d: %v", i, err)
				}
				want := m.apply(ev)
				late, dup, expired = late+b2i(want.Late), dup+b2i(want.Duplicate), expired+b2i(want.Expired)
				if want.Update != nil {
					updates, nilCart = updates+1, nilCart+b2i(want.Update.Cart == nil)
				}
				if !sameResult(got, want) {
					t.Fatalf("event %d %s %s/%s at %d:\n got %+v %+v\nwant %+v %+v",
						i, ev.Kind, ev.VisitorID, ev.EventID, ev.OccurredAt, got, got.Update, want, want.Update)
				}
			}
			t.Logf("late=%d duplicate=%d expired=%d updates=%d (cart unknown in %d)", late, dup, expired, updates, nilCart)
			if r.Len() != len(m.visitors) {
				t.Errorf("Len = %d, model has %d", r.Len(), len(m.visitors))
			}
		})
	}
}

func sameResult(a, b reducer.Result) bool {
	if a.Late != b.Late || a.Duplicate != b.Duplicate || a.Expired != b.Expired || (a.Update == nil) != (b.Update == nil) {
		return false
	}
	return a.Update == nil || *a.Update == *b.Update
}

func randomEvent(rng *rand.Rand, i int, now *int64, sent []*reducer.Event) *reducer.Event {
	*now += rng.Int64N(int64(10 * time.Minute / time.Millisecond))
	if rng.IntN(50) == 0 {
		*now += int64(2 * time.Hour / time.Millisecond) // a gap past the TTL
	}
	t := *now - rng.Int64N(int64(90*time.Minute/time.Millisecond)) // out of order, sometimes by more than the TTL
	if rng.IntN(4) == 0 {
		t = *now
	}
	v := fmt.Sprintf("v%d", rng.IntN(4))
	id := fmt.Sprintf("e%d", i)
	switch p := rng.IntN(100); {
	case p < 8 && len(sent) > 0: // redelivery, possibly to another visitor
		ev := *sent[len(sent)-1-rng.IntN(min(len(sent), 40))]
		if rng.IntN(5) == 0 {
			ev.VisitorID = v
		}
		return &ev
	case p < 10: // invalid
		return &reducer.Event{Kind: reducer.KindCart, VisitorID: v, EventID: id, OccurredAt: t + int64(3*time.Hour/time.Millisecond),
			Cart: cart(reducer.Item{ProductID: "P", Quantity: 0, PriceCurrencyCode: "EUR"})}
	case p < 40:
		var c *reducer.Cart
		switch rng.IntN(5) {
		case 0:
		case 1:
			c = cart()
		default:
			c = cart(item(fmt.Sprint("P", rng.IntN(9)), int32(1+rng.IntN(3))))
		}
		return &reducer.Event{Kind: reducer.KindCart, VisitorID: v, EventID: id, OccurredAt: t, Cart: c}
	case p < 55:
		var c *reducer.Customer
		switch rng.IntN(4) {
		case 0:
		case 1:
			c = customer()
		default:
			c = customer(email(fmt.Sprintf("u%d@x.io", rng.IntN(9))))
		}
		return &reducer.Event{Kind: reducer.KindCustomer, VisitorID: v, EventID: id, OccurredAt: t, Customer: c}
	}
	return &reducer.Event{Kind: reducer.KindAction, VisitorID: v, EventID: id, OccurredAt: t,
		Action: &reducer.Action{Type: reducer.ActionViewFrontPage}}
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}
