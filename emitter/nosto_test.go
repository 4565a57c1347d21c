package emitter

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sessiond/sessiond/reducer"
)

const testToken = "tok-3f9a-SECRET"

func str(s string) *string { return &s }

func action(typ reducer.ActionType) *reducer.Action { return &reducer.Action{Type: typ} }

func update(id, visitor string, a *reducer.Action, cart *reducer.Cart, c *reducer.Customer) *reducer.Update {
	return &reducer.Update{UpdateID: id, VisitorID: visitor, OccurredAt: 1, Action: a, Cart: cart, Customer: c}
}

var (
	shirt     = reducer.Item{ProductID: "p1", SkuID: "s1", HasSku: true, Name: "Shirt", PriceCurrencyCode: "EUR", UnitPrice: 12.5, Quantity: 2}
	fullCart  = &reducer.Cart{Items: []reducer.Item{shirt}}
	resetCart = &reducer.Cart{Items: []reducer.Item{}}
	fullCust  = &reducer.Customer{Present: reducer.FieldCustomerReference | reducer.FieldEmail | reducer.FieldFirstName |
		reducer.FieldLastName | reducer.FieldNewsletter, CustomerReference: "ref-1", Email: "a@example.com", FirstName: "Ann", LastName: "Lee", Newsletter: true}
	resetCust = &reducer.Customer{}
)

// deadLetters records what the sink dead-letters.
type deadLetters struct {
	mu  sync.Mutex
	got map[string]NostoFailure
}

func (d *deadLetters) write(_ context.Context, u *reducer.Update, f NostoFailure) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.got == nil {
		d.got = map[string]NostoFailure{}
	}
	d.got[u.UpdateID] = f
	return nil
}

func newTestNostoSink(t *testing.T, f *fakeNosto, edit func(*NostoConfig)) (*NostoSink, *deadLetters, *bytes.Buffer) {
	t.Helper()
	dl := &deadLetters{}
	var logs bytes.Buffer
	cfg := DefaultNostoConfig()
	cfg.Endpoint, cfg.Token, cfg.DeadLetter = f.url(), testToken, dl.write
	cfg.Logger = slog.New(slog.NewJSONHandler(&syncWriter{w: &logs}, nil))
	cfg.MaxRetry = time.Minute
	if edit != nil {
		edit(&cfg)
	}
	s, err := NewNostoSink(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return s, dl, &logs
}

type syncWriter struct {
	mu sync.Mutex
	w  *bytes.Buffer
}

func (s *syncWriter) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.w.Write(p)
}

// Every action type and the cart and customer states map as
// nosto-graphql.md says, and every request validates against the schema.
func TestNostoMapping(t *testing.T) {
	t.Parallel()
	order := &reducer.Action{Type: reducer.ActionAddOrder, Order: &reducer.Order{OrderNumber: "o-1", Items: []reducer.Item{shirt},
		PaymentProvider: str("card"), OrderStatus: str("paid"), ExternalOrderRef: str("x-9")}}
	yes := true
	tests := []struct {
		name string
		u    *reducer.Update
		op   string
		want map[string]any // dotted path → value; nil value: absent
	}{
		{"view product", update("e1", "v1", &reducer.Action{Type: reducer.ActionViewProduct, ProductID: str("p1")}, fullCart, fullCust), "updateSession",
			map[string]any{"by": "BY_CID", "id": "v1", "params.event.type": "VIEWED_PRODUCT", "params.event.target": "p1",
				"params.customer.email": "a@example.com", "params.customer.marketingPermission": false, "params.customer.newsletter": nil}},
		{"view category", update("e2", "v1", &reducer.Action{Type: reducer.ActionViewCategory, Categories: []string{"/Women/Dresses", "/Sale"}}, nil, nil), "updateSession",
			map[string]any{"params.event.type": "VIEWED_CATEGORY", "params.event.target": "/Women/Dresses", "params.cart": nil, "params.customer": nil}},
		{"view search", update("e3", "v1", &reducer.Action{Type: reducer.ActionViewSearch, SearchTerms: []string{"red", "shoes"}}, nil, nil), "updateSession",
			map[string]any{"params.event.type": "SEARCHED_FOR", "params.event.target": "red shoes"}},
		{"view front page", update("e4", "v1", &reducer.Action{Type: reducer.ActionViewFrontPage, PageURL: str("https://shop/")}, nil, nil), "updateSession",
			map[string]any{"params.event.type": "VIEWED_PAGE", "params.event.target": "https://shop/"}},
		{"view cart", update("e5", "v1", action(reducer.ActionViewCart), resetCart, resetCust), "updateSession",
			map[string]any{"params.event.type": "VIEWED_PAGE", "params.cart.items": []any{}, "params.customer": map[string]any{}}},
		{"view not found", update("e6", "v1", action(reducer.ActionViewNotFound), nil, nil), "updateSession",
			map[string]any{"params.event.type": "VIEWED_PAGE"}},
		{"view other, update only", update("e7", "v1", &reducer.Action{Type: reducer.ActionViewOther, UpdateOnly: &yes}, nil, nil), "updateSession",
			map[string]any{"params.event.type": "VIEWED_PAGE", "params.skipEvents": true}},
		{"add order", update("e8", "v1", order, fullCart, fullCust), "placeOrder",
			map[string]any{"params.order.number": "o-1", "params.order.paymentProvider": "card", "params.order.orderStatus": "paid",
				"params.order.ref": "x-9", "params.customer.customerReference": "ref-1", "params.cart": nil}},
	}
	f := newFakeNosto(t, testToken)
	s, dl, _ := newTestNostoSink(t, f, nil)
	for _, tt := range tests {
		if err := s.Write(context.Background(), []*reducer.Update{tt.u}); err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
	}
	got := f.got()
	if len(got) != len(tests) || len(dl.got) != 0 {
		t.Fatalf("%d requests accepted, %d dead-lettered; want %d and 0", len(got), len(dl.got), len(tests))
	}
	for i, tt := range tests {
		r := got[i]
		if r.Operation != tt.op {
			t.Errorf("%s: operation %s, want %s", tt.name, r.Operation, tt.op)
		}
		for path, want := range tt.want {
			if v := param(r, path); !reflect.DeepEqual(v, want) {
				t.Errorf("%s: %s = %#v, want %#v", tt.name, path, v, want)
			}
		}
	}
	items := param(got[0], "params.cart.items").([]any)
	item := items[0].(map[string]any)
	if item["productId"] != "p1" || item["skuId"] != "s1" || item["unitPrice"] != 12.5 || item["quantity"] != 2.0 || item["priceCurrencyCode"] != "EUR" {
		t.Errorf("cart item %v", item)
	}
	h := f.headers[0]
	if !strings.HasPrefix(h.Get("User-Agent"), "sessiond/") || h.Get("X-Nosto-Ignore") != "" || h.Get("Content-Type") != "application/json" || h.Get("Idempotency-Key") != "e1" {
		t.Errorf("headers %v", h)
	}
}

// With --nosto-lookup ref, the reference is the id; an update without one
// is dead-lettered with that reason; with the HMAC key, the hash is sent.
func TestNostoLookupByReference(t *testing.T) {
	t.Parallel()
	f := newFakeNosto(t, testToken)
	s, dl, _ := newTestNostoSink(t, f, func(c *NostoConfig) { c.Lookup, c.TestTraffic = LookupRef, true })
	hashed := HashReferences(s, []byte("k"))
	err := hashed.Write(context.Background(), []*reducer.Update{
		update("with", "v1", action(reducer.ActionViewCart), nil, fullCust),
		update("without", "v2", action(reducer.ActionViewCart), nil, nil),
	})
	if err != nil {
		t.Fatal(err)
	}
	got := f.got()
	want := HashReference([]byte("k"), "ref-1")
	if len(got) != 1 || param(got[0], "by") != "BY_REF" || param(got[0], "id") != want || param(got[0], "params.customer.customerReference") != want {
		t.Errorf("accepted %v, want one BY_REF request with the hashed reference %s", got, want)
	}
	if f.headers[0].Get("X-Nosto-Ignore") != "True" {
		t.Error("--nosto-test-traffic did not send X-Nosto-Ignore: True")
	}
	if dl.got["without"].Reason != "reference" || len(dl.got) != 1 {
		t.Errorf("dead letters %v, want only 'without', for its missing reference", dl.got)
	}
	if fullCust.CustomerReference != "ref-1" {
		t.Error("the hasher changed the caller's update")
	}
}

// A storm of 429s, 503s and time-outs delays but loses nothing, keeps each
// visitor's order, and stays within the concurrency bound; a GraphQL error
// dead-letters exactly its update; the token never reaches the logs.
func TestNostoStorm(t *testing.T) {
	t.Parallel()
	f := newFakeNosto(t, testToken)
	f.fail = func(r fakeRequest, attempt int) (int, string, string) {
		id := fmt.Sprint(param(r, "params.event.target"))
		switch {
		case id == "poison":
			return http.StatusOK, "Invalid product", ""
		case attempt == 0 && len(id)%3 == 0:
			return http.StatusTooManyRequests, "", "0"
		case attempt == 0 && len(id)%3 == 1:
			return http.StatusServiceUnavailable, "", ""
		case attempt < 2 && len(id)%5 == 0:
			time.Sleep(300 * time.Millisecond) // beyond the 100 ms time-out below
		}
		return 0, "", ""
	}
	s, dl, logs := newTestNostoSink(t, f, func(c *NostoConfig) { c.Concurrency, c.Timeout = 8, 100*time.Millisecond })
	var updates []*reducer.Update
	for i := range 300 {
		target := fmt.Sprintf("p%d", i)
		if i == 150 {
			target = "poison"
		}
		updates = append(updates, update(fmt.Sprintf("u%d", i), fmt.Sprintf("v%d", i%20),
			&reducer.Action{Type: reducer.ActionViewProduct, ProductID: str(target)}, nil, nil))
	}
	if err := s.Write(context.Background(), updates); err != nil {
		t.Fatal(err)
	}
	got := f.got()
	if len(got) != 299 || len(dl.got) != 1 || dl.got["u150"].Reason != "graphql" || dl.got["u150"].RequestID == "" {
		t.Fatalf("%d accepted, dead letters %v; want 299 and u150 for its GraphQL error, with Nosto's request id", len(got), dl.got)
	}
	// Per visitor, the accepted order is the order given.
	last := map[string]int{}
	for _, r := range got {
		var n int
		fmt.Sscanf(fmt.Sprint(param(r, "params.event.target")), "p%d", &n)
		v := fmt.Sprint(param(r, "id"))
		if prev, ok := last[v]; ok && n < prev {
			t.Fatalf("visitor %s: p%d accepted after p%d", v, n, prev)
		}
		last[v] = n
	}
	if m := f.maxInFlight.Load(); m > 8 {
		t.Errorf("%d requests in flight at once, want at most 8", m)
	}
	if strings.Contains(logs.String(), testToken) || strings.Contains(logs.String(), "a@example.com") {
		t.Error("the token or an e-mail reached the logs")
	}
	if !strings.Contains(logs.String(), "retrying") {
		t.Error("no retry was logged: the storm did not happen")
	}
}

// An update that keeps failing is dead-lettered after --nosto-max-retry,
// with the status; 4xx other than 408 and 429 are permanent at once.
func TestNostoGivesUp(t *testing.T) {
	t.Parallel()
	f := newFakeNosto(t, testToken)
	f.fail = func(r fakeRequest, _ int) (int, string, string) {
		if param(r, "id") == "v-400" {
			return http.StatusBadRequest, "", ""
		}
		return http.StatusBadGateway, "", ""
	}
	s, dl, _ := newTestNostoSink(t, f, func(c *NostoConfig) { c.MaxRetry = 300 * time.Millisecond })
	err := s.Write(context.Background(), []*reducer.Update{
		update("a", "v-502", action(reducer.ActionViewCart), nil, nil),
		update("b", "v-400", action(reducer.ActionViewCart), nil, nil),
	})
	if err != nil {
		t.Fatal(err)
	}
	if f := dl.got["a"]; f.Reason != "retries" || f.Status != http.StatusBadGateway {
		t.Errorf("a: %+v, want retries exhausted with 502", f)
	}
	if f := dl.got["b"]; f.Reason != "http" || f.Status != http.StatusBadRequest {
		t.Errorf("b: %+v, want a permanent 400", f)
	}
}

// --nosto-rps spaces the requests. The gap between two arrivals at the server
// is not a bound (network jitter can shrink it), but the span from the start
// of Write to the last arrival is: the limiter cannot release the eighth
// request before seven intervals have passed, however slow or fast the
// machine, so the test asserts that lower bound and nothing timed above it.
func TestNostoRateLimit(t *testing.T) {
	t.Parallel()
	f := newFakeNosto(t, testToken)
	var mu sync.Mutex
	var last time.Time
	f.fail = func(fakeRequest, int) (int, string, string) {
		mu.Lock()
		last = time.Now()
		mu.Unlock()
		return 0, "", ""
	}
	const rps, n = 20, 8
	s, _, _ := newTestNostoSink(t, f, func(c *NostoConfig) { c.RPS = rps })
	var updates []*reducer.Update
	for i := range n {
		updates = append(updates, update(fmt.Sprint(i), fmt.Sprint("v", i), action(reducer.ActionViewCart), nil, nil))
	}
	start := time.Now()
	if err := s.Write(context.Background(), updates); err != nil {
		t.Fatal(err)
	}
	if got := len(f.got()); got != n {
		t.Fatalf("%d requests, want %d", got, n)
	}
	want := time.Duration(n-1) * time.Second / rps
	if span := last.Sub(start); span < want-5*time.Millisecond {
		t.Errorf("%d requests within %v of the start, want at least %v at %d rps", n, span, want, rps)
	}
}

func TestNostoConfigValidate(t *testing.T) {
	t.Parallel()
	for name, edit := range map[string]func(*NostoConfig){
		"no endpoint":    func(c *NostoConfig) { c.Endpoint = "" },
		"not a URL":      func(c *NostoConfig) { c.Endpoint = "api.nosto.com" },
		"no token":       func(c *NostoConfig) { c.Token = "" },
		"bad lookup":     func(c *NostoConfig) { c.Lookup = "email" },
		"no concurrency": func(c *NostoConfig) { c.Concurrency = 0 },
		"negative rps":   func(c *NostoConfig) { c.RPS = -1 },
	} {
		c := DefaultNostoConfig()
		c.Endpoint, c.Token = "https://api.nosto.com/v1/graphql", "t"
		c.DeadLetter = func(context.Context, *reducer.Update, NostoFailure) error { return nil }
		edit(&c)
		if err := c.Validate(); err == nil {
			t.Errorf("%s: accepted", name)
		} else if strings.Contains(err.Error(), "t\"") {
			t.Errorf("%s: the error quotes the token: %v", name, err)
		}
	}
}

// A refused connection is not logged as Nosto refusing the update.
func TestNostoTransportErrorNotCalledARefusal(t *testing.T) {
	t.Parallel()
	f := newFakeNosto(t, testToken)
	s, dl, logs := newTestNostoSink(t, f, func(c *NostoConfig) {
		c.MaxRetry = 200 * time.Millisecond
		c.Endpoint = "http://127.0.0.1:1/graphql" // nothing listens: connection refused
	})
	if err := s.Write(context.Background(), []*reducer.Update{update("a", "v1", action(reducer.ActionViewCart), nil, nil)}); err != nil {
		t.Fatal(err)
	}
	if got := dl.got["a"]; got.Reason != "retries" || got.Status != 0 {
		t.Fatalf("dead letter %+v, want retries exhausted without a status", got)
	}
	if out := logs.String(); strings.Contains(out, "nosto refused") || !strings.Contains(out, "transport error") {
		t.Fatalf("log %s: want a transport error, not a refusal", out)
	}
}
