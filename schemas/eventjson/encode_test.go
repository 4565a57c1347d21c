package eventjson

import (
	"encoding/json"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/sessiond/sessiond/reducer"
)

// TestDesignExample runs docs/design.md §4's example through the decoder, the
// reducer and the encoder and checks the update byte for byte.
func TestDesignExample(t *testing.T) {
	t.Parallel()
	r, err := reducer.New(reducer.DefaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	var out []byte
	for _, line := range []string{designCart, designCustomer, designAction} {
		ev, err := DecodeEvent([]byte(line))
		if err != nil {
			t.Fatalf("%s: %v", line, err)
		}
		res, err := r.Apply(ev)
		if err != nil {
			t.Fatalf("%s: %v", line, err)
		}
		if res.Update != nil {
			out = append(AppendUpdate(out, res.Update), '\n')
		}
	}
	if want := designUpdate + "\n"; string(out) != want {
		t.Errorf("got\n%s\nwant\n%s", out, want)
	}
}

// updates returns updates that between them use every part of the format.
func updates() []*reducer.Update {
	full := &reducer.Action{
		Type: reducer.ActionAddOrder, ProductID: ptr("p<1>"), SkuID: ptr("s&1"),
		Categories: []string{"/Womens/Dresses"}, CategoryIDs: []string{}, SearchTerms: []string{"a", "b"},
		Order: &reducer.Order{OrderNumber: "o1", Items: []reducer.Item{shirt(), {ProductID: "x", Name: "Ünïcødé ✓ 😀", Quantity: 1, UnitPrice: 999, PriceCurrencyCode: "JPY"}},
			ExternalOrderRef: ptr("ext"), PaymentProvider: ptr("klarna"), OrderStatus: ptr("paid")},
		Placements: []string{"a\u2028b"}, PageURL: ptr("https://shop.example/?a=1&b=<2>"), UpdateOnly: ptr(true),
	}
	cart := &reducer.Cart{Items: []reducer.Item{shirt(), {ProductID: "34552", SkuID: "39912", HasSku: true, Name: "Men's Training Shoe", Quantity: 1, UnitPrice: 999.00, PriceCurrencyCode: "EUR"}},
		RestoreLink: "https://shop.example/cart?restore=\"x\"\n", HasRestore: true}
	return []*reducer.Update{
		{UpdateID: "e1", VisitorID: "v1", OccurredAt: t0, Action: &reducer.Action{Type: reducer.ActionViewCart}},
		{UpdateID: "e2", VisitorID: "v1", OccurredAt: t0 + 1, Action: full, Cart: cart, Customer: &reducer.Customer{}},
		{UpdateID: "e3", VisitorID: "v\x01\x1f\b\f\t", OccurredAt: -1, Action: &reducer.Action{Type: reducer.ActionViewOther, UpdateOnly: ptr(false)},
			Cart: &reducer.Cart{Items: []reducer.Item{}}, Customer: &reducer.Customer{Present: reducer.FieldMarketingPermission, MarketingPermission: true}},
		{UpdateID: "e4", VisitorID: "v1", OccurredAt: 253402300799999, Action: &reducer.Action{Type: reducer.ActionViewFrontPage},
			Customer: &reducer.Customer{Present: 63 &^ reducer.FieldMarketingPermission, CustomerReference: "r", Email: "devnull@nosto.com", FirstName: "Nosto", LastName: "Test", Newsletter: false, MarketingPermission: true}},
	}
}

// TestAppendUpdateMatchesEncodingJSON checks AppendUpdate against
// encoding/json with HTML escaping off, as the reference for escapes,
// numbers and omissions.
func TestAppendUpdateMatchesEncodingJSON(t *testing.T) {
	t.Parallel()
	for _, u := range updates() {
		want, err := referenceUpdate(u)
		if err != nil {
			t.Fatal(err)
		}
		if got := AppendUpdate(nil, u); string(got) != string(want) {
			t.Errorf("got  %s\nwant %s", got, want)
		}
	}
}

func TestAppendUpdateExact(t *testing.T) {
	t.Parallel()
	u := updates()[2]
	const want = `{"update_id":"e3","visitor_id":"v\u0001\u001f\b\f\t","occurred_at":"1969-12-31T23:59:59.999Z","action":{"type":"view_other","update_only":false},"cart":{"items":[]},"customer":{"marketing_permission":true}}`
	if got := AppendUpdate(nil, u); string(got) != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
	u = updates()[0]
	const want0 = `{"update_id":"e1","visitor_id":"v1","occurred_at":"2026-11-27T10:00:00.000Z","action":{"type":"view_cart"},"cart":null,"customer":null}`
	if got := AppendUpdate([]byte("x"), u); string(got) != "x"+want0 {
		t.Errorf("got  %s\nwant x%s", got, want0)
	}
}

func TestAppendFloat(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		f    float64
		want string
	}{
		{123.45, "123.45"}, {999.0, "999"}, {0, "0"}, {math.Copysign(0, -1), "-0"},
		{1e20, "100000000000000000000"}, {1e21, "1e+21"}, {1e-6, "0.000001"}, {1e-7, "1e-7"},
		{5e-324, "5e-324"}, {math.MaxFloat64, "1.7976931348623157e+308"}, {-2.5, "-2.5"}, {12345678.9, "12345678.9"},
		{math.NaN(), "null"}, {math.Inf(1), "null"},
	} {
		if got := string(appendFloat(nil, tc.f)); got != tc.want {
			t.Errorf("appendFloat(%v) = %s, want %s", tc.f, got, tc.want)
		}
	}
	if a, b := 0.1, 0.2; string(appendFloat(nil, a+b)) != "0.30000000000000004" {
		t.Errorf("appendFloat(0.1+0.2) = %s", appendFloat(nil, a+b))
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for range 100000 {
		f := math.Float64frombits(rng.Uint64())
		if math.IsNaN(f) || math.IsInf(f, 0) {
			continue
		}
		want, _ := json.Marshal(f)
		if got := appendFloat(nil, f); string(got) != string(want) {
			t.Fatalf("appendFloat(%v) = %s, encoding/json writes %s", f, got, want)
		}
	}
}

func TestAppendTime(t *testing.T) {
	t.Parallel()
	check := func(ms int64) {
		t.Helper()
		want := `"` + time.UnixMilli(ms).UTC().Format(timeLayout) + `"`
		if got := string(appendTime(nil, ms)); got != want {
			t.Fatalf("appendTime(%d) = %s, want %s", ms, got, want)
		}
	}
	for _, ms := range []int64{0, -1, 1, t0, t0 + 999, 951782400000 /* 2000-02-29 */, -62135596800000 /* year 1 */, -62167219200000, /* year 0 */
		253402300799999 /* 9999-12-31T23:59:59.999 */, 253402300800000, -62167219200001, math.MaxInt64 / 1000, math.MinInt64 / 1000} {
		check(ms)
	}
	rng := rand.New(rand.NewPCG(3, 4))
	for range 100000 {
		check(rng.Int64N(253402300800000+62167219200000) - 62167219200000)
	}
}

func TestAppendString(t *testing.T) {
	t.Parallel()
	for _, s := range []string{"", "plain", `"\`, "<>&", "é✓😀", "\x00\x1f\x7f", "\u2028\u2029", "bad \xff utf8 \xc3", strings.Repeat("x", 100)} {
		want, _ := jsonString(s)
		if got := string(AppendString(nil, s)); got != want {
			t.Errorf("AppendString(%q) = %s, want %s", s, got, want)
		}
	}
}

// jsonString encodes s as encoding/json does with HTML escaping off.
func jsonString(s string) (string, error) {
	var b strings.Builder
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	err := enc.Encode(s)
	return strings.TrimSuffix(b.String(), "\n"), err
}

func TestAppendEventKeyOrder(t *testing.T) {
	t.Parallel()
	ev := event(reducer.KindCustomer)
	ev.Customer = &reducer.Customer{Present: reducer.FieldEmail | reducer.FieldNewsletter, Email: "a@b.c"}
	const want = `{"type":"customer_changed","visitor_id":"v1","event_id":"e1","occurred_at":"2026-11-27T10:00:00.000Z","customer":{"email":"a@b.c","newsletter":false}}`
	if got := AppendEvent(nil, &ev); string(got) != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
}

func TestRoundTrip(t *testing.T) {
	t.Parallel()
	us := updates()
	events := []reducer.Event{
		{Kind: reducer.KindAction, VisitorID: "v1", EventID: "e1", OccurredAt: t0, Action: us[0].Action},
		{Kind: reducer.KindAction, VisitorID: "Jörg ✓", EventID: "e2", OccurredAt: t0 + 1, Action: us[1].Action},
		{Kind: reducer.KindAction, VisitorID: "v", EventID: "e3", OccurredAt: 253402300799999, Action: us[2].Action},
		{Kind: reducer.KindCart, VisitorID: "v", EventID: "c", OccurredAt: 1, Cart: us[1].Cart},
		{Kind: reducer.KindCart, VisitorID: "v", EventID: "c", OccurredAt: 1},
		{Kind: reducer.KindCart, VisitorID: "v", EventID: "c", OccurredAt: 1, Cart: &reducer.Cart{Items: []reducer.Item{}}},
		{Kind: reducer.KindCustomer, VisitorID: "v", EventID: "c", OccurredAt: 1},
		{Kind: reducer.KindCustomer, VisitorID: "v", EventID: "c", OccurredAt: 1, Customer: &reducer.Customer{}},
		{Kind: reducer.KindCustomer, VisitorID: "v", EventID: "c", OccurredAt: 1, Customer: us[2].Customer},
		{Kind: reducer.KindCustomer, VisitorID: "v", EventID: "c", OccurredAt: 1, Customer: &reducer.Customer{Present: 63, FirstName: "Zoë", LastName: "O'Brien-Ñúñez", Email: "zoë@example.com", Newsletter: true}},
	}
	for i := range events {
		ev := &events[i]
		line := AppendEvent(nil, ev)
		got, err := DecodeEvent(line)
		if err != nil {
			t.Errorf("%s: %v", line, err)
			continue
		}
		if again := AppendEvent(nil, got); string(again) != string(line) {
			t.Errorf("not stable:\n%s\n%s", line, again)
		}
		if !eventsEqual(got, ev) {
			t.Errorf("round trip changed the event:\n%s\n%+v", line, got)
		}
	}
}
