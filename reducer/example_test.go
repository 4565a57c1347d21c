package reducer_test

import (
	"fmt"
	"strings"

	"github.com/sessiond/sessiond/reducer"
)

// show prints what an Apply did: the update's cart and customer, or why
// there was none. nil prints as null: the part is unknown.
func show(res reducer.Result, err error) {
	switch {
	case err != nil:
		fmt.Println("rejected:", err)
	case res.Duplicate:
		fmt.Println("duplicate: no update")
	case res.Update == nil:
		fmt.Println("no update")
	default:
		u := res.Update
		fmt.Printf("update %s: cart=%s customer=%s\n", u.UpdateID, formatCart(u.Cart), formatCustomer(u.Customer))
	}
}

func formatCart(c *reducer.Cart) string {
	if c == nil {
		return "null"
	}
	items := make([]string, len(c.Items))
	for i, it := range c.Items {
		items[i] = fmt.Sprintf("%s x%d @ %.2f %s", it.ProductID, it.Quantity, it.UnitPrice, it.PriceCurrencyCode)
	}
	return "{items:[" + strings.Join(items, ", ") + "]}"
}

func formatCustomer(c *reducer.Customer) string {
	if c == nil {
		return "null"
	}
	var fields []string
	if c.Has(reducer.FieldEmail) {
		fields = append(fields, "email:"+c.Email)
	}
	if c.Has(reducer.FieldFirstName) {
		fields = append(fields, "first_name:"+c.FirstName)
	}
	return "{" + strings.Join(fields, " ") + "}"
}

func ExampleReducer_Apply() {
	r, _ := reducer.New(reducer.DefaultConfig()) // 24h session TTL
	const t = 1795773600000                      // 2026-11-27T10:00:00Z

	show(r.Apply(&reducer.Event{
		Kind: reducer.KindCart, VisitorID: "v1", EventID: "e1", OccurredAt: t,
		Cart: &reducer.Cart{Items: []reducer.Item{{
			ProductID: "181503", SkuID: "181505", HasSku: true, Name: "Men's Running Shirt",
			Quantity: 2, UnitPrice: 123.45, PriceCurrencyCode: "EUR",
		}}},
	}))
	show(r.Apply(&reducer.Event{
		Kind: reducer.KindAction, VisitorID: "v1", EventID: "e3", OccurredAt: t + 2000,
		Action: &reducer.Action{Type: reducer.ActionViewCart},
	}))
	// Output:
	// no update
	// update e3: cart={items:[181503 x2 @ 123.45 EUR]} customer=null
}

// A nil cart leaves the cart unchanged, an empty one resets it, and a cart
// with items replaces it exactly.
func ExampleReducer_Apply_threeStates() {
	r, _ := reducer.New(reducer.DefaultConfig())
	var t int64 = 1795773600000
	next := func() int64 { t += 1000; return t }
	setCart := func(id string, c *reducer.Cart) {
		r.Apply(&reducer.Event{Kind: reducer.KindCart, VisitorID: "v1", EventID: id, OccurredAt: next(), Cart: c})
	}
	view := func(id string) {
		show(r.Apply(&reducer.Event{
			Kind: reducer.KindAction, VisitorID: "v1", EventID: id, OccurredAt: next(),
			Action: &reducer.Action{Type: reducer.ActionViewCart},
		}))
	}
	shirt := reducer.Item{ProductID: "181503", Quantity: 1, UnitPrice: 20, PriceCurrencyCode: "EUR"}
	socks := reducer.Item{ProductID: "200100", Quantity: 3, UnitPrice: 5, PriceCurrencyCode: "EUR"}

	view("a1") // never set: unknown
	setCart("c1", &reducer.Cart{Items: []reducer.Item{shirt, socks}})
	view("a2")
	setCart("c2", nil) // unchanged
	view("a3")
	setCart("c3", &reducer.Cart{Items: []reducer.Item{socks}}) // replace, not merge
	view("a4")
	setCart("c4", &reducer.Cart{}) // reset: known and empty
	view("a5")
	// Output:
	// update a1: cart=null customer=null
	// update a2: cart={items:[181503 x1 @ 20.00 EUR, 200100 x3 @ 5.00 EUR]} customer=null
	// update a3: cart={items:[181503 x1 @ 20.00 EUR, 200100 x3 @ 5.00 EUR]} customer=null
	// update a4: cart={items:[200100 x3 @ 5.00 EUR]} customer=null
	// update a5: cart={items:[]} customer=null
}

// Customers follow the same three states; a replace keeps only the fields
// it carries.
func ExampleReducer_Apply_customer() {
	r, _ := reducer.New(reducer.DefaultConfig())
	var t int64 = 1795773600000
	setCustomer := func(id string, c *reducer.Customer) {
		t += 1000
		r.Apply(&reducer.Event{Kind: reducer.KindCustomer, VisitorID: "v1", EventID: id, OccurredAt: t, Customer: c})
	}
	view := func(id string) {
		t += 1000
		show(r.Apply(&reducer.Event{
			Kind: reducer.KindAction, VisitorID: "v1", EventID: id, OccurredAt: t,
			Action: &reducer.Action{Type: reducer.ActionViewFrontPage},
		}))
	}
	setCustomer("u1", &reducer.Customer{
		Present: reducer.FieldEmail | reducer.FieldFirstName, Email: "ada@example.com", FirstName: "Ada",
	})
	view("a1")
	setCustomer("u2", nil) // unchanged
	view("a2")
	setCustomer("u3", &reducer.Customer{Present: reducer.FieldEmail, Email: "ada@example.org"}) // first_name dropped
	view("a3")
	setCustomer("u4", &reducer.Customer{}) // reset
	view("a4")
	// Output:
	// update a1: cart=null customer={email:ada@example.com first_name:Ada}
	// update a2: cart=null customer={email:ada@example.com first_name:Ada}
	// update a3: cart=null customer={email:ada@example.org}
	// update a4: cart=null customer={}
}

// An action whose event_id was already applied for the visitor produces no
// second update.
func ExampleReducer_Apply_duplicate() {
	r, _ := reducer.New(reducer.DefaultConfig())
	ev := &reducer.Event{
		Kind: reducer.KindAction, VisitorID: "v1", EventID: "e3", OccurredAt: 1795773602000,
		Action: &reducer.Action{Type: reducer.ActionViewProduct, ProductID: new("181503")},
	}
	show(r.Apply(ev))
	show(r.Apply(ev)) // redelivered
	other := *ev
	other.VisitorID = "v2" // the same id on another visitor is not a duplicate
	show(r.Apply(&other))
	// Output:
	// update e3: cart=null customer=null
	// duplicate: no update
	// update e3: cart=null customer=null
}

func ExampleValidate() {
	err := reducer.Validate(&reducer.Event{
		Kind: reducer.KindCart, VisitorID: "v1", EventID: "e1", OccurredAt: 1795773600000,
		Cart: &reducer.Cart{Items: []reducer.Item{{ProductID: "181503", Quantity: -1, PriceCurrencyCode: "EUR"}}},
	})
	fmt.Println(err)
	// Output:
	// cart.items[0].quantity: must be at least 1, got -1
}
