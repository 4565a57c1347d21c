package gen

import (
	"math"
	"reflect"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/sessiond/sessiond/reducer"
	"github.com/sessiond/sessiond/schemas/eventjson"
)

func TestDeterministic(t *testing.T) {
	t.Parallel()
	for _, tc := range testConfigs {
		t.Run(tc.name, func(t *testing.T) {
			a := newGen(t, tc.cfg).Take(20000)
			b := newGen(t, tc.cfg).Take(20000)
			if !reflect.DeepEqual(a, b) {
				t.Fatal("same config, different streams")
			}
			other := tc.cfg
			other.Seed++
			c := newGen(t, other).Take(20000)
			same := 0
			for i := range a {
				if a[i].EventID == c[i].EventID {
					same++
				}
			}
			if same > 0 || reflect.DeepEqual(stripIDs(a), stripIDs(c)) {
				t.Fatalf("seed %d and %d: %d equal ids, or equal streams", tc.cfg.Seed, other.Seed, same)
			}
		})
	}
}

// stripIDs returns copies of evs without event ids.
func stripIDs(evs []*reducer.Event) []reducer.Event {
	out := make([]reducer.Event, len(evs))
	for i, ev := range evs {
		out[i] = *ev
		out[i].EventID = ""
	}
	return out
}

func TestTakeIsNext(t *testing.T) {
	t.Parallel()
	a := newGen(t, Config{Seed: 5}).Take(1000)
	g := newGen(t, Config{Seed: 5})
	for i := range a {
		if ev := g.Next(); !reflect.DeepEqual(ev, a[i]) {
			t.Fatalf("event %d: Take %+v, Next %+v", i, a[i], ev)
		}
	}
}

func TestEveryEventValid(t *testing.T) {
	t.Parallel()
	cfgs := append(testConfigs[:len(testConfigs):len(testConfigs)],
		struct {
			name string
			cfg  Config
		}{"faults", Config{Seed: 11, DuplicateRate: 0.2, LateRate: 0.2}})
	for _, tc := range cfgs {
		t.Run(tc.name, func(t *testing.T) {
			for i, ev := range newGen(t, tc.cfg).Take(100000) {
				if err := reducer.Validate(ev); err != nil {
					t.Fatalf("event %d %+v: %v", i, ev, err)
				}
			}
		})
	}
}

func TestTimeNonDecreasing(t *testing.T) {
	t.Parallel()
	for _, tc := range testConfigs {
		t.Run(tc.name, func(t *testing.T) {
			cfg := tc.cfg.WithDefaults()
			evs := newGen(t, tc.cfg).Take(100000)
			if got, want := evs[0].OccurredAt, cfg.Start.UnixMilli(); got != want {
				t.Fatalf("first event at %d, want Start %d", got, want)
			}
			for i := 1; i < len(evs); i++ {
				if evs[i].OccurredAt < evs[i-1].OccurredAt {
					t.Fatalf("event %d at %d, before event %d at %d", i, evs[i].OccurredAt, i-1, evs[i-1].OccurredAt)
				}
			}
			span := time.Duration(evs[len(evs)-1].OccurredAt-evs[0].OccurredAt) * time.Millisecond
			want := time.Duration(len(evs)) * cfg.MeanGap
			if d := float64(span-want) / float64(want); math.Abs(d) > 0.02 {
				t.Fatalf("%d events span %s, want about %s", len(evs), span, want)
			}
		})
	}
}

func TestIDsUnique(t *testing.T) {
	t.Parallel()
	for _, tc := range testConfigs {
		t.Run(tc.name, func(t *testing.T) {
			seen := make(map[string]int, 100000)
			visitors := map[string]bool{}
			for i, ev := range newGen(t, tc.cfg).Take(100000) {
				if j, dup := seen[ev.EventID]; dup {
					t.Fatalf("events %d and %d share id %q", j, i, ev.EventID)
				}
				seen[ev.EventID] = i
				if len(ev.EventID) != 20 || !strings.HasPrefix(ev.EventID, "evt_") {
					t.Fatalf("event id %q", ev.EventID)
				}
				visitors[ev.VisitorID] = true
			}
			if want := tc.cfg.WithDefaults().Visitors; len(visitors) != want {
				t.Fatalf("%d distinct visitors, want %d", len(visitors), want)
			}
		})
	}
}

func TestVisitorIDs(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		n     int
		i     int
		want  string
		width int
	}{
		{1, 0, "v-000000", 8},
		{1000, 123, "v-000123", 8},
		{1000000, 999999, "v-999999", 8},
		{1000001, 1000000, "v-1000000", 9},
	} {
		ids := newVisitorIDs(tc.n)
		if got := ids.id(tc.i); got != tc.want || len(ids.all) != tc.n*tc.width {
			t.Errorf("newVisitorIDs(%d).id(%d) = %q (%d bytes in all), want %q", tc.n, tc.i, got, len(ids.all), tc.want)
		}
	}
}

func TestKindMix(t *testing.T) {
	t.Parallel()
	for _, tc := range testConfigs {
		t.Run(tc.name, func(t *testing.T) {
			const n = 100000
			got := kindCounts(newGen(t, tc.cfg).Take(n))
			for k, want := range [3]float64{0.30, 0.15, 0.55} {
				share := float64(got[k]) / n
				t.Logf("%s: %.2f%%", reducer.Kind(k), 100*share)
				if math.Abs(share-want) > 0.02 {
					t.Errorf("%s: %.2f%% of events, want %.0f%% ± 2", reducer.Kind(k), 100*share, 100*want)
				}
			}
		})
	}
}

func TestJSONRoundTrip(t *testing.T) {
	t.Parallel()
	var line []byte
	for i, ev := range newGen(t, Config{Seed: 13, DuplicateRate: 0.1, LateRate: 0.1}).Take(20000) {
		line = eventjson.AppendEvent(line[:0], ev)
		back, err := eventjson.DecodeEvent(line)
		if err != nil {
			t.Fatalf("event %d %s: %v", i, line, err)
		}
		if !reflect.DeepEqual(back, ev) {
			t.Fatalf("event %d: %s decodes to\n%+v, want\n%+v", i, line, back, ev)
		}
	}
}

// TestRealistic checks that the stream shows what a platform sends: every
// action type, every cart and customer state, and the data quirks.
func TestRealistic(t *testing.T) {
	t.Parallel()
	var (
		types                                             = map[reducer.ActionType]int{}
		cartNil, cartReset, cartReplace, restore          int
		custNil, custReset, custReplace, mpOmitted, mpYes int
		nonASCII, skus, noSkus, updateOnly, placements    int
		pageURL, categoryIDs                              int
		currencies                                        = map[string]int{}
		sizes                                             = map[int]int{}
		quantities                                        = map[int32]int{}
	)
	item := func(it reducer.Item) {
		if !isASCII(it.Name) {
			nonASCII++
		}
		if it.HasSku {
			skus++
		} else {
			noSkus++
		}
		currencies[it.PriceCurrencyCode]++
		quantities[it.Quantity]++
		if c := it.UnitPrice * 100; math.Abs(c-math.Round(c)) > 1e-6 {
			t.Fatalf("price %v has more than two decimals", it.UnitPrice)
		}
	}
	for _, ev := range newGen(t, Config{Seed: 1}).Take(100000) {
		switch ev.Kind {
		case reducer.KindCart:
			switch c := ev.Cart; {
			case c == nil:
				cartNil++
			case len(c.Items) == 0:
				cartReset++
			default:
				cartReplace++
				sizes[len(c.Items)]++
				for _, it := range c.Items {
					item(it)
				}
			}
			if ev.Cart != nil && ev.Cart.HasRestore {
				restore++
			}
		case reducer.KindCustomer:
			switch c := ev.Customer; {
			case c == nil:
				custNil++
			case c.IsReset():
				custReset++
			default:
				custReplace++
				if !c.Has(reducer.FieldMarketingPermission) {
					mpOmitted++
				} else if c.MarketingPermission {
					mpYes++
				}
				if !strings.HasSuffix(c.Email, "@example.com") && c.Has(reducer.FieldEmail) {
					t.Fatalf("email %q", c.Email)
				}
			}
		case reducer.KindAction:
			a := ev.Action
			types[a.Type]++
			if a.UpdateOnly != nil && *a.UpdateOnly {
				updateOnly++
			}
			if a.Placements != nil {
				placements++
			}
			if a.PageURL != nil {
				pageURL++
			}
			if a.CategoryIDs != nil {
				categoryIDs++
			}
		}
	}
	t.Logf("actions %v", types)
	t.Logf("carts: nil %d reset %d replace %d (restore %d), sizes %v, quantities %v, currencies %v, non-ASCII names %d, SKUs %d/%d",
		cartNil, cartReset, cartReplace, restore, sizes, quantities, currencies, nonASCII, skus, noSkus)
	t.Logf("customers: nil %d reset %d replace %d (marketing omitted %d, true %d)", custNil, custReset, custReplace, mpOmitted, mpYes)
	for at := reducer.ActionViewFrontPage; at <= reducer.ActionAddOrder; at++ {
		if types[at] == 0 {
			t.Errorf("no %s action", at)
		}
	}
	for name, n := range map[string]int{
		"cart nil": cartNil, "cart reset": cartReset, "cart replace": cartReplace, "restore_link": restore,
		"customer nil": custNil, "customer reset": custReset, "customer replace": custReplace,
		"marketing omitted": mpOmitted, "marketing true": mpYes, "non-ASCII name": nonASCII,
		"item with sku": skus, "item without sku": noSkus, "update_only true": updateOnly,
		"placements": placements, "page_url": pageURL, "category_ids": categoryIDs,
		"EUR": currencies["EUR"], "USD": currencies["USD"], "GBP": currencies["GBP"],
		"5 items": sizes[5], "quantity 3": quantities[3],
	} {
		if n == 0 {
			t.Errorf("no %s", name)
		}
	}
	if len(sizes) != 5 || len(quantities) != 3 || len(currencies) != 3 {
		t.Errorf("cart sizes %v, quantities %v, currencies %v", sizes, quantities, currencies)
	}
	if o := float64(types[reducer.ActionAddOrder]) / float64(types[reducer.ActionViewProduct]); o < 0.01 || o > 0.2 {
		t.Errorf("%.3f orders per product view", o)
	}
}

func isASCII(s string) bool { return utf8.RuneCountInString(s) == len(s) }

func TestCatalog(t *testing.T) {
	t.Parallel()
	ids := map[string]bool{}
	for _, p := range products {
		if ids[p.id] {
			t.Fatalf("product id %s twice", p.id)
		}
		ids[p.id] = true
		for _, x := range p.price {
			if x <= 0 {
				t.Fatalf("%s: price %v", p.name, p.price)
			}
		}
	}
	if len(products) < 100 {
		t.Fatalf("%d products", len(products))
	}
}
