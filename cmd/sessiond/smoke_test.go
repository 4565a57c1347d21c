package main

import (
	"testing"
	"time"
)

const designExample = `{"type":"cart_changed","visitor_id":"v1","event_id":"e1","occurred_at":"2026-11-27T10:00:00.000Z","cart":{"items":[{"product_id":"181503","sku_id":"181505","name":"Men's Running Shirt","quantity":2,"unit_price":123.45,"price_currency_code":"EUR"}]}}
{"type":"customer_changed","visitor_id":"v1","event_id":"e2","occurred_at":"2026-11-27T10:00:01.000Z","customer":{"customer_reference":"b369f1","email":"devnull@nosto.com","newsletter":true}}
{"type":"action","visitor_id":"v1","event_id":"e3","occurred_at":"2026-11-27T10:00:02.000Z","action":{"type":"view_cart"}}
`

func TestPipelineSmoke(t *testing.T) {
	e := newEnv(t, 3)
	e.produce(t, designExample)
	e.start(t)
	got := e.updates(t, 1, 60*time.Second)
	want := `{"update_id":"e3","visitor_id":"v1","occurred_at":"2026-11-27T10:00:02.000Z","action":{"type":"view_cart"},"cart":{"items":[{"product_id":"181503","sku_id":"181505","name":"Men's Running Shirt","quantity":2,"unit_price":123.45,"price_currency_code":"EUR"}]},"customer":{"customer_reference":"b369f1","email":"devnull@nosto.com","newsletter":true,"marketing_permission":false}}`
	if len(got) != 1 || got[0] != want {
		t.Fatalf("got %q\nwant %q", got, want)
	}
}
