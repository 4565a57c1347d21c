package reducer_test

import (
	"fmt"
	"math/rand/v2"
	"runtime"
	"strings"
	"sync"
	"testing"

	"github.com/sessiond/sessiond/reducer"
)

// The benchmark stream: benchEvents events over benchVisitors visitors,
// benchStepMs apart, so that one pass spans about 6.7h of event time (less
// than the default TTL: a visitor seen in consecutive passes keeps its
// snapshot).
const (
	benchVisitors = 100_000
	benchEvents   = 400_000
	benchStepMs   = 60
	benchSpan     = benchEvents * benchStepMs
)

type benchStream struct {
	events  []reducer.Event
	baseAt  []int64  // occurred_at of event i in pass 0
	baseIDs []string // event_id of event i in pass 0
}

var benchData = sync.OnceValue(genStream)

// genStream builds a deterministic stream: 30% cart_changed (1–5 items, some
// resets and some unchanged), 15% customer_changed (some resets), 55%
// actions of mixed types, with increasing occurred_at.
func genStream() *benchStream {
	rng := rand.New(rand.NewPCG(1, 2))
	g := newGen(rng)
	s := &benchStream{
		events:  make([]reducer.Event, benchEvents),
		baseAt:  make([]int64, benchEvents),
		baseIDs: make([]string, benchEvents),
	}
	for i := range s.events {
		ev := &s.events[i]
		ev.VisitorID = g.visitors[rng.IntN(benchVisitors)]
		ev.EventID = fmt.Sprintf("%016x", rng.Uint64())
		ev.OccurredAt = t0 + int64(i)*benchStepMs
		switch p := rng.IntN(100); {
		case p < 30:
			ev.Kind, ev.Cart = reducer.KindCart, g.cart()
		case p < 45:
			ev.Kind, ev.Customer = reducer.KindCustomer, g.customer()
		default:
			ev.Kind, ev.Action = reducer.KindAction, g.action()
		}
		if err := reducer.Validate(ev); err != nil {
			panic(err)
		}
		s.baseAt[i], s.baseIDs[i] = ev.OccurredAt, ev.EventID
	}
	return s
}

// prepare moves the stream to pass p: later event times and fresh action ids,
// so that a pass over a warm reducer is new traffic, not late duplicates.
func (s *benchStream) prepare(p int) {
	for i := range s.events {
		ev := &s.events[i]
		ev.OccurredAt = s.baseAt[i] + int64(p)*benchSpan
		switch {
		case p == 0 || ev.Kind != reducer.KindAction:
			ev.EventID = s.baseIDs[i]
		default:
			ev.EventID = s.baseIDs[i] + "." + fmt.Sprint(p)
		}
	}
}

type gen struct {
	rng        *rand.Rand
	visitors   []string
	productIDs []string
	names      []string
}

func newGen(rng *rand.Rand) *gen {
	g := &gen{rng: rng}
	for range benchVisitors {
		g.visitors = append(g.visitors, fmt.Sprintf("%012x%012x", rng.Uint64()>>16, rng.Uint64()>>16))
	}
	adjectives := []string{"Men's", "Women's", "Kids'", "Classic", "Organic", "Lightweight", "Waterproof"}
	nouns := []string{"Running Shirt", "Merino Socks", "Trail Shoes", "Rain Jacket", "Yoga Pants", "Wool Beanie"}
	for i := range 5000 {
		g.productIDs = append(g.productIDs, fmt.Sprintf("%d", 100000+rng.IntN(900000)*(1+i%3)))
		g.names = append(g.names, adjectives[rng.IntN(len(adjectives))]+" "+nouns[rng.IntN(len(nouns))])
	}
	return g
}

func (g *gen) item() reducer.Item {
	k := g.rng.IntN(len(g.productIDs))
	it := reducer.Item{
		ProductID: g.productIDs[k], Name: g.names[k],
		Quantity: int32(1 + g.rng.IntN(3)), UnitPrice: float64(100+g.rng.IntN(20000)) / 100, PriceCurrencyCode: "EUR",
	}
	if g.rng.IntN(2) == 0 {
		it.SkuID, it.HasSku = it.ProductID+"-"+fmt.Sprint(g.rng.IntN(9)), true
	}
	return it
}

func (g *gen) cart() *reducer.Cart {
	switch p := g.rng.IntN(100); {
	case p < 10:
		return &reducer.Cart{} // reset
	case p < 15:
		return nil // unchanged
	}
	c := &reducer.Cart{Items: make([]reducer.Item, 1+g.rng.IntN(5))}
	for i := range c.Items {
		c.Items[i] = g.item()
	}
	return c
}

func (g *gen) customer() *reducer.Customer {
	if g.rng.IntN(10) == 0 {
		return &reducer.Customer{} // reset
	}
	n := g.rng.IntN(1 << 16)
	c := &reducer.Customer{
		Present:           reducer.FieldEmail | reducer.FieldCustomerReference | reducer.FieldMarketingPermission,
		CustomerReference: fmt.Sprintf("cr-%06d", n), Email: fmt.Sprintf("shopper%d@example.com", n),
		MarketingPermission: n%2 == 0,
	}
	if n%3 != 0 {
		c.Present |= reducer.FieldFirstName | reducer.FieldLastName | reducer.FieldNewsletter
		c.FirstName, c.LastName, c.Newsletter = "Ada", "Lovelace", n%5 == 0
	}
	return c
}

func (g *gen) action() *reducer.Action {
	a := &reducer.Action{Placements: []string{"frontpage-nosto-1", "productpage-nosto-2"}}
	switch p := g.rng.IntN(100); {
	case p < 35:
		a.Type, a.ProductID = reducer.ActionViewProduct, &g.productIDs[g.rng.IntN(len(g.productIDs))]
	case p < 50:
		a.Type, a.Categories = reducer.ActionViewCategory, []string{"/Womens/Dresses"}
	case p < 60:
		a.Type = reducer.ActionViewFrontPage
	case p < 70:
		a.Type = reducer.ActionViewCart
	case p < 80:
		a.Type, a.SearchTerms = reducer.ActionViewSearch, []string{"red dress"}
	case p < 87:
		a.Type = reducer.ActionViewOther
	case p < 90:
		a.Type = reducer.ActionViewNotFound
	default:
		a.Type = reducer.ActionAddOrder
		a.Order = &reducer.Order{OrderNumber: fmt.Sprint(g.rng.IntN(1e9)), Items: []reducer.Item{g.item(), g.item()}}
	}
	return a
}

// BenchmarkReduce measures Reducer.Apply (validation included) over the
// stream, in a steady state (warm: every visitor already has a snapshot) and
// from cold (each pass over the stream starts from an empty reducer).
func BenchmarkReduce(b *testing.B) {
	s := benchData()
	b.Run("warm", func(b *testing.B) { benchReduce(b, s, true) })
	b.Run("cold", func(b *testing.B) { benchReduce(b, s, false) })
}

func benchReduce(b *testing.B, s *benchStream, warm bool) {
	r := newReducer(b, reducer.DefaultSessionTTL)
	pass := 0
	s.prepare(pass)
	if warm {
		applyAll(b, r, s.events)
		pass++
		s.prepare(pass)
	}
	var updates int
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		j := i % benchEvents
		if j == 0 && i > 0 {
			b.StopTimer()
			if warm {
				pass++
				s.prepare(pass)
			} else {
				r = newReducer(b, reducer.DefaultSessionTTL)
			}
			b.StartTimer()
		}
		res, err := r.Apply(&s.events[j])
		if err != nil {
			b.Fatal(err)
		}
		if res.Update != nil {
			updates++
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
	b.ReportMetric(float64(updates)/float64(b.N), "updates/event")
	b.StopTimer()
	s.prepare(0)
}

func applyAll(tb testing.TB, r *reducer.Reducer, events []reducer.Event) {
	tb.Helper()
	for i := range events {
		if _, err := r.Apply(&events[i]); err != nil {
			tb.Fatal(err)
		}
	}
}

// BenchmarkSnapshotHeap reports the live heap per visitor snapshot (map
// entry and visitor id included) for a 3-item cart, a full customer and a
// full duplicate memory, built from fresh strings as decoders build them.
func BenchmarkSnapshotHeap(b *testing.B) {
	const n = 10_000
	var bytes, objects float64
	for i := 0; i < b.N; i++ {
		bytes, objects = snapshotHeap(b, n)
	}
	b.ReportMetric(bytes, "bytes/snapshot")
	b.ReportMetric(objects, "objects/snapshot")
}

func snapshotHeap(tb testing.TB, n int) (bytesPer, objectsPer float64) {
	rng := rand.New(rand.NewPCG(3, 4))
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	r := newReducer(tb, reducer.DefaultSessionTTL)
	for v := range n {
		buildSnapshot(tb, r, rng, v)
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	if r.Len() != n {
		tb.Fatalf("Len = %d, want %d", r.Len(), n)
	}
	runtime.KeepAlive(r)
	return float64(after.HeapAlloc-before.HeapAlloc) / float64(n),
		float64((after.Mallocs-after.Frees)-(before.Mallocs-before.Frees)) / float64(n)
}

// fresh returns a newly allocated copy of s, as a decoder's string(b) would.
func fresh(s string) string { return strings.Clone(s) }

func buildSnapshot(tb testing.TB, r *reducer.Reducer, rng *rand.Rand, v int) {
	vid := fmt.Sprintf("%024x", rng.Uint64()) // 24 chars, like a Nosto session id
	names := []string{"Men's Running Shirt Blue", "Women's Merino Socks 3-pack", "Waterproof Trail Shoes Grey"}
	items := make([]reducer.Item, 3)
	for i := range items {
		pid := fmt.Sprintf("%d", 1000000+rng.IntN(9000000)) // 7 chars
		items[i] = reducer.Item{
			ProductID: pid, SkuID: fmt.Sprintf("%s-%02d", pid, rng.IntN(100)), HasSku: true,
			Name: fresh(names[i]), Quantity: 1, UnitPrice: 49.95, PriceCurrencyCode: fresh("EUR"),
		}
	}
	t := t0 + int64(v)
	applyAll(tb, r, []reducer.Event{
		{Kind: reducer.KindCart, VisitorID: vid, EventID: fmt.Sprintf("c-%d", v), OccurredAt: t, Cart: &reducer.Cart{Items: items}},
		{Kind: reducer.KindCustomer, VisitorID: fresh(vid), EventID: fmt.Sprintf("u-%d", v), OccurredAt: t, Customer: &reducer.Customer{
			Present: reducer.FieldCustomerReference | reducer.FieldEmail | reducer.FieldFirstName |
				reducer.FieldLastName | reducer.FieldNewsletter | reducer.FieldMarketingPermission,
			CustomerReference: fmt.Sprintf("%08x", rng.Uint32()), Email: fmt.Sprintf("shopper.%d@example.com", v),
			FirstName: fresh("Margaret"), LastName: fresh("Hamilton"), Newsletter: true, MarketingPermission: true,
		}},
	})
	for a := range reducer.RecentActions {
		ev := reducer.Event{
			Kind: reducer.KindAction, VisitorID: fresh(vid), EventID: fmt.Sprintf("%s-%d", vid, a), OccurredAt: t,
			Action: &reducer.Action{Type: reducer.ActionViewFrontPage},
		}
		applyAll(tb, r, []reducer.Event{ev})
	}
}

// BenchmarkValidate measures Validate on one valid event of each shape, hot
// in cache. A valid event should not need to allocate.
func BenchmarkValidate(b *testing.B) {
	g := newGen(rand.New(rand.NewPCG(5, 6)))
	cart3 := cartEv("c1", at(0), &reducer.Cart{Items: []reducer.Item{g.item(), g.item(), g.item()}})
	for _, bc := range []struct {
		name string
		ev   *reducer.Event
	}{
		{"cart3", cart3},
		{"customer", validCustomer()},
		{"view_product", validProduct()},
		{"view_category", validCategory()},
		{"add_order", validOrder()},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				if err := reducer.Validate(bc.ev); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
