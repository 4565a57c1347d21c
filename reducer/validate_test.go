package reducer_test

import (
	"errors"
	"math"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/sessiond/sessiond/reducer"
)

// Valid events of each kind, fresh on every call so that cases can modify them.

func validCart() *reducer.Event {
	return cartEv("c1", at(0), &reducer.Cart{
		Items: []reducer.Item{
			{ProductID: "181503", SkuID: "181505", HasSku: true, Name: "Men's Running Shirt", Quantity: 2, UnitPrice: 123.45, PriceCurrencyCode: "EUR"},
			{ProductID: "9", Quantity: 1, UnitPrice: 0, PriceCurrencyCode: "USD"},
		},
		RestoreLink: "https://shop.example/cart/restore/abc", HasRestore: true,
	})
}

func validCustomer() *reducer.Event {
	return custEv("u1", at(0), &reducer.Customer{
		Present: reducer.FieldCustomerReference | reducer.FieldEmail | reducer.FieldFirstName |
			reducer.FieldLastName | reducer.FieldNewsletter | reducer.FieldMarketingPermission,
		CustomerReference: "b369f1", Email: "devnull@nosto.com", FirstName: "Ada", LastName: "Lovelace",
		Newsletter: true,
	})
}

func validAction(a reducer.Action) *reducer.Event {
	ev := act("a1", at(0))
	ev.Action = &a
	return ev
}

func validOrder() *reducer.Event {
	return validAction(reducer.Action{Type: reducer.ActionAddOrder, Order: &reducer.Order{
		OrderNumber:      "o-1001",
		Items:            []reducer.Item{item("181503", 1)},
		ExternalOrderRef: strp("ext-1"), PaymentProvider: strp("klarna"), OrderStatus: strp("paid"),
	}})
}

func validProduct() *reducer.Event {
	return validAction(reducer.Action{
		Type: reducer.ActionViewProduct, ProductID: strp("181503"), SkuID: strp("181505"),
		Placements: []string{"frontpage-nosto-1"}, PageURL: strp("https://shop.example/p/181503"), UpdateOnly: boolp(true),
	})
}

func validCategory() *reducer.Event {
	return validAction(reducer.Action{Type: reducer.ActionViewCategory, Categories: []string{"/Womens/Dresses"}, CategoryIDs: []string{"123"}})
}

func validSearch() *reducer.Event {
	return validAction(reducer.Action{Type: reducer.ActionViewSearch, SearchTerms: []string{"red dress"}})
}

// with returns ev after applying f to it.
func with(ev *reducer.Event, f func(*reducer.Event)) *reducer.Event {
	f(ev)
	return ev
}

func TestValidateAccepts(t *testing.T) {
	t.Parallel()
	tests := map[string]*reducer.Event{
		"cart":                validCart(),
		"cart unchanged":      cartEv("c1", at(0), nil),
		"cart reset":          cartEv("c1", at(0), cart()),
		"cart reset empty":    cartEv("c1", at(0), &reducer.Cart{Items: []reducer.Item{}}),
		"customer":            validCustomer(),
		"customer unchanged":  custEv("u1", at(0), nil),
		"customer reset":      custEv("u1", at(0), customer()),
		"view_front_page":     validAction(reducer.Action{Type: reducer.ActionViewFrontPage}),
		"view_cart":           validAction(reducer.Action{Type: reducer.ActionViewCart}),
		"view_not_found":      validAction(reducer.Action{Type: reducer.ActionViewNotFound}),
		"view_other":          validAction(reducer.Action{Type: reducer.ActionViewOther}),
		"view_product":        validProduct(),
		"view_product no sku": validAction(reducer.Action{Type: reducer.ActionViewProduct, ProductID: strp("1")}),
		"view_category":       validCategory(),
		"view_search":         validSearch(),
		"add_order":           validOrder(),
		"add_order minimal":   validAction(reducer.Action{Type: reducer.ActionAddOrder, Order: &reducer.Order{OrderNumber: "1", Items: []reducer.Item{item("A", 1)}}}),
		"price zero":          with(validCart(), func(e *reducer.Event) { e.Cart.Items[0].UnitPrice = 0 }),
		"max quantity":        with(validCart(), func(e *reducer.Event) { e.Cart.Items[0].Quantity = math.MaxInt32 }),
		"unicode strings": with(validCart(), func(e *reducer.Event) {
			e.VisitorID, e.Cart.Items[0].Name = "visiteur-é", "Chemise de course pour hommes – 日本"
		}),
		"zero occurred_at": with(validCart(), func(e *reducer.Event) { e.OccurredAt = 0 }),
	}
	for name, ev := range tests {
		t.Run(name, func(t *testing.T) {
			if err := reducer.Validate(ev); err != nil {
				t.Errorf("Validate = %v, want nil", err)
			}
			if _, err := newReducer(t, reducer.DefaultSessionTTL).Apply(ev); err != nil {
				t.Errorf("Apply = %v, want nil", err)
			}
		})
	}
}

func TestValidateRejects(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		ev    *reducer.Event
		field string // the FieldError.Field expected
	}{
		{"empty visitor_id", with(validCart(), func(e *reducer.Event) { e.VisitorID = "" }), "visitor_id"},
		{"empty event_id", with(validCart(), func(e *reducer.Event) { e.EventID = "" }), "event_id"},
		{"empty event_id on action", with(act("", at(0)), func(*reducer.Event) {}), "event_id"},
		{"unknown kind", with(validCart(), func(e *reducer.Event) { e.Kind = 7 }), "type"},

		{"quantity 0", with(validCart(), func(e *reducer.Event) { e.Cart.Items[0].Quantity = 0 }), "cart.items[0].quantity"},
		{"quantity negative", with(validCart(), func(e *reducer.Event) { e.Cart.Items[1].Quantity = -3 }), "cart.items[1].quantity"},
		{"quantity min int", with(validCart(), func(e *reducer.Event) { e.Cart.Items[0].Quantity = math.MinInt32 }), "cart.items[0].quantity"},
		{"price NaN", with(validCart(), func(e *reducer.Event) { e.Cart.Items[0].UnitPrice = math.NaN() }), "cart.items[0].unit_price"},
		{"price +Inf", with(validCart(), func(e *reducer.Event) { e.Cart.Items[0].UnitPrice = math.Inf(1) }), "cart.items[0].unit_price"},
		{"price -Inf", with(validCart(), func(e *reducer.Event) { e.Cart.Items[0].UnitPrice = math.Inf(-1) }), "cart.items[0].unit_price"},
		{"price negative", with(validCart(), func(e *reducer.Event) { e.Cart.Items[1].UnitPrice = -0.01 }), "cart.items[1].unit_price"},
		{"currency lower case", with(validCart(), func(e *reducer.Event) { e.Cart.Items[0].PriceCurrencyCode = "eur" }), "cart.items[0].price_currency_code"},
		{"currency mixed case", with(validCart(), func(e *reducer.Event) { e.Cart.Items[0].PriceCurrencyCode = "Eur" }), "cart.items[0].price_currency_code"},
		{"currency two letters", with(validCart(), func(e *reducer.Event) { e.Cart.Items[0].PriceCurrencyCode = "EU" }), "cart.items[0].price_currency_code"},
		{"currency four letters", with(validCart(), func(e *reducer.Event) { e.Cart.Items[0].PriceCurrencyCode = "EURO" }), "cart.items[0].price_currency_code"},
		{"currency digit", with(validCart(), func(e *reducer.Event) { e.Cart.Items[0].PriceCurrencyCode = "E1R" }), "cart.items[0].price_currency_code"},
		{"currency empty", with(validCart(), func(e *reducer.Event) { e.Cart.Items[0].PriceCurrencyCode = "" }), "cart.items[0].price_currency_code"},
		{"currency non-ASCII", with(validCart(), func(e *reducer.Event) { e.Cart.Items[0].PriceCurrencyCode = "ÉU" }), "cart.items[0].price_currency_code"},
		{"empty product_id", with(validCart(), func(e *reducer.Event) { e.Cart.Items[1].ProductID = "" }), "cart.items[1].product_id"},

		{"action missing", with(act("a1", at(0)), func(e *reducer.Event) { e.Action = nil }), "action"},
		{"unknown action type", validAction(reducer.Action{Type: reducer.ActionUnknown}), "action.type"},
		{"out of range action type", validAction(reducer.Action{Type: 42}), "action.type"},
		{"view_product without product_id", validAction(reducer.Action{Type: reducer.ActionViewProduct, SkuID: strp("s")}), "action.product_id"},
		{"view_product empty product_id", validAction(reducer.Action{Type: reducer.ActionViewProduct, ProductID: strp("")}), "action.product_id"},
		{"view_category without categories", validAction(reducer.Action{Type: reducer.ActionViewCategory, CategoryIDs: []string{"1"}}), "action.categories"},
		{"view_category empty categories", validAction(reducer.Action{Type: reducer.ActionViewCategory, Categories: []string{}}), "action.categories"},
		{"view_search without search_terms", validAction(reducer.Action{Type: reducer.ActionViewSearch}), "action.search_terms"},
		{"add_order without order", validAction(reducer.Action{Type: reducer.ActionAddOrder}), "action.order"},
		{"add_order without order_number", with(validOrder(), func(e *reducer.Event) { e.Action.Order.OrderNumber = "" }), "action.order.order_number"},
		{"add_order bad item", with(validOrder(), func(e *reducer.Event) { e.Action.Order.Items[0].Quantity = 0 }), "action.order.items[0].quantity"},
		{"add_order bad currency", with(validOrder(), func(e *reducer.Event) { e.Action.Order.Items[0].PriceCurrencyCode = "eur" }), "action.order.items[0].price_currency_code"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { checkRejected(t, tt.ev, tt.field) })
	}
}

// TestValidateUTF8 puts an invalid byte sequence into every string an event
// can carry, one at a time.
func TestValidateUTF8(t *testing.T) {
	t.Parallel()
	const bad = "ok\xffbad"
	tests := []struct {
		field string
		ev    *reducer.Event
	}{
		{"visitor_id", with(validCart(), func(e *reducer.Event) { e.VisitorID = bad })},
		{"event_id", with(validCart(), func(e *reducer.Event) { e.EventID = bad })},
		{"cart.items[0].product_id", with(validCart(), func(e *reducer.Event) { e.Cart.Items[0].ProductID = bad })},
		{"cart.items[0].sku_id", with(validCart(), func(e *reducer.Event) { e.Cart.Items[0].SkuID = bad })},
		{"cart.items[1].name", with(validCart(), func(e *reducer.Event) { e.Cart.Items[1].Name = bad })},
		{"cart.items[0].price_currency_code", with(validCart(), func(e *reducer.Event) { e.Cart.Items[0].PriceCurrencyCode = "\xff\xfe\xfd" })},
		{"cart.restore_link", with(validCart(), func(e *reducer.Event) { e.Cart.RestoreLink = bad })},
		{"customer.customer_reference", with(validCustomer(), func(e *reducer.Event) { e.Customer.CustomerReference = bad })},
		{"customer.email", with(validCustomer(), func(e *reducer.Event) { e.Customer.Email = bad })},
		{"customer.first_name", with(validCustomer(), func(e *reducer.Event) { e.Customer.FirstName = bad })},
		{"customer.last_name", with(validCustomer(), func(e *reducer.Event) { e.Customer.LastName = bad })},
		{"action.product_id", with(validProduct(), func(e *reducer.Event) { e.Action.ProductID = strp(bad) })},
		{"action.product_id", with(validAction(reducer.Action{Type: reducer.ActionViewCart, ProductID: strp(bad)}), func(*reducer.Event) {})},
		{"action.sku_id", with(validProduct(), func(e *reducer.Event) { e.Action.SkuID = strp(bad) })},
		{"action.page_url", with(validProduct(), func(e *reducer.Event) { e.Action.PageURL = strp(bad) })},
		{"action.placements[1]", with(validProduct(), func(e *reducer.Event) { e.Action.Placements = []string{"p", bad} })},
		{"action.categories[0]", with(validCategory(), func(e *reducer.Event) { e.Action.Categories[0] = bad })},
		{"action.category_ids[0]", with(validCategory(), func(e *reducer.Event) { e.Action.CategoryIDs[0] = bad })},
		{"action.search_terms[0]", with(validSearch(), func(e *reducer.Event) { e.Action.SearchTerms[0] = bad })},
		{"action.order.order_number", with(validOrder(), func(e *reducer.Event) { e.Action.Order.OrderNumber = bad })},
		{"action.order.items[0].name", with(validOrder(), func(e *reducer.Event) { e.Action.Order.Items[0].Name = bad })},
		{"action.order.external_order_ref", with(validOrder(), func(e *reducer.Event) { e.Action.Order.ExternalOrderRef = strp(bad) })},
		{"action.order.payment_provider", with(validOrder(), func(e *reducer.Event) { e.Action.Order.PaymentProvider = strp(bad) })},
		{"action.order.order_status", with(validOrder(), func(e *reducer.Event) { e.Action.Order.OrderStatus = strp(bad) })},
	}
	for _, tt := range tests {
		t.Run(tt.field, func(t *testing.T) { checkRejected(t, tt.ev, tt.field) })
	}
}

func checkRejected(t *testing.T, ev *reducer.Event, field string) {
	t.Helper()
	err := reducer.Validate(ev)
	if err == nil {
		t.Fatalf("Validate = nil, want an error on %s", field)
	}
	if !errors.Is(err, reducer.ErrInvalid) {
		t.Errorf("Validate = %v, does not wrap ErrInvalid", err)
	}
	var fe *reducer.FieldError
	if !errors.As(err, &fe) {
		t.Fatalf("Validate = %T %v, want *FieldError", err, err)
	}
	if fe.Field != field {
		t.Errorf("Field = %q, want %q (error %q)", fe.Field, field, err)
	}
	if fe.Reason == "" || err.Error() != fe.Field+": "+fe.Reason || !strings.HasPrefix(err.Error(), field) {
		t.Errorf("Error() = %q, want %q followed by a reason", err.Error(), field)
	}
	if strings.Contains(fe.Reason, "\xff") {
		t.Errorf("reason %q echoes the invalid bytes", fe.Reason)
	}
	if _, aerr := newReducer(t, reducer.DefaultSessionTTL).Apply(ev); !errors.Is(aerr, reducer.ErrInvalid) {
		t.Errorf("Apply = %v, want ErrInvalid", aerr)
	}
}

// TestValidateOccurredAtRange: occurred_at is RFC 3339 in JSON (docs/design.md §2,
// §4) and "the same validation applies to Avro input", so an Avro long that
// no RFC 3339 timestamp can express (outside years 0000–9999) must be
// rejected: the update it would produce has no §4 rendering, and an extreme
// value overflows the TTL arithmetic (occurred_at - LastSeen). A producer
// sending microseconds instead of milliseconds lands here (year ~58000).
func TestValidateOccurredAtRange(t *testing.T) {
	t.Parallel()
	minMs := time.Date(0, 1, 1, 0, 0, 0, 0, time.UTC).UnixMilli()
	maxMs := time.Date(9999, 12, 31, 23, 59, 59, 999_000_000, time.UTC).UnixMilli()
	for _, ms := range []int64{minMs, 0, t0, maxMs} {
		if err := reducer.Validate(with(validCart(), func(e *reducer.Event) { e.OccurredAt = ms })); err != nil {
			t.Errorf("occurred_at %d: Validate = %v, want nil", ms, err)
		}
	}
	for _, ms := range []int64{math.MinInt64, minMs - 1, maxMs + 1, t0 * 1000, math.MaxInt64} {
		t.Run(strconv.FormatInt(ms, 10), func(t *testing.T) {
			checkRejected(t, with(act("a1", ms), func(*reducer.Event) {}), "occurred_at")
		})
	}
}

// TestMicrosecondTimestampDoesNotPoisonSnapshot is the operational effect of
// the rule above: accepted, one cart stamped in microseconds makes every
// later (correct) cart of the visitor late, and the snapshot never expires.
func TestMicrosecondTimestampDoesNotPoisonSnapshot(t *testing.T) {
	t.Parallel()
	r := newReducer(t, time.Hour)
	apply(t, r, cartEv("c1", at(0), cart(item("A", 1))))
	r.Apply(cartEv("c2", at(time.Second)*1000, cart(item("X", 9)))) // µs by mistake: must be rejected
	run(t, r, []step{
		{ev: cartEv("c3", at(2*time.Second), cart(item("B", 1)))},
		{ev: act("a1", at(3*time.Second)), emit: true, cart: cart(item("B", 1))},
		{ev: act("a2", at(3*time.Hour)), expired: true, emit: true, cart: nil},
	})
}
