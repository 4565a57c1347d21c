package eventjson

import (
	"reflect"

	"github.com/sessiond/sessiond/reducer"
)

// t0 is 2026-11-27T10:00:00.000Z in milliseconds.
const t0 = 1795773600000

func ptr[T any](v T) *T { return &v }

// The docs/design.md §4 example, line by line, and its update.
const (
	designCart     = `{"type":"cart_changed","visitor_id":"v1","event_id":"e1","occurred_at":"2026-11-27T10:00:00.000Z","cart":{"items":[{"product_id":"181503","sku_id":"181505","name":"Men's Running Shirt","quantity":2,"unit_price":123.45,"price_currency_code":"EUR"}]}}`
	designCustomer = `{"type":"customer_changed","visitor_id":"v1","event_id":"e2","occurred_at":"2026-11-27T10:00:01.000Z","customer":{"customer_reference":"b369f1","email":"devnull@nosto.com","newsletter":true}}`
	designAction   = `{"type":"action","visitor_id":"v1","event_id":"e3","occurred_at":"2026-11-27T10:00:02.000Z","action":{"type":"view_cart"}}`
	designUpdate   = `{"update_id":"e3","visitor_id":"v1","occurred_at":"2026-11-27T10:00:02.000Z","action":{"type":"view_cart"},"cart":{"items":[{"product_id":"181503","sku_id":"181505","name":"Men's Running Shirt","quantity":2,"unit_price":123.45,"price_currency_code":"EUR"}]},"customer":{"customer_reference":"b369f1","email":"devnull@nosto.com","newsletter":true,"marketing_permission":false}}`
)

// shirt is the item of the docs/design.md §4 example.
func shirt() reducer.Item {
	return reducer.Item{ProductID: "181503", SkuID: "181505", HasSku: true, Name: "Men's Running Shirt", Quantity: 2, UnitPrice: 123.45, PriceCurrencyCode: "EUR"}
}

// event returns the header of an event of kind k at t0.
func event(k reducer.Kind) reducer.Event {
	return reducer.Event{Kind: k, VisitorID: "v1", EventID: "e1", OccurredAt: t0}
}

// head is the header of a line that event returns, ready for a payload.
func head(typ string) string {
	return `{"type":"` + typ + `","visitor_id":"v1","event_id":"e1","occurred_at":"2026-11-27T10:00:00.000Z"`
}

// eventsEqual compares events deeply; an event decoded from JSON always has
// non-nil item lists, as the ones built by the tests do.
func eventsEqual(a, b *reducer.Event) bool { return reflect.DeepEqual(a, b) }
