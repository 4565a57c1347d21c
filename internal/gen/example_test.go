package gen_test

import (
	"fmt"

	"github.com/sessiond/sessiond/internal/gen"
	"github.com/sessiond/sessiond/schemas/eventjson"
)

func ExampleGenerator() {
	g, err := gen.New(gen.Config{Seed: 6, Visitors: 3})
	if err != nil {
		panic(err)
	}
	for _, ev := range g.Take(5) {
		fmt.Println(string(eventjson.AppendEvent(nil, ev)))
	}
	fmt.Printf("%+v\n", g.Stats())
	// Output:
	// {"type":"action","visitor_id":"v-000001","event_id":"evt_2b3d6b7a253c7916","occurred_at":"2026-11-27T10:00:00.000Z","action":{"type":"view_front_page","placements":["frontpage-nosto-1","frontpage-nosto-2"],"page_url":"https://shop.example.com/","update_only":false}}
	// {"type":"action","visitor_id":"v-000001","event_id":"evt_bef8ac47e7e7dbfc","occurred_at":"2026-11-27T10:00:00.020Z","action":{"type":"view_product","product_id":"598900","sku_id":"598900-42","placements":["productpage-nosto-1","productpage-nosto-2"],"page_url":"https://shop.example.com/products/598900?variant=598900-42","update_only":false}}
	// {"type":"cart_changed","visitor_id":"v-000001","event_id":"evt_a83e41f4dbeb5f44","occurred_at":"2026-11-27T10:00:00.132Z","cart":{"items":[{"product_id":"598900","sku_id":"598900-42","name":"Men's Running Shoes, Burgundy","quantity":1,"unit_price":190.99,"price_currency_code":"GBP"}],"restore_link":"https://shop.example.com/cart/restore/6cde45fb5215613f"}}
	// {"type":"action","visitor_id":"v-000001","event_id":"evt_b679058f8128c085","occurred_at":"2026-11-27T10:00:00.177Z","action":{"type":"view_product","product_id":"796875","sku_id":"796875-L","placements":["productpage-nosto-1","productpage-nosto-2"],"page_url":"https://shop.example.com/products/796875?variant=796875-L"}}
	// {"type":"cart_changed","visitor_id":"v-000002","event_id":"evt_80d1e71751f95c8b","occurred_at":"2026-11-27T10:00:00.223Z","cart":{"items":[{"product_id":"131679","sku_id":"131679-L","name":"Linen Shirt Dress, Burgundy","quantity":1,"unit_price":32,"price_currency_code":"EUR"}],"restore_link":"https://shop.example.com/cart/restore/523b0c80032669b4"}}
	// {Events:5 Kinds:[2 0 3] Orders:0 Duplicates:0 Late:0}
}
