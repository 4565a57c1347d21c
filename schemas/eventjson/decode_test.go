package eventjson

import (
	"errors"
	"math"
	"reflect"
	"strings"
	"testing"

	"github.com/sessiond/sessiond/reducer"
)

func TestDecodeEventGood(t *testing.T) {
	t.Parallel()
	cartEv := func(c *reducer.Cart) reducer.Event { ev := event(reducer.KindCart); ev.Cart = c; return ev }
	custEv := func(c *reducer.Customer) reducer.Event { ev := event(reducer.KindCustomer); ev.Customer = c; return ev }
	actEv := func(a *reducer.Action) reducer.Event { ev := event(reducer.KindAction); ev.Action = a; return ev }
	item := `{"product_id":"181503","sku_id":"181505","name":"Men's Running Shirt","quantity":2,"unit_price":123.45,"price_currency_code":"EUR"}`
	empty := &reducer.Cart{Items: []reducer.Item{}}
	for _, tc := range []struct {
		name string
		line string
		want reducer.Event
	}{
		{"design cart", designCart, cartEv(&reducer.Cart{Items: []reducer.Item{shirt()}})},
		{"cart absent is unchanged", head("cart_changed") + `}`, cartEv(nil)},
		{"cart null is unchanged", head("cart_changed") + `,"cart":null}`, cartEv(nil)},
		{"cart {} is a reset", head("cart_changed") + `,"cart":{}}`, cartEv(empty)},
		{"items null is a reset", head("cart_changed") + `,"cart":{"items":null}}`, cartEv(empty)},
		{"items [] is a reset", head("cart_changed") + `,"cart":{"items":[]}}`, cartEv(empty)},
		{"restore link", head("cart_changed") + `,"cart":{"restore_link":"https://shop.example/c?x=1&y=<2>"}}`,
			cartEv(&reducer.Cart{Items: []reducer.Item{}, RestoreLink: "https://shop.example/c?x=1&y=<2>", HasRestore: true})},
		{"restore link null is absent", head("cart_changed") + `,"cart":{"restore_link":null,"items":[]}}`, cartEv(empty)},
		{"sku null is absent", head("cart_changed") + `,"cart":{"items":[{"product_id":"p","sku_id":null,"name":"","quantity":1,"unit_price":0,"price_currency_code":"USD"}]}}`,
			cartEv(&reducer.Cart{Items: []reducer.Item{{ProductID: "p", Quantity: 1, PriceCurrencyCode: "USD"}}})},
		{"numbers", head("cart_changed") + `,"cart":{"items":[{"product_id":"p","name":"n","quantity":2147483647,"unit_price":1.5e2,"price_currency_code":"USD"},{"product_id":"q","name":"n","quantity":1,"unit_price":-0,"price_currency_code":"USD"}]}}`,
			cartEv(&reducer.Cart{Items: []reducer.Item{
				{ProductID: "p", Name: "n", Quantity: math.MaxInt32, UnitPrice: 150, PriceCurrencyCode: "USD"},
				{ProductID: "q", Name: "n", Quantity: 1, PriceCurrencyCode: "USD"}}})},
		{"any key order, whitespace, unknown keys",
			" \t{ \"cart\" : { \"x\" : [ {\"y\":[true,false,null,-1.5e-3,\"\\\"\"]} ] , \"items\" : [ " + item + " ] } , \"extra\":{\"a\":{}}, \"occurred_at\":\"2026-11-27T10:00:00Z\", \"event_id\":\"e1\",\"visitor_id\":\"v1\",\"type\":\"cart_changed\" }\r\n ",
			cartEv(&reducer.Cart{Items: []reducer.Item{shirt()}})},
		{"unknown item keys", head("cart_changed") + `,"cart":{"items":[{"color":"red",` + item[1:] + `]}}`,
			cartEv(&reducer.Cart{Items: []reducer.Item{shirt()}})},
		{"other payloads ignored", head("cart_changed") + `,"customer":{"email":5},"action":"x"}`, cartEv(nil)},
		{"offset and nanoseconds truncate to UTC ms", `{"type":"cart_changed","visitor_id":"v1","event_id":"e1","occurred_at":"2026-11-27T12:00:00.123999999+02:00"}`,
			reducer.Event{Kind: reducer.KindCart, VisitorID: "v1", EventID: "e1", OccurredAt: t0 + 123}},
		{"escapes and non-ASCII", `{"type":"cart_changed","visitor_id":"v\u00e9\"\\\/\b\f\n\r\t\ud83d\ude00","event_id":"Müller ✓","occurred_at":"2026-11-27T10:00:00Z"}`,
			reducer.Event{Kind: reducer.KindCart, VisitorID: "vé\"\\/\b\f\n\r\t😀", EventID: "Müller ✓", OccurredAt: t0}},
		{"escaped key", `{"\u0074ype":"cart_changed","visitor_id":"v1","event_id":"e1","occurred_at":"2026-11-27T10:00:00Z"}`, cartEv(nil)},
		{"design customer", designCustomer, reducer.Event{Kind: reducer.KindCustomer, VisitorID: "v1", EventID: "e2", OccurredAt: t0 + 1000,
			Customer: &reducer.Customer{Present: reducer.FieldCustomerReference | reducer.FieldEmail | reducer.FieldNewsletter, CustomerReference: "b369f1", Email: "devnull@nosto.com", Newsletter: true}}},
		{"customer absent is unchanged", head("customer_changed") + `}`, custEv(nil)},
		{"customer null is unchanged", head("customer_changed") + `,"customer":null}`, custEv(nil)},
		{"customer {} is a reset", head("customer_changed") + `,"customer":{}}`, custEv(&reducer.Customer{})},
		{"customer all null is a reset", head("customer_changed") + `,"customer":{"customer_reference":null,"email":null,"first_name":null,"last_name":null,"newsletter":null,"marketing_permission":null,"x":1}}`, custEv(&reducer.Customer{})},
		{"customer all fields", head("customer_changed") + `,"customer":{"marketing_permission":true,"newsletter":false,"last_name":"Test","first_name":"Nosto","email":"","customer_reference":"r"}}`,
			custEv(&reducer.Customer{Present: 63, CustomerReference: "r", FirstName: "Nosto", LastName: "Test", MarketingPermission: true})},
		{"design action", designAction, reducer.Event{Kind: reducer.KindAction, VisitorID: "v1", EventID: "e3", OccurredAt: t0 + 2000, Action: &reducer.Action{Type: reducer.ActionViewCart}}},
		{"view_product", head("action") + `,"action":{"product_id":"p1","sku_id":"s1","type":"view_product","page_url":"https://x/p1","update_only":false,"placements":[]}}`,
			actEv(&reducer.Action{Type: reducer.ActionViewProduct, ProductID: ptr("p1"), SkuID: ptr("s1"), PageURL: ptr("https://x/p1"), UpdateOnly: ptr(false), Placements: []string{}})},
		{"null optionals are absent", head("action") + `,"action":{"type":"view_cart","product_id":null,"sku_id":null,"page_url":null,"update_only":null,"placements":null,"categories":null,"category_ids":null,"search_terms":null,"order":null}}`,
			actEv(&reducer.Action{Type: reducer.ActionViewCart})},
		{"view_category", head("action") + `,"action":{"type":"view_category","categories":["/Womens/Dresses","/Sale"],"category_ids":[],"placements":["frontpage-nosto-1"],"update_only":true}}`,
			actEv(&reducer.Action{Type: reducer.ActionViewCategory, Categories: []string{"/Womens/Dresses", "/Sale"}, CategoryIDs: []string{}, Placements: []string{"frontpage-nosto-1"}, UpdateOnly: ptr(true)})},
		{"view_search", head("action") + `,"action":{"type":"view_search","search_terms":["red shoes"]}}`,
			actEv(&reducer.Action{Type: reducer.ActionViewSearch, SearchTerms: []string{"red shoes"}})},
		{"fields a type does not take are kept", head("action") + `,"action":{"type":"view_front_page","product_id":"p"}}`,
			actEv(&reducer.Action{Type: reducer.ActionViewFrontPage, ProductID: ptr("p")})},
		{"add_order", head("action") + `,"action":{"type":"add_order","order":{"order_number":"o1","items":[` + item + `],"external_order_ref":"x1","payment_provider":"klarna","order_status":"paid"}}}`,
			actEv(&reducer.Action{Type: reducer.ActionAddOrder, Order: &reducer.Order{OrderNumber: "o1", Items: []reducer.Item{shirt()}, ExternalOrderRef: ptr("x1"), PaymentProvider: ptr("klarna"), OrderStatus: ptr("paid")}})},
		{"add_order without items", head("action") + `,"action":{"type":"add_order","order":{"order_number":"o1","items":[],"order_status":null}}}`,
			actEv(&reducer.Action{Type: reducer.ActionAddOrder, Order: &reducer.Order{OrderNumber: "o1", Items: []reducer.Item{}}})},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ev, err := DecodeEvent([]byte(tc.line))
			if err != nil {
				t.Fatalf("DecodeEvent: %v", err)
			}
			if !reflect.DeepEqual(*ev, tc.want) {
				t.Errorf("got  %s\nwant %s", AppendEvent(nil, ev), AppendEvent(nil, &tc.want))
				t.Errorf("got  %+v\nwant %+v", *ev, tc.want)
			}
		})
	}
}

func TestDecodeNegativeZeroPrice(t *testing.T) {
	t.Parallel()
	ev, err := DecodeEvent([]byte(head("cart_changed") + `,"cart":{"items":[{"product_id":"q","name":"n","quantity":1,"unit_price":-0.0,"price_currency_code":"USD"}]}}`))
	if err != nil {
		t.Fatal(err)
	}
	if p := ev.Cart.Items[0].UnitPrice; math.Signbit(p) {
		t.Errorf("unit_price -0.0 read as %v with the sign bit set", p)
	}
}

func TestDecodeEventBad(t *testing.T) {
	t.Parallel()
	action := func(a string) string { return head("action") + `,"action":` + a + `}` }
	cart := func(c string) string { return head("cart_changed") + `,"cart":` + c + `}` }
	items := func(it string) string { return cart(`{"items":[` + it + `]}`) }
	item := func(fields string) string {
		return items(`{"product_id":"p","name":"n","quantity":1,"unit_price":1,"price_currency_code":"EUR",` + fields + `}`)
	}
	customer := func(c string) string { return head("customer_changed") + `,"customer":` + c + `}` }
	deep := head("cart_changed") + `,"x":` + strings.Repeat("[", 10001) + strings.Repeat("]", 10001) + `}`
	for _, tc := range []struct{ line, want string }{
		// Not JSON, or not an object.
		{``, `invalid JSON at column 1: blank line`},
		{"  \t", `invalid JSON at column 4: blank line`},
		{`{`, `invalid JSON at column 2: unexpected end of line, expected a string key`},
		{`[]`, `invalid JSON at column 1: expected an object`},
		{`"x"`, `invalid JSON at column 1: expected an object`},
		{`{"type":"action"`, `invalid JSON at column 17: unexpected end of line, expected ',' or '}' after object member`},
		{`{"type":"action",}`, `invalid JSON at column 18: expected a string key`},
		{`{"type" "action"}`, `invalid JSON at column 9: expected ':' after object key`},
		{`{type:"action"}`, `invalid JSON at column 2: expected a string key`},
		{designAction + `x`, `invalid JSON at column 123: unexpected data after the top-level value`},
		{designAction + `{}`, `invalid JSON at column 123: unexpected data after the top-level value`},
		{"{\"type\":\"act\xffion\"}", `invalid JSON at column 13: invalid UTF-8`},
		{`{"type":"a\x"}`, `invalid JSON at column 11: invalid escape in string`},
		{`{"type":"a\u12"}`, `invalid JSON at column 11: invalid \u escape in string`},
		{`{"type":"a\ud800"}`, `invalid JSON at column 11: unpaired surrogate in \u escape`},
		{`{"type":"a\udc00\ud800"}`, `invalid JSON at column 11: unpaired surrogate in \u escape`},
		{"{\"type\":\"a\tb\"}", `invalid JSON at column 11: control character in string`},
		{`{"type":"action`, `invalid JSON at column 16: unterminated string`},
		{`{"x":tru}`, `invalid JSON at column 6: invalid literal`},
		{`{"x":nul}`, `invalid JSON at column 6: invalid literal`},
		{`{"x":01}`, `invalid JSON at column 7: expected ',' or '}' after object member`},
		{`{"x":-}`, `invalid JSON at column 7: expected a digit after '-'`},
		{`{"x":1.}`, `invalid JSON at column 8: expected a digit after the decimal point`},
		{`{"x":1e}`, `invalid JSON at column 8: expected a digit in the exponent`},
		{`{"x":+1}`, `invalid JSON at column 6: expected a value`},
		{`{"x":[1,]}`, `invalid JSON at column 9: expected a value after ','`},
		{`{"x":[1 2]}`, `invalid JSON at column 9: expected ',' or ']' after array element`},
		{`{"x":`, `invalid JSON at column 6: unexpected end of line, expected a value`},
		{deep, `invalid JSON at column 10103: nesting too deep`},
		// The header.
		{`{"visitor_id":"v1","event_id":"e1","occurred_at":"2026-11-27T10:00:00Z"}`, `type: is required`},
		{`{"type":null,"visitor_id":"v1","event_id":"e1","occurred_at":"2026-11-27T10:00:00Z"}`, `type: is required`},
		{`{"type":5}`, `type: must be a string`},
		{`{"type":"page_view"}`, `type: unknown event type "page_view"`},
		{`{"type":"devnull@nosto.com"}`, `type: unknown event type`},
		{`{"type":"action","type":"action"}`, `type: duplicate key`},
		{`{"type":"action","event_id":"e1","occurred_at":"2026-11-27T10:00:00Z","action":{"type":"view_cart"}}`, `visitor_id: is required`},
		{`{"type":"action","visitor_id":null,"event_id":"e1","occurred_at":"2026-11-27T10:00:00Z","action":{"type":"view_cart"}}`, `visitor_id: is required`},
		{`{"type":"action","visitor_id":"","event_id":"e1","occurred_at":"2026-11-27T10:00:00Z","action":{"type":"view_cart"}}`, `visitor_id: must be a non-empty string`},
		{`{"visitor_id":42}`, `visitor_id: must be a string`},
		{`{"type":"action","visitor_id":"v1","occurred_at":"2026-11-27T10:00:00Z","action":{"type":"view_cart"}}`, `event_id: is required`},
		{`{"type":"action","visitor_id":"v1","event_id":"","occurred_at":"2026-11-27T10:00:00Z","action":{"type":"view_cart"}}`, `event_id: must be a non-empty string`},
		{`{"type":"action","visitor_id":"v1","event_id":"e1","action":{"type":"view_cart"}}`, `occurred_at: is required`},
		{`{"occurred_at":1795773600000}`, `occurred_at: must be an RFC 3339 timestamp string`},
		{`{"occurred_at":"2026-11-27 10:00:00Z"}`, `occurred_at: must be an RFC 3339 timestamp string`},
		{`{"occurred_at":"2026-11-27T10:00:00"}`, `occurred_at: must be an RFC 3339 timestamp string`},
		// Carts.
		{cart(`[]`), `cart: must be an object`},
		{cart(`"x"`), `cart: must be an object`},
		{head("cart_changed") + `,"cart":{},"cart":null}`, `cart: duplicate key`},
		{cart(`{"items":{}}`), `cart.items: must be a list`},
		{cart(`{"items":[],"items":[]}`), `cart.items: duplicate key`},
		{cart(`{"restore_link":5}`), `cart.restore_link: must be a string`},
		{items(`5`), `cart.items[0]: must be an object`},
		{items(`null`), `cart.items[0]: must be an object`},
		{items(`{"name":"n","quantity":1,"unit_price":1,"price_currency_code":"EUR"}`), `cart.items[0].product_id: is required`},
		{items(`{"product_id":"p","quantity":1,"unit_price":1,"price_currency_code":"EUR"}`), `cart.items[0].name: is required`},
		{items(`{"product_id":"p","name":null,"quantity":1,"unit_price":1,"price_currency_code":"EUR"}`), `cart.items[0].name: is required`},
		{items(`{"product_id":"p","name":"n","unit_price":1,"price_currency_code":"EUR"}`), `cart.items[0].quantity: is required`},
		{items(`{"product_id":"p","name":"n","quantity":1,"price_currency_code":"EUR"}`), `cart.items[0].unit_price: is required`},
		{items(`{"product_id":"p","name":"n","quantity":1,"unit_price":1}`), `cart.items[0].price_currency_code: is required`},
		{item(`"quantity":2`), `cart.items[0].quantity: duplicate key`},
		{items(`{"product_id":"p","name":"n","quantity":2.0,"unit_price":1,"price_currency_code":"EUR"}`), `cart.items[0].quantity: must be an integer`},
		{items(`{"product_id":"p","name":"n","quantity":2e0,"unit_price":1,"price_currency_code":"EUR"}`), `cart.items[0].quantity: must be an integer`},
		{items(`{"product_id":"p","name":"n","quantity":"2","unit_price":1,"price_currency_code":"EUR"}`), `cart.items[0].quantity: must be an integer`},
		{items(`{"product_id":"p","name":"n","quantity":2147483648,"unit_price":1,"price_currency_code":"EUR"}`), `cart.items[0].quantity: must fit in a 32-bit integer`},
		{items(`{"product_id":"p","name":"n","quantity":-1,"unit_price":1,"price_currency_code":"EUR"}`), `cart.items[0].quantity: must be at least 1, got -1`},
		{items(`{"product_id":"p","name":"n","quantity":0,"unit_price":1,"price_currency_code":"EUR"}`), `cart.items[0].quantity: must be at least 1, got 0`},
		{items(`{"product_id":"p","name":"n","quantity":1,"unit_price":"1","price_currency_code":"EUR"}`), `cart.items[0].unit_price: must be a number`},
		{items(`{"product_id":"p","name":"n","quantity":1,"unit_price":1e400,"price_currency_code":"EUR"}`), `cart.items[0].unit_price: must be a finite number`},
		{items(`{"product_id":"p","name":"n","quantity":1,"unit_price":-0.01,"price_currency_code":"EUR"}`), `cart.items[0].unit_price: must be a finite number >= 0`},
		{items(`{"product_id":"p","name":"n","quantity":1,"unit_price":1,"price_currency_code":"eur"}`), `cart.items[0].price_currency_code: must be an ISO 4217 code of 3 upper-case letters`},
		{items(`{"product_id":"p","name":"n","quantity":1,"unit_price":1,"price_currency_code":"EURO"}`), `cart.items[0].price_currency_code: must be an ISO 4217 code of 3 upper-case letters`},
		{items(`{"product_id":"","name":"n","quantity":1,"unit_price":1,"price_currency_code":"EUR"}`), `cart.items[0].product_id: must be a non-empty string`},
		{item(`"sku_id":5`), `cart.items[0].sku_id: must be a string`},
		{items(`{"product_id":"p","name":"n","quantity":1,"unit_price":1,"price_currency_code":"EUR"},{"product_id":"p","name":"n","quantity":0,"unit_price":1,"price_currency_code":"EUR"}`), `cart.items[1].quantity: must be at least 1, got 0`},
		// Customers.
		{customer(`[]`), `customer: must be an object`},
		{customer(`true`), `customer: must be an object`},
		{customer(`{"email":5}`), `customer.email: must be a string`},
		{customer(`{"first_name":{}}`), `customer.first_name: must be a string`},
		{customer(`{"newsletter":"yes"}`), `customer.newsletter: must be a boolean`},
		{customer(`{"marketing_permission":1}`), `customer.marketing_permission: must be a boolean`},
		{customer(`{"email":null,"email":"a@b.c"}`), `customer.email: duplicate key`},
		// Actions.
		{head("action") + `}`, `action: is required`},
		{action(`null`), `action: is required`},
		{action(`"view_cart"`), `action: must be an object`},
		{action(`{}`), `action.type: is required`},
		{action(`{"type":null}`), `action.type: is required`},
		{action(`{"type":5}`), `action.type: must be a string`},
		{action(`{"type":"unknown"}`), `action.type: unknown action type "unknown"`},
		{action(`{"type":"view_basket"}`), `action.type: unknown action type "view_basket"`},
		{action(`{"type":"Nosto Test <devnull@nosto.com>"}`), `action.type: unknown action type`},
		{action(`{"type":"view_product"}`), `action.product_id: is required`},
		{action(`{"type":"view_product","product_id":""}`), `action.product_id: must be a non-empty string`},
		{action(`{"type":"view_product","product_id":5}`), `action.product_id: must be a string`},
		{action(`{"type":"view_category"}`), `action.categories: must be a non-empty list`},
		{action(`{"type":"view_category","categories":[]}`), `action.categories: must be a non-empty list`},
		{action(`{"type":"view_category","categories":"/Sale"}`), `action.categories: must be a list of strings`},
		{action(`{"type":"view_category","categories":["/Sale",1]}`), `action.categories[1]: must be a string`},
		{action(`{"type":"view_category","categories":["/Sale",null]}`), `action.categories[1]: must be a string`},
		{action(`{"type":"view_category","categories":["/Sale"`), `invalid JSON at column 147: expected ',' or ']' after array element`},
		{action(`{"type":"view_search"}`), `action.search_terms: must be a non-empty list`},
		{action(`{"type":"view_cart","update_only":"true"}`), `action.update_only: must be a boolean`},
		{action(`{"type":"view_cart","page_url":false}`), `action.page_url: must be a string`},
		{action(`{"type":"view_cart","placements":[1]}`), `action.placements[0]: must be a string`},
		{action(`{"type":"view_cart","type":"view_cart"}`), `action.type: duplicate key`},
		{action(`{"type":"add_order"}`), `action.order: is required for add_order`},
		{action(`{"type":"add_order","order":[]}`), `action.order: must be an object`},
		{action(`{"type":"add_order","order":{"items":[]}}`), `action.order.order_number: is required`},
		{action(`{"type":"add_order","order":{"order_number":"o1"}}`), `action.order.items: is required`},
		{action(`{"type":"add_order","order":{"order_number":"o1","items":null}}`), `action.order.items: is required`},
		{action(`{"type":"add_order","order":{"order_number":"","items":[]}}`), `action.order.order_number: must be a non-empty string`},
		{action(`{"type":"add_order","order":{"order_number":"o1","items":[],"order_status":1}}`), `action.order.order_status: must be a string`},
		{action(`{"type":"add_order","order":{"order_number":"o1","items":[{"product_id":"p","name":"n","quantity":1,"unit_price":1,"price_currency_code":"EUR","quantity":1}]}}`), `action.order.items[0].quantity: duplicate key`},
		{action(`{"type":"add_order","order":{"order_number":"o1","items":[{"product_id":"p","name":"n","quantity":0,"unit_price":1,"price_currency_code":"EUR"}]}}`), `action.order.items[0].quantity: must be at least 1, got 0`},
	} {
		ev, err := DecodeEvent([]byte(tc.line))
		if err == nil {
			t.Errorf("%s\n  decoded to %s, want error %q", tc.line, AppendEvent(nil, ev), tc.want)
			continue
		}
		if err.Error() != tc.want {
			t.Errorf("%.200s\n  error %q\n  want  %q", tc.line, err, tc.want)
		}
		if !errors.Is(err, reducer.ErrInvalid) {
			t.Errorf("%.200s\n  error %q does not wrap reducer.ErrInvalid", tc.line, err)
		}
	}
}

// TestDecodeErrorsHideValues puts shopper data where it does not belong
// and checks that no error message repeats it.
func TestDecodeErrorsHideValues(t *testing.T) {
	t.Parallel()
	const email, name = "devnull@nosto.com", "Nosto"
	for _, line := range []string{
		`{"type":"` + email + `"}`,
		`{"type":"` + name + ` Test"}`,
		head("action") + `,"action":{"type":"` + email + `"}}`,
		`{"occurred_at":"` + email + `"}`,
		head("cart_changed") + `,"cart":{"items":[{"product_id":"p","name":"` + name + `","quantity":"` + email + `","unit_price":1,"price_currency_code":"EUR"}]}}`,
		head("cart_changed") + `,"cart":{"items":[{"product_id":"p","name":"n","quantity":1,"unit_price":1,"price_currency_code":"` + email + `"}]}}`,
		head("customer_changed") + `,"customer":{"email":"` + email + `","newsletter":"` + name + `"}}`,
		head("customer_changed") + `,"customer":{"email":"` + email + `\q"}}`,
	} {
		_, err := DecodeEvent([]byte(line))
		if err == nil {
			t.Errorf("%s: accepted", line)
			continue
		}
		if msg := err.Error(); strings.Contains(msg, email) || strings.Contains(msg, name) {
			t.Errorf("%s: error %q repeats shopper data", line, msg)
		}
	}
}
