package gen

import "github.com/sessiond/sessiond/reducer"

// maxCartItems and maxQuantity bound what a shopper puts in its cart.
const (
	maxCartItems = 5
	maxQuantity  = 3
)

// cartEvent is a cart_changed of visitor vi: the platform sends the full
// cart after a change, re-sends it unchanged, resets it, or sends no cart.
func (g *Generator) cartEvent(vi int) *reducer.Event {
	v := &g.visitors[vi]
	ev := g.newEvent(reducer.KindCart, vi)
	var items []reducer.Item
	if v.cart != nil {
		items = v.cart.Items
	}
	r := g.rng.IntN(100)
	switch {
	case len(items) == 0 && r < 50, len(items) > 0 && r < 25:
		items = g.addItem(vi, items)
	case len(items) == 0 && r < 75:
		ev.Cart = g.setCart(vi, []reducer.Item{}) // the platform says: an empty cart
		return ev
	case len(items) == 0:
		return ev // unchanged: no cart in the event
	case r < 35:
		items = g.changeQuantity(items)
	case r < 47:
		items = g.removeItem(items)
	case r < 50:
		items = []reducer.Item{} // emptied
	case r < 73:
		ev.Cart = v.cart // re-sent as it is
		return ev
	default:
		return ev // unchanged: no cart in the event
	}
	ev.Cart = g.setCart(vi, items)
	return ev
}

// cartReset is the cart_changed a platform sends after an order: the cart
// is empty again.
func (g *Generator) cartReset(vi int) *reducer.Event {
	g.visitors[vi].pendingReset = false
	ev := g.newEvent(reducer.KindCart, vi)
	ev.Cart = g.setCart(vi, []reducer.Item{})
	return ev
}

// setCart makes items visitor vi's cart, with the visitor's restore link if
// its platform sends one and the cart is not empty.
func (g *Generator) setCart(vi int, items []reducer.Item) *reducer.Cart {
	c := &reducer.Cart{Items: items[:len(items):len(items)]}
	if h := g.attr(vi, saltRestore); len(items) > 0 && unitFloat(h) < 0.35 {
		c.RestoreLink = shopURL + "/cart/restore/" + string(appendHex(nil, mix64(h)))
		c.HasRestore = true
	}
	g.visitors[vi].cart = c
	return c
}

// addItem returns a copy of items with one more product: the one last
// viewed, or one of the same category if that is already in the cart (a
// quick add from a recommendation). A full cart gets a quantity bumped.
func (g *Generator) addItem(vi int, items []reducer.Item) []reducer.Item {
	v := &g.visitors[vi]
	if len(items) >= maxCartItems {
		return g.changeQuantity(items)
	}
	pi, size := int(v.lastProduct), int(v.lastSize)
	if pi < 0 || indexOfProduct(items, products[pi].id) >= 0 {
		pi, size = g.pickProduct(int(v.lastCategory)), -1
		if indexOfProduct(items, products[pi].id) >= 0 {
			return g.changeQuantity(items)
		}
	}
	p := &products[pi]
	if len(p.sizes) > 0 && size < 0 {
		size = g.rng.IntN(len(p.sizes))
	}
	cur := g.currency(vi)
	it := reducer.Item{
		ProductID:         p.id,
		Name:              p.name,
		Quantity:          1,
		UnitPrice:         p.price[cur],
		PriceCurrencyCode: currencyCodes[cur],
	}
	if size >= 0 {
		it.SkuID, it.HasSku = p.skus[size], true
	}
	if g.rng.IntN(5) == 0 {
		it.Quantity = int32(2 + g.rng.IntN(maxQuantity-1))
	}
	return append(append(make([]reducer.Item, 0, len(items)+1), items...), it)
}

// changeQuantity returns a copy of items with one line's quantity changed
// within [1, maxQuantity].
func (g *Generator) changeQuantity(items []reducer.Item) []reducer.Item {
	out := append([]reducer.Item(nil), items...)
	it := &out[g.rng.IntN(len(out))]
	switch {
	case it.Quantity >= maxQuantity:
		it.Quantity--
	case it.Quantity <= 1:
		it.Quantity++
	default:
		it.Quantity += int32(2*g.rng.IntN(2) - 1)
	}
	return out
}

// removeItem returns a copy of items without one line; removing the last
// one leaves an empty cart.
func (g *Generator) removeItem(items []reducer.Item) []reducer.Item {
	i := g.rng.IntN(len(items))
	out := make([]reducer.Item, 0, len(items)-1)
	return append(append(out, items[:i]...), items[i+1:]...)
}

func indexOfProduct(items []reducer.Item, id string) int {
	for i := range items {
		if items[i].ProductID == id {
			return i
		}
	}
	return -1
}

// pickProduct returns a product of category ci (any category if ci < 0),
// sometimes one from elsewhere, as recommendations do.
func (g *Generator) pickProduct(ci int) int {
	if ci < 0 || g.rng.IntN(5) == 0 {
		return g.rng.IntN(len(products))
	}
	c := &categories[ci]
	return c.first + g.rng.IntN(c.end-c.first)
}
