package eventjson

import (
	"testing"

	"github.com/sessiond/sessiond/reducer"
)

// benchLines are typical events: a cart of three items, a customer and an
// action.
var benchLines = []struct{ name, line string }{
	{"cart3", `{"type":"cart_changed","visitor_id":"5f1e2d3c4b5a69788796a5b4","event_id":"c-0001-7a8b9c","occurred_at":"2026-11-27T10:00:00.123Z","cart":{"items":[` +
		`{"product_id":"181503","sku_id":"181505","name":"Men's Running Shirt","quantity":2,"unit_price":123.45,"price_currency_code":"EUR"},` +
		`{"product_id":"34552","sku_id":"39912","name":"Men's Training Shoe","quantity":1,"unit_price":999,"price_currency_code":"EUR"},` +
		`{"product_id":"77001","name":"Sports Socks (3 pairs)","quantity":3,"unit_price":9.99,"price_currency_code":"EUR"}]}}`},
	{"customer", `{"type":"customer_changed","visitor_id":"5f1e2d3c4b5a69788796a5b4","event_id":"u-0002-7a8b9c","occurred_at":"2026-11-27T10:00:01.456Z","customer":{"customer_reference":"b369f1235cf4f08153c560.82515936","email":"devnull@nosto.com","first_name":"Nosto","last_name":"Test","newsletter":true,"marketing_permission":true}}`},
	{"action", `{"type":"action","visitor_id":"5f1e2d3c4b5a69788796a5b4","event_id":"a-0003-7a8b9c","occurred_at":"2026-11-27T10:00:02.789Z","action":{"type":"view_product","product_id":"181503","sku_id":"181505","placements":["productpage-nosto-1","productpage-nosto-2"],"page_url":"https://shop.example/products/181503"}}`},
}

func BenchmarkDecodeEvent(b *testing.B) {
	for _, bl := range benchLines {
		line := []byte(bl.line)
		b.Run(bl.name, func(b *testing.B) {
			b.SetBytes(int64(len(line)))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := DecodeEvent(line); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkAppendUpdate(b *testing.B) {
	r, _ := reducer.New(reducer.DefaultConfig())
	var u *reducer.Update
	for _, bl := range benchLines {
		ev, err := DecodeEvent([]byte(bl.line))
		if err != nil {
			b.Fatal(err)
		}
		res, _ := r.Apply(ev)
		u = res.Update
	}
	buf := AppendUpdate(nil, u)
	b.SetBytes(int64(len(buf)))
	b.ReportAllocs()
	for b.Loop() {
		buf = AppendUpdate(buf[:0], u)
	}
}
