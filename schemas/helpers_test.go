package schemas

import (
	"encoding/json"
	"reflect"
	"testing"

	"github.com/sessiond/sessiond/reducer"
)

// loadCodecs loads the codecs once per test binary.
func loadCodecs(tb testing.TB) *Codecs {
	tb.Helper()
	c, err := Load()
	if err != nil {
		tb.Fatalf("Load: %v", err)
	}
	return c
}

func sp(s string) *string { return &s }
func bp(b bool) *bool     { return &b }

const t0 = int64(1795773600000) // 2026-11-27T10:00:00Z

var (
	shirt = reducer.Item{
		ProductID: "181503", SkuID: "181505", HasSku: true, Name: "Männer-Laufshirt ✓",
		Quantity: 2, UnitPrice: 123.45, PriceCurrencyCode: "EUR",
	}
	socks = reducer.Item{
		ProductID: "2001", Name: "Socken 🧦 «rot»", Quantity: 1, UnitPrice: 999.0, PriceCurrencyCode: "USD",
	}
	gift = reducer.Item{
		ProductID: "gift-card", SkuID: "", HasSku: true, Name: "", Quantity: 2147483647, UnitPrice: 0, PriceCurrencyCode: "SEK",
	}
	fullCustomer = reducer.Customer{
		Present: reducer.FieldCustomerReference | reducer.FieldEmail | reducer.FieldFirstName |
			reducer.FieldLastName | reducer.FieldNewsletter | reducer.FieldMarketingPermission,
		CustomerReference: "b369f1", Email: "devnull@nosto.com", FirstName: "Jürgen", LastName: "Ø'Brien 😀",
		Newsletter: true, MarketingPermission: true,
	}
	someCustomer = reducer.Customer{
		Present:           reducer.FieldCustomerReference | reducer.FieldEmail | reducer.FieldNewsletter,
		CustomerReference: "b369f1", Email: "devnull@nosto.com", Newsletter: true,
	}
	noConsent = reducer.Customer{Present: reducer.FieldMarketingPermission | reducer.FieldNewsletter}
)

func cartEvent(id string, c *reducer.Cart) *reducer.Event {
	return &reducer.Event{Kind: reducer.KindCart, VisitorID: "v1", EventID: id, OccurredAt: t0, Cart: c}
}

func customerEvent(id string, c *reducer.Customer) *reducer.Event {
	return &reducer.Event{Kind: reducer.KindCustomer, VisitorID: "v1", EventID: id, OccurredAt: t0 + 1000, Customer: c}
}

func actionEvent(id string, a *reducer.Action) *reducer.Event {
	return &reducer.Event{Kind: reducer.KindAction, VisitorID: "visitor-ü", EventID: id, OccurredAt: t0 + 2000, Action: a}
}

// exampleEvents covers every shape of every kind; each is valid.
func exampleEvents() []*reducer.Event {
	order := &reducer.Order{
		OrderNumber: "ORD-1 ✓", Items: []reducer.Item{shirt, socks},
		ExternalOrderRef: sp("ext-9"), PaymentProvider: sp("klarna"), OrderStatus: sp("paid"),
	}
	return []*reducer.Event{
		cartEvent("cart-null", nil),
		cartEvent("cart-reset", &reducer.Cart{}),
		cartEvent("cart-one", &reducer.Cart{Items: []reducer.Item{shirt}}),
		cartEvent("cart-three", &reducer.Cart{Items: []reducer.Item{shirt, socks, gift}}),
		cartEvent("cart-restore", &reducer.Cart{Items: []reducer.Item{socks}, RestoreLink: "https://shop.example/cart?r=🛒", HasRestore: true}),
		cartEvent("cart-reset-restore", &reducer.Cart{RestoreLink: "", HasRestore: true}),
		customerEvent("customer-null", nil),
		customerEvent("customer-reset", &reducer.Customer{}),
		customerEvent("customer-some", &someCustomer),
		customerEvent("customer-all", &fullCustomer),
		customerEvent("customer-no-consent", &noConsent),
		actionEvent("a-front", &reducer.Action{Type: reducer.ActionViewFrontPage}),
		actionEvent("a-cart", &reducer.Action{Type: reducer.ActionViewCart, Placements: []string{"cart-1", "cart-2"}}),
		actionEvent("a-404", &reducer.Action{Type: reducer.ActionViewNotFound, PageURL: sp("https://shop.example/nö")}),
		actionEvent("a-product", &reducer.Action{Type: reducer.ActionViewProduct, ProductID: sp("181503")}),
		actionEvent("a-sku", &reducer.Action{
			Type: reducer.ActionViewProduct, ProductID: sp("181503"), SkuID: sp("181505"),
			Placements: []string{}, PageURL: sp(""), UpdateOnly: bp(false),
		}),
		actionEvent("a-category", &reducer.Action{
			Type: reducer.ActionViewCategory, Categories: []string{"/Womens/Dresses", "/Damen/Kleider ✓"},
			CategoryIDs: []string{}, Placements: []string{"cat"}, UpdateOnly: bp(true),
		}),
		actionEvent("a-search", &reducer.Action{Type: reducer.ActionViewSearch, SearchTerms: []string{"laufshirt", "🏃"}, CategoryIDs: []string{"12"}}),
		actionEvent("a-other", &reducer.Action{Type: reducer.ActionViewOther, SearchTerms: []string{}, Categories: []string{}}),
		actionEvent("a-order", &reducer.Action{Type: reducer.ActionAddOrder, Order: order, PageURL: sp("https://shop.example/thanks")}),
		actionEvent("a-order-min", &reducer.Action{Type: reducer.ActionAddOrder, Order: &reducer.Order{OrderNumber: "2", Items: []reducer.Item{gift}}}),
		actionEvent("a-everything", &reducer.Action{
			Type: reducer.ActionViewOther, ProductID: sp("p"), SkuID: sp("s"), Categories: []string{"/a"},
			CategoryIDs: []string{"1"}, SearchTerms: []string{"q"}, Order: order, Placements: []string{"x"},
			PageURL: sp("u"), UpdateOnly: bp(true),
		}),
	}
}

// normalizeCart gives empty item lists the form decoding returns (nil):
// an empty cart is a reset either way.
func normalizeCart(c *reducer.Cart) *reducer.Cart {
	if c == nil || len(c.Items) > 0 || c.Items == nil {
		return c
	}
	n := *c
	n.Items = nil
	return &n
}

// mustEqual fails unless got and want are deeply equal, showing both.
func mustEqual(tb testing.TB, what string, got, want any) {
	tb.Helper()
	if !reflect.DeepEqual(got, want) {
		tb.Fatalf("%s:\n got %s\nwant %s", what, dump(got), dump(want))
	}
}

func dump(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return err.Error()
	}
	return string(b)
}
