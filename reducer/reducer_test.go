package reducer_test

import (
	"errors"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/sessiond/sessiond/reducer"
)

func TestCartThreeStates(t *testing.T) {
	t.Parallel()
	a1, b2, c3 := item("A", 1), item("B", 2), item("C", 3)
	tests := []struct {
		name  string
		steps []step
	}{
		{"never set is unknown", []step{
			{ev: act("a1", at(0)), emit: true, cart: nil},
		}},
		{"nil cart on unknown stays unknown", []step{
			{ev: cartEv("c1", at(0), nil)},
			{ev: act("a1", at(time.Second)), emit: true, cart: nil},
		}},
		{"nil cart leaves a known cart unchanged", []step{
			{ev: cartEv("c1", at(0), cart(a1))},
			{ev: cartEv("c2", at(time.Second), nil)},
			{ev: act("a1", at(2*time.Second)), emit: true, cart: cart(a1)},
		}},
		{"reset with nil items is known and empty", []step{
			{ev: cartEv("c1", at(0), cart(a1, b2))},
			{ev: cartEv("c2", at(time.Second), cart())},
			{ev: act("a1", at(2*time.Second)), emit: true, cart: cart()},
		}},
		{"reset with empty items is known and empty", []step{
			{ev: cartEv("c1", at(0), &reducer.Cart{Items: []reducer.Item{}})},
			{ev: act("a1", at(time.Second)), emit: true, cart: &reducer.Cart{Items: []reducer.Item{}}},
		}},
		{"reset of an unknown cart makes it known", []step{
			{ev: cartEv("c1", at(0), cart())},
			{ev: act("a1", at(time.Second)), emit: true, cart: cart()},
		}},
		{"items replace exactly, never merged", []step{
			{ev: cartEv("c1", at(0), cart(a1, b2))},
			{ev: cartEv("c2", at(time.Second), cart(c3))},
			{ev: act("a1", at(2*time.Second)), emit: true, cart: cart(c3)},
		}},
		{"same product with new quantity replaces the line", []step{
			{ev: cartEv("c1", at(0), cart(a1))},
			{ev: cartEv("c2", at(time.Second), cart(item("A", 5)))},
			{ev: act("a1", at(2*time.Second)), emit: true, cart: cart(item("A", 5))},
		}},
		{"restore link is carried", []step{
			{ev: cartEv("c1", at(0), &reducer.Cart{Items: []reducer.Item{a1}, RestoreLink: "https://shop/r/1", HasRestore: true})},
			{ev: act("a1", at(time.Second)), emit: true, cart: &reducer.Cart{Items: []reducer.Item{a1}, RestoreLink: "https://shop/r/1", HasRestore: true}},
		}},
		{"replace drops an earlier restore link", []step{
			{ev: cartEv("c1", at(0), &reducer.Cart{Items: []reducer.Item{a1}, RestoreLink: "https://shop/r/1", HasRestore: true})},
			{ev: cartEv("c2", at(time.Second), cart(b2))},
			{ev: act("a1", at(2*time.Second)), emit: true, cart: cart(b2)},
		}},
		{"every action sees the cart as it stands", []step{
			{ev: act("a1", at(0)), emit: true, cart: nil},
			{ev: cartEv("c1", at(time.Second), cart(a1))},
			{ev: act("a2", at(2*time.Second)), emit: true, cart: cart(a1)},
			{ev: cartEv("c2", at(3*time.Second), cart())},
			{ev: act("a3", at(4*time.Second)), emit: true, cart: cart()},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { run(t, newReducer(t, reducer.DefaultSessionTTL), tt.steps) })
	}
}

func TestCustomerThreeStates(t *testing.T) {
	t.Parallel()
	full := &reducer.Customer{
		Present: reducer.FieldCustomerReference | reducer.FieldEmail | reducer.FieldFirstName |
			reducer.FieldLastName | reducer.FieldNewsletter | reducer.FieldMarketingPermission,
		CustomerReference: "b369f1", Email: "devnull@nosto.com", FirstName: "Ada", LastName: "Lovelace",
		Newsletter: true, MarketingPermission: true,
	}
	tests := []struct {
		name  string
		steps []step
	}{
		{"never set is unknown", []step{
			{ev: act("a1", at(0)), emit: true, cust: nil},
		}},
		{"nil customer on unknown stays unknown", []step{
			{ev: custEv("u1", at(0), nil)},
			{ev: act("a1", at(time.Second)), emit: true, cust: nil},
		}},
		{"nil customer leaves a known customer unchanged", []step{
			{ev: custEv("u1", at(0), full)},
			{ev: custEv("u2", at(time.Second), nil)},
			{ev: act("a1", at(2*time.Second)), emit: true, cust: full},
		}},
		{"no fields is a reset", []step{
			{ev: custEv("u1", at(0), full)},
			{ev: custEv("u2", at(time.Second), customer())},
			{ev: act("a1", at(2*time.Second)), emit: true, cust: customer()},
		}},
		{"replace with only email drops first_name", []step{
			{ev: custEv("u1", at(0), customer(email("a@x.io"), firstName("Ada")))},
			{ev: custEv("u2", at(time.Second), customer(email("b@x.io")))},
			{ev: act("a1", at(2*time.Second)), emit: true, cust: customer(email("b@x.io"))},
		}},
		{"replace drops every field not given", []step{
			{ev: custEv("u1", at(0), full)},
			{ev: custEv("u2", at(time.Second), customer(reference("r2")))},
			{ev: act("a1", at(2*time.Second)), emit: true, cust: customer(reference("r2"))},
		}},
		{"full customer is carried as given", []step{
			{ev: custEv("u1", at(0), full)},
			{ev: act("a1", at(time.Second)), emit: true, cust: full},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { run(t, newReducer(t, reducer.DefaultSessionTTL), tt.steps) })
	}
}

func TestUpdateCarriesCurrentPointers(t *testing.T) {
	t.Parallel()
	r := newReducer(t, reducer.DefaultSessionTTL)
	first := apply(t, r, act("a0", at(0)))
	if first.Update == nil || first.Update.Cart != nil || first.Update.Customer != nil {
		t.Fatalf("first action: update %+v, want one with nil cart and customer", first.Update)
	}
	c, u := cart(item("A", 1)), customer(email("a@x.io"))
	apply(t, r, cartEv("c1", at(time.Second), c))
	apply(t, r, custEv("u1", at(time.Second), u))
	a := act("a1", at(2*time.Second))
	res := apply(t, r, a)
	if res.Update.Cart != c || res.Update.Customer != u || res.Update.Action != a.Action {
		t.Errorf("update does not carry the current pointers")
	}
	// A later replace does not touch what an earlier update carries.
	apply(t, r, cartEv("c2", at(3*time.Second), cart(item("B", 2))))
	if res.Update.Cart != c || len(c.Items) != 1 || c.Items[0].ProductID != "A" {
		t.Errorf("earlier update's cart changed: %s", showCart(res.Update.Cart))
	}
}

func TestFirstEventActionCreatesSnapshot(t *testing.T) {
	t.Parallel()
	r := newReducer(t, reducer.DefaultSessionTTL)
	apply(t, r, act("a1", at(0)))
	s := r.Snapshot(defaultVisitor)
	if s == nil || s.Cart != nil || s.Customer != nil || s.LastSeen != at(0) || len(s.Recent) != 1 {
		t.Fatalf("snapshot after first action = %+v", s)
	}
	if r.Len() != 1 {
		t.Errorf("Len = %d, want 1", r.Len())
	}
}

func TestLastWriterWins(t *testing.T) {
	t.Parallel()
	a1, b2, c3 := item("A", 1), item("B", 2), item("C", 3)
	ada, bob := customer(firstName("Ada")), customer(firstName("Bob"))
	tests := []struct {
		name  string
		steps []step
	}{
		{"older cart is late and ignored", []step{
			{ev: cartEv("c2", at(2*time.Second), cart(b2))},
			{ev: cartEv("c1", at(time.Second), cart(a1)), late: true},
			{ev: act("a1", at(3*time.Second)), emit: true, cart: cart(b2)},
		}},
		{"older reset is late and ignored", []step{
			{ev: cartEv("c2", at(2*time.Second), cart(b2))},
			{ev: cartEv("c1", at(time.Second), cart()), late: true},
			{ev: act("a1", at(3*time.Second)), emit: true, cart: cart(b2)},
		}},
		{"older unchanged cart is not late", []step{
			{ev: cartEv("c2", at(2*time.Second), cart(b2))},
			{ev: cartEv("c1", at(time.Second), nil)},
			{ev: act("a1", at(3*time.Second)), emit: true, cart: cart(b2)},
		}},
		{"equal occurred_at replaces the cart", []step{
			{ev: cartEv("c1", at(time.Second), cart(a1))},
			{ev: cartEv("c2", at(time.Second), cart(c3))},
			{ev: act("a1", at(time.Second)), emit: true, cart: cart(c3)},
		}},
		{"older cart on unknown cart is applied", []step{
			{ev: act("a1", at(5*time.Second)), emit: true},
			{ev: cartEv("c1", at(time.Second), cart(a1))},
			{ev: act("a2", at(6*time.Second)), emit: true, cart: cart(a1)},
		}},
		{"older customer is late and ignored", []step{
			{ev: custEv("u2", at(2*time.Second), bob)},
			{ev: custEv("u1", at(time.Second), ada), late: true},
			{ev: act("a1", at(3*time.Second)), emit: true, cust: bob},
		}},
		{"equal occurred_at replaces the customer", []step{
			{ev: custEv("u1", at(time.Second), ada)},
			{ev: custEv("u2", at(time.Second), bob)},
			{ev: act("a1", at(2*time.Second)), emit: true, cust: bob},
		}},
		{"late cart does not block a newer customer", []step{
			{ev: cartEv("c2", at(5*time.Second), cart(b2))},
			{ev: custEv("u1", at(time.Second), ada)},
			{ev: cartEv("c1", at(2*time.Second), cart(a1)), late: true},
			{ev: custEv("u2", at(3*time.Second), bob)},
			{ev: act("a1", at(6*time.Second)), emit: true, cart: cart(b2), cust: bob},
		}},
		{"late customer does not block a newer cart", []step{
			{ev: custEv("u2", at(5*time.Second), bob)},
			{ev: custEv("u1", at(time.Second), ada), late: true},
			{ev: cartEv("c1", at(2*time.Second), cart(a1))},
			{ev: act("a1", at(6*time.Second)), emit: true, cart: cart(a1), cust: bob},
		}},
		{"late action is emitted with the snapshot as it stands", []step{
			{ev: cartEv("c1", at(5*time.Second), cart(a1))},
			{ev: custEv("u1", at(5*time.Second), ada)},
			{ev: act("a1", at(time.Second)), emit: true, cart: cart(a1), cust: ada},
		}},
		{"late action far older than TTL is still emitted", []step{
			{ev: cartEv("c1", at(72*time.Hour), cart(a1))},
			{ev: act("a1", at(0)), emit: true, cart: cart(a1)},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { run(t, newReducer(t, reducer.DefaultSessionTTL), tt.steps) })
	}
}

func TestLateEventKeepsLastSeen(t *testing.T) {
	t.Parallel()
	r := newReducer(t, reducer.DefaultSessionTTL)
	apply(t, r, cartEv("c2", at(time.Hour), cart(item("A", 1))))
	apply(t, r, cartEv("c1", at(0), cart(item("B", 1))))
	apply(t, r, act("a1", at(time.Minute)))
	if s := r.Snapshot(defaultVisitor); s.LastSeen != at(time.Hour) || s.CartAt != at(time.Hour) {
		t.Errorf("LastSeen=%d CartAt=%d, want both %d", s.LastSeen, s.CartAt, at(time.Hour))
	}
}

func TestDuplicates(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		steps []step
	}{
		{"same event_id twice", []step{
			{ev: act("a1", at(0)), emit: true},
			{ev: act("a1", at(0)), dup: true},
		}},
		{"same event_id later with other content", []step{
			{ev: act("a1", at(0)), emit: true},
			{ev: cartEv("c1", at(time.Second), cart(item("A", 1)))},
			{ev: act("a1", at(2*time.Second)), dup: true},
		}},
		{"duplicate of an older action in the window", []step{
			{ev: act("a1", at(0)), emit: true},
			{ev: act("a2", at(time.Second)), emit: true},
			{ev: act("a3", at(2*time.Second)), emit: true},
			{ev: act("a1", at(0)), dup: true},
			{ev: act("a2", at(time.Second)), dup: true},
		}},
		{"same id on another visitor is not a duplicate", []step{
			{ev: act("a1", at(0)), emit: true},
			{ev: visitor("v2", act("a1", at(0))), emit: true},
			{ev: visitor("v2", act("a1", at(0))), dup: true},
		}},
		{"cart event ids are not remembered", []step{
			{ev: cartEv("x1", at(0), cart(item("A", 1)))},
			{ev: act("x1", at(time.Second)), emit: true, cart: cart(item("A", 1))},
		}},
		{"cart with the same id twice is applied twice", []step{
			{ev: cartEv("c1", at(0), cart(item("A", 1)))},
			{ev: cartEv("c1", at(0), cart(item("A", 1)))},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { run(t, newReducer(t, reducer.DefaultSessionTTL), tt.steps) })
	}
}

func TestDuplicateWindow(t *testing.T) {
	t.Parallel()
	others := func(n int) []step {
		var ss []step
		for i := range n {
			ss = append(ss, step{ev: act("o"+strconv.Itoa(i), at(time.Duration(i+1)*time.Second)), emit: true})
		}
		return ss
	}
	if reducer.RecentActions != 32 {
		t.Fatalf("RecentActions = %d, docs/design.md §2 says 32", reducer.RecentActions)
	}
	t.Run("after 31 others still a duplicate", func(t *testing.T) {
		steps := append([]step{{ev: act("first", at(0)), emit: true}}, others(31)...)
		steps = append(steps, step{ev: act("first", at(time.Hour)), dup: true})
		run(t, newReducer(t, reducer.DefaultSessionTTL), steps)
	})
	t.Run("after 32 others emitted again", func(t *testing.T) {
		steps := append([]step{{ev: act("first", at(0)), emit: true}}, others(32)...)
		steps = append(steps, step{ev: act("first", at(time.Hour)), emit: true})
		run(t, newReducer(t, reducer.DefaultSessionTTL), steps)
	})
	t.Run("a suppressed duplicate does not refresh its slot", func(t *testing.T) {
		steps := []step{{ev: act("first", at(0)), emit: true}, {ev: act("first", at(0)), dup: true}}
		steps = append(steps, others(32)...)
		steps = append(steps, step{ev: act("first", at(time.Hour)), emit: true})
		run(t, newReducer(t, reducer.DefaultSessionTTL), steps)
	})
	t.Run("memory holds exactly 32 ids", func(t *testing.T) {
		r := newReducer(t, reducer.DefaultSessionTTL)
		run(t, r, others(100))
		s := r.Snapshot(defaultVisitor)
		if len(s.Recent) != reducer.RecentActions {
			t.Fatalf("len(Recent) = %d", len(s.Recent))
		}
		for i, h := range s.Recent { // oldest first
			if want := reducer.HashEventID("o" + strconv.Itoa(68+i)); h != want {
				t.Fatalf("Recent[%d] = %x, want hash of o%d", i, h, 68+i)
			}
		}
	})
}

func TestExpiry(t *testing.T) {
	t.Parallel()
	const ttl = time.Hour
	a1 := item("A", 1)
	ada := customer(firstName("Ada"))
	tests := []struct {
		name  string
		steps []step
	}{
		{"more than TTL later discards cart and customer", []step{
			{ev: cartEv("c1", at(0), cart(a1))},
			{ev: custEv("u1", at(0), ada)},
			{ev: act("a1", at(ttl+time.Millisecond)), expired: true, emit: true, cart: nil, cust: nil},
		}},
		{"exactly TTL later does not expire", []step{
			{ev: cartEv("c1", at(0), cart(a1))},
			{ev: custEv("u1", at(0), ada)},
			{ev: act("a1", at(ttl)), emit: true, cart: cart(a1), cust: ada},
		}},
		{"expiry discards the duplicate memory", []step{
			{ev: act("a1", at(0)), emit: true},
			{ev: act("a1", at(ttl+time.Millisecond)), expired: true, emit: true},
		}},
		{"expiry before a cart applies the new cart", []step{
			{ev: cartEv("c1", at(0), cart(a1))},
			{ev: custEv("u1", at(0), ada)},
			{ev: cartEv("c2", at(2*ttl), cart()), expired: true},
			{ev: act("a1", at(2*ttl)), emit: true, cart: cart(), cust: nil},
		}},
		{"an unchanged cart still counts as activity", []step{
			{ev: cartEv("c1", at(0), cart(a1))},
			{ev: cartEv("c2", at(ttl), nil)},
			{ev: act("a1", at(2*ttl)), emit: true, cart: cart(a1)},
		}},
		{"activity is the latest event, not the cart's time", []step{
			{ev: cartEv("c1", at(0), cart(a1))},
			{ev: act("a1", at(ttl)), emit: true, cart: cart(a1)},
			{ev: act("a2", at(2*ttl)), emit: true, cart: cart(a1)},
		}},
		{"an older event never expires", []step{
			{ev: cartEv("c1", at(3*ttl), cart(a1))},
			{ev: act("a1", at(0)), emit: true, cart: cart(a1)},
			{ev: act("a2", at(3*ttl+ttl)), emit: true, cart: cart(a1)},
		}},
		{"a late event after expiry does not bring the session back", []step{
			{ev: cartEv("c1", at(0), cart(a1))},
			{ev: act("a1", at(3*ttl)), expired: true, emit: true, cart: nil},
			{ev: act("a2", at(ttl)), emit: true, cart: nil},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { run(t, newReducer(t, ttl), tt.steps) })
	}
}

func TestDefaultTTL(t *testing.T) {
	t.Parallel()
	r := newReducer(t, reducer.DefaultSessionTTL)
	run(t, r, []step{
		{ev: cartEv("c1", at(0), cart(item("A", 1)))},
		{ev: act("a1", at(24*time.Hour)), emit: true, cart: cart(item("A", 1))},
		{ev: act("a2", at(48*time.Hour+time.Millisecond)), expired: true, emit: true, cart: nil},
	})
}

func TestRejectedEventHasNoEffect(t *testing.T) {
	t.Parallel()
	const ttl = time.Hour
	bad := []*reducer.Event{
		// Would expire the snapshot if accepted.
		cartEv("c9", at(10*ttl), cart(reducer.Item{ProductID: "X", Quantity: 0, PriceCurrencyCode: "EUR"})),
		custEv("u9", at(10*ttl), customer(email("\xff"))),
		{Kind: reducer.KindAction, VisitorID: defaultVisitor, EventID: "a9", OccurredAt: at(10 * ttl), Action: &reducer.Action{}},
		{Kind: reducer.KindAction, VisitorID: defaultVisitor, EventID: "", OccurredAt: at(10 * ttl), Action: &reducer.Action{Type: reducer.ActionViewCart}},
	}
	for _, ev := range bad {
		t.Run(ev.Kind.String()+"/"+ev.EventID, func(t *testing.T) {
			r := newReducer(t, ttl)
			apply(t, r, cartEv("c1", at(0), cart(item("A", 1))))
			before := *r.Snapshot(defaultVisitor)
			res, err := r.Apply(ev)
			if !errors.Is(err, reducer.ErrInvalid) {
				t.Fatalf("Apply: err = %v, want ErrInvalid", err)
			}
			if res != (reducer.Result{}) {
				t.Errorf("Result = %+v, want zero", res)
			}
			after := r.Snapshot(defaultVisitor)
			if after.LastSeen != before.LastSeen || after.Cart != before.Cart || after.Customer != before.Customer ||
				!slices.Equal(after.Recent, before.Recent) {
				t.Errorf("snapshot changed: %+v -> %+v", before, *after)
			}
			// The snapshot is still alive: the bad event did not move LastSeen.
			run(t, r, []step{{ev: act("a1", at(ttl)), emit: true, cart: cart(item("A", 1))}})
		})
	}
	t.Run("rejected first event creates no snapshot", func(t *testing.T) {
		r := newReducer(t, ttl)
		if _, err := r.Apply(bad[0]); err == nil {
			t.Fatal("Apply accepted a bad event")
		}
		if r.Len() != 0 || r.Snapshot(defaultVisitor) != nil {
			t.Errorf("Len = %d, want no snapshot", r.Len())
		}
	})
	t.Run("rejected duplicate-looking action is not remembered", func(t *testing.T) {
		r := newReducer(t, ttl)
		bad := act("a1", at(0))
		bad.Action = &reducer.Action{Type: reducer.ActionViewProduct} // product_id missing
		if _, err := r.Apply(bad); err == nil {
			t.Fatal("Apply accepted a bad event")
		}
		run(t, r, []step{{ev: act("a1", at(0)), emit: true}})
	})
}

func TestExpireBefore(t *testing.T) {
	t.Parallel()
	const ttl = time.Hour
	r := newReducer(t, ttl)
	apply(t, r, visitor("old", act("a1", at(0))))
	apply(t, r, visitor("edge", act("a1", at(time.Minute))))
	apply(t, r, visitor("new", act("a1", at(ttl))))
	if got := r.ExpireBefore(at(ttl)); len(got) != 0 {
		t.Errorf("ExpireBefore(TTL) = %v, want none (exactly TTL does not expire)", got)
	}
	got := r.ExpireBefore(at(ttl + time.Minute))
	slices.Sort(got)
	if !slices.Equal(got, []string{"old"}) {
		t.Errorf("ExpireBefore(TTL+1m) = %v, want [old]", got)
	}
	if r.Snapshot("old") != nil || r.Len() != 2 {
		t.Errorf("old still present or Len = %d, want 2", r.Len())
	}
	got = r.ExpireBefore(at(3 * ttl))
	slices.Sort(got)
	if !slices.Equal(got, []string{"edge", "new"}) {
		t.Errorf("ExpireBefore(3TTL) = %v, want [edge new]", got)
	}
	if r.Len() != 0 {
		t.Errorf("Len = %d, want 0", r.Len())
	}
	// A visitor whose snapshot was expired starts unknown, without an Expired flag.
	run(t, r, []step{{ev: visitor("old", act("a2", at(3*ttl))), emit: true}})
	if got := r.ExpireBefore(at(0)); got != nil {
		t.Errorf("ExpireBefore in the past = %v, want nil", got)
	}
}

// ExpireIdle keeps a visitor idle in event time while the caller's time
// (ApplyAt's touched: broker time in the pipeline) says it was seen
// recently; touched changes no update and moves only forward.
func TestExpireIdle(t *testing.T) {
	t.Parallel()
	const ttl = time.Hour
	r := newReducer(t, ttl)
	for _, x := range []struct {
		id      string
		touched int64
	}{{"recent", 5000}, {"stale", 1000}, {"untouched", 0}} {
		if _, err := r.ApplyAt(visitor(x.id, act("a1", at(0))), x.touched); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := r.ApplyAt(visitor("recent", act("a2", at(time.Minute))), 10); err != nil { // older touched: kept
		t.Fatal(err)
	}
	if got := r.Touched("recent"); got != 5000 {
		t.Errorf("Touched(recent) = %d after an older touch, want 5000", got)
	}
	got := r.ExpireIdle(at(3*ttl), 5000)
	slices.Sort(got)
	if !slices.Equal(got, []string{"stale", "untouched"}) {
		t.Errorf("ExpireIdle(3TTL, 5000) = %v, want [stale untouched]", got)
	}
	if got := r.ExpireIdle(at(ttl), 6000); got != nil {
		t.Errorf("ExpireIdle within the TTL = %v, want nil (event time keeps it)", got)
	}
	if got := r.ExpireIdle(at(3*ttl), 6000); !slices.Equal(got, []string{"recent"}) {
		t.Errorf("ExpireIdle(3TTL, 6000) = %v, want [recent]", got)
	}
}

func TestRestore(t *testing.T) {
	t.Parallel()
	c := cart(item("A", 1))
	u := customer(email("a@x.io"))
	snap := &reducer.Snapshot{
		LastSeen: at(time.Minute), CartAt: at(0), CustomerAt: at(time.Minute),
		Cart: c, Customer: u, Recent: []uint64{reducer.HashEventID("a1")},
	}
	t.Run("restored snapshot is used", func(t *testing.T) {
		r := newReducer(t, time.Hour)
		r.Restore(defaultVisitor, snap)
		if r.Snapshot(defaultVisitor) != snap || r.Len() != 1 {
			t.Fatal("Snapshot does not return the restored snapshot")
		}
		run(t, r, []step{
			{ev: act("a1", at(2*time.Minute)), dup: true},
			{ev: cartEv("c0", at(-time.Second), cart()), late: true},
			{ev: act("a2", at(2*time.Minute)), emit: true, cart: c, cust: u},
		})
	})
	t.Run("restore replaces", func(t *testing.T) {
		r := newReducer(t, time.Hour)
		apply(t, r, cartEv("c1", at(0), cart(item("B", 2))))
		r.Restore(defaultVisitor, &reducer.Snapshot{LastSeen: at(0)})
		run(t, r, []step{{ev: act("a1", at(time.Second)), emit: true, cart: nil}})
	})
	t.Run("restored old snapshot expires", func(t *testing.T) {
		r := newReducer(t, time.Hour)
		r.Restore(defaultVisitor, &reducer.Snapshot{LastSeen: at(0), Cart: c, CartAt: at(0), Recent: []uint64{reducer.HashEventID("a1")}})
		run(t, r, []step{{ev: act("a1", at(2*time.Hour)), expired: true, emit: true, cart: nil}})
	})
	t.Run("nil is a tombstone", func(t *testing.T) {
		r := newReducer(t, time.Hour)
		apply(t, r, cartEv("c1", at(0), c))
		apply(t, r, visitor("v2", act("a1", at(0))))
		r.Restore(defaultVisitor, nil)
		if r.Snapshot(defaultVisitor) != nil || r.Len() != 1 {
			t.Fatalf("after tombstone: Len = %d", r.Len())
		}
		r.Restore("never-seen", nil) // no-op
		run(t, r, []step{{ev: act("a9", at(time.Second)), emit: true, cart: nil}})
	})
}

func TestNew(t *testing.T) {
	t.Parallel()
	tests := []struct {
		ttl     time.Duration
		wantErr bool
	}{
		{0, true}, // never replaced by the default: DefaultConfig sets it
		{time.Millisecond, false},
		{time.Hour, false},
		{-time.Nanosecond, true},
		{-time.Hour, true},
	}
	for _, tt := range tests {
		r, err := reducer.New(reducer.Config{SessionTTL: tt.ttl})
		if (err != nil) != tt.wantErr || (r == nil) == (err == nil) {
			t.Errorf("New(%v) = %v, %v; want error %v", tt.ttl, r, err, tt.wantErr)
		}
	}
	if err := (reducer.Config{}).Validate(); err == nil {
		t.Error("Config{}.Validate() = nil, want error (zero TTL)")
	}
	if err := reducer.DefaultConfig().Validate(); err != nil {
		t.Errorf("Validate(default) = %v", err)
	}
	if reducer.DefaultSessionTTL != 24*time.Hour {
		t.Errorf("DefaultSessionTTL = %v, want 24h", reducer.DefaultSessionTTL)
	}
}

func TestNames(t *testing.T) {
	t.Parallel()
	for k, name := range map[reducer.Kind]string{
		reducer.KindCart: "cart_changed", reducer.KindCustomer: "customer_changed", reducer.KindAction: "action",
	} {
		if k.String() != name {
			t.Errorf("%d.String() = %q, want %q", k, k.String(), name)
		}
		if got, ok := reducer.ParseKind(name); !ok || got != k {
			t.Errorf("ParseKind(%q) = %v, %v", name, got, ok)
		}
	}
	if reducer.Kind(9).String() != "unknown" {
		t.Errorf("Kind(9).String() = %q", reducer.Kind(9).String())
	}
	if _, ok := reducer.ParseKind("cart"); ok {
		t.Error(`ParseKind("cart") ok`)
	}
	want := []string{"unknown", "view_front_page", "view_cart", "view_not_found", "view_product",
		"view_category", "view_search", "view_other", "add_order"}
	names := reducer.ActionTypeNames()
	if !slices.Equal(names, want) {
		t.Errorf("ActionTypeNames() = %v, want %v", names, want)
	}
	names[1] = "mutated"
	if reducer.ActionTypeNames()[1] != "view_front_page" {
		t.Error("ActionTypeNames returns shared storage")
	}
	for i, name := range want {
		typ := reducer.ActionType(i)
		if typ.String() != name {
			t.Errorf("ActionType(%d).String() = %q, want %q", i, typ.String(), name)
		}
		got, ok := reducer.ParseActionType(name)
		if wantOK := i != 0; ok != wantOK || (ok && got != typ) {
			t.Errorf("ParseActionType(%q) = %v, %v", name, got, ok)
		}
	}
	if reducer.ActionType(200).String() != "unknown" {
		t.Errorf("ActionType(200).String() = %q", reducer.ActionType(200).String())
	}
	if _, ok := reducer.ParseActionType("View_Cart"); ok {
		t.Error(`ParseActionType("View_Cart") ok`)
	}
}

func TestCustomerHas(t *testing.T) {
	t.Parallel()
	c := customer(email("a@x.io"))
	if !c.Has(reducer.FieldEmail) || c.Has(reducer.FieldFirstName) || c.IsReset() {
		t.Errorf("customer %+v: Has/IsReset wrong", c)
	}
	if !customer().IsReset() {
		t.Error("empty customer is not a reset")
	}
	nl := customer(func(c *reducer.Customer) { c.Present = reducer.FieldNewsletter })
	if nl.IsReset() || !nl.Has(reducer.FieldNewsletter) {
		t.Error("newsletter=false customer must not be a reset")
	}
}

func apply(t *testing.T, r *reducer.Reducer, ev *reducer.Event) reducer.Result {
	t.Helper()
	res, err := r.Apply(ev)
	if err != nil {
		t.Fatalf("Apply(%s): %v", ev.EventID, err)
	}
	return res
}

func TestBefore(t *testing.T) {
	t.Parallel()
	ev := func(t int64, k reducer.Kind) *reducer.Event { return &reducer.Event{OccurredAt: t, Kind: k} }
	for _, c := range []struct {
		a, b *reducer.Event
		want bool
	}{
		{ev(1, reducer.KindAction), ev(2, reducer.KindCart), true},
		{ev(2, reducer.KindCart), ev(1, reducer.KindAction), false},
		{ev(1, reducer.KindCart), ev(1, reducer.KindCustomer), true},
		{ev(1, reducer.KindCustomer), ev(1, reducer.KindAction), true},
		{ev(1, reducer.KindAction), ev(1, reducer.KindCart), false},
		{ev(1, reducer.KindCart), ev(1, reducer.KindCart), false},
	} {
		if got := reducer.Before(c.a, c.b); got != c.want {
			t.Errorf("Before(%d/%v, %d/%v) = %v", c.a.OccurredAt, c.a.Kind, c.b.OccurredAt, c.b.Kind, got)
		}
	}
}
