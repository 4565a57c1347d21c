package reducer_test

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/sessiond/sessiond/reducer"
)

// t0 is the event time the tests count from: 2026-11-27T10:00:00Z in ms.
var t0 = time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC).UnixMilli()

// at returns t0 plus d, in ms.
func at(d time.Duration) int64 { return t0 + d.Milliseconds() }

// defaultVisitor is the visitor of events built by the helpers below.
const defaultVisitor = "v1"

func strp(s string) *string { return &s }
func boolp(b bool) *bool    { return &b }

// item builds a valid cart line.
func item(productID string, qty int32) reducer.Item {
	return reducer.Item{
		ProductID:         productID,
		Name:              "Product " + productID,
		Quantity:          qty,
		UnitPrice:         9.99,
		PriceCurrencyCode: "EUR",
	}
}

// cart builds a cart of exactly items; with no items it is a reset (Items nil).
func cart(items ...reducer.Item) *reducer.Cart { return &reducer.Cart{Items: items} }

// customer builds a customer that carries exactly the fields set on it.
func customer(set ...func(*reducer.Customer)) *reducer.Customer {
	c := &reducer.Customer{}
	for _, f := range set {
		f(c)
	}
	return c
}

func email(s string) func(*reducer.Customer) {
	return func(c *reducer.Customer) { c.Email, c.Present = s, c.Present|reducer.FieldEmail }
}

func firstName(s string) func(*reducer.Customer) {
	return func(c *reducer.Customer) { c.FirstName, c.Present = s, c.Present|reducer.FieldFirstName }
}

func reference(s string) func(*reducer.Customer) {
	return func(c *reducer.Customer) {
		c.CustomerReference, c.Present = s, c.Present|reducer.FieldCustomerReference
	}
}

// cartEv is a cart_changed event of the default visitor; c == nil means unchanged.
func cartEv(id string, t int64, c *reducer.Cart) *reducer.Event {
	return &reducer.Event{Kind: reducer.KindCart, VisitorID: defaultVisitor, EventID: id, OccurredAt: t, Cart: c}
}

// custEv is a customer_changed event of the default visitor; c == nil means unchanged.
func custEv(id string, t int64, c *reducer.Customer) *reducer.Event {
	return &reducer.Event{Kind: reducer.KindCustomer, VisitorID: defaultVisitor, EventID: id, OccurredAt: t, Customer: c}
}

// act is a view_cart action of the default visitor.
func act(id string, t int64) *reducer.Event {
	return &reducer.Event{
		Kind: reducer.KindAction, VisitorID: defaultVisitor, EventID: id, OccurredAt: t,
		Action: &reducer.Action{Type: reducer.ActionViewCart},
	}
}

// visitor returns ev for visitor v instead of the default one.
func visitor(v string, ev *reducer.Event) *reducer.Event {
	ev.VisitorID = v
	return ev
}

func newReducer(tb testing.TB, ttl time.Duration) *reducer.Reducer {
	tb.Helper()
	r, err := reducer.New(reducer.Config{SessionTTL: ttl})
	if err != nil {
		tb.Fatalf("New: %v", err)
	}
	return r
}

// step is one event applied in a scenario and what applying it must give.
type step struct {
	ev      *reducer.Event
	late    bool
	dup     bool
	expired bool
	emit    bool              // an update is expected
	cart    *reducer.Cart     // the update's expected cart (nil = unknown)
	cust    *reducer.Customer // the update's expected customer (nil = unknown)
}

// run applies steps in order to r and checks each Result.
func run(t *testing.T, r *reducer.Reducer, steps []step) {
	t.Helper()
	for i, s := range steps {
		res, err := r.Apply(s.ev)
		if err != nil {
			t.Fatalf("step %d (%s): Apply: %v", i, s.ev.EventID, err)
		}
		if res.Late != s.late || res.Duplicate != s.dup || res.Expired != s.expired {
			t.Errorf("step %d (%s): late=%v dup=%v expired=%v, want late=%v dup=%v expired=%v",
				i, s.ev.EventID, res.Late, res.Duplicate, res.Expired, s.late, s.dup, s.expired)
		}
		if (res.Update != nil) != s.emit {
			t.Fatalf("step %d (%s): update=%v, want update=%v", i, s.ev.EventID, res.Update != nil, s.emit)
		}
		if res.Update != nil {
			checkUpdate(t, i, s, res.Update)
		}
	}
}

func checkUpdate(t *testing.T, i int, s step, u *reducer.Update) {
	t.Helper()
	if u.UpdateID != s.ev.EventID || u.VisitorID != s.ev.VisitorID || u.OccurredAt != s.ev.OccurredAt || u.Action != s.ev.Action {
		t.Errorf("step %d: update header = %q/%q/%d/%p, want %q/%q/%d/%p", i,
			u.UpdateID, u.VisitorID, u.OccurredAt, u.Action, s.ev.EventID, s.ev.VisitorID, s.ev.OccurredAt, s.ev.Action)
	}
	if !sameCart(u.Cart, s.cart) {
		t.Errorf("step %d (%s): update cart = %s, want %s", i, s.ev.EventID, showCart(u.Cart), showCart(s.cart))
	}
	if !sameCustomer(u.Customer, s.cust) {
		t.Errorf("step %d (%s): update customer = %+v, want %+v", i, s.ev.EventID, u.Customer, s.cust)
	}
}

// sameCart compares carts by content, telling unknown (nil) from empty.
func sameCart(a, b *reducer.Cart) bool {
	if a == nil || b == nil {
		return a == b
	}
	return slices.Equal(a.Items, b.Items) && a.RestoreLink == b.RestoreLink && a.HasRestore == b.HasRestore
}

func sameCustomer(a, b *reducer.Customer) bool {
	if a == nil || b == nil {
		return a == b
	}
	return *a == *b
}

func showCart(c *reducer.Cart) string {
	if c == nil {
		return "null"
	}
	s := "{items:["
	for i, it := range c.Items {
		if i > 0 {
			s += " "
		}
		s += fmt.Sprintf("%sx%d", it.ProductID, it.Quantity)
	}
	return s + "]}"
}
