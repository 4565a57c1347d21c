package schemas_test

import (
	"fmt"

	"github.com/sessiond/sessiond/reducer"
	"github.com/sessiond/sessiond/schemas"
)

func ExampleCodecs_DecodeEvent() {
	codecs, err := schemas.Load()
	if err != nil {
		panic(err)
	}
	shirt := reducer.Item{ProductID: "181503", SkuID: "181505", HasSku: true, Name: "Men's Running Shirt",
		Quantity: 2, UnitPrice: 123.45, PriceCurrencyCode: "EUR"}
	data, err := codecs.EncodeEvent(nil, &reducer.Event{Kind: reducer.KindCart, VisitorID: "v1", EventID: "e1",
		OccurredAt: 1795773600000, Cart: &reducer.Cart{Items: []reducer.Item{shirt}}})
	if err != nil {
		panic(err)
	}
	ev, err := codecs.DecodeEvent(reducer.KindCart, data)
	fmt.Println(len(data), "bytes:", ev.Kind, ev.VisitorID, ev.Cart.Items[0].Name, ev.Cart.Items[0].UnitPrice, err)

	// The record ends ... "EUR", 0 (end of items), 0 (restore_link null).
	data[len(data)-3] = 'r' // "EUr"
	_, err = codecs.DecodeEvent(reducer.KindCart, data)
	fmt.Println(err)
	// Output:
	// 64 bytes: cart_changed v1 Men's Running Shirt 123.45 <nil>
	// cart.items[0].price_currency_code: must be an ISO 4217 code of 3 upper-case letters
}
