package schemas

import "github.com/sessiond/sessiond/reducer"

// cart reads a Cart record. An empty items array gives nil Items: both mean
// a known, empty cart.
func (r *reader) cart(m map[string]any) *reducer.Cart {
	c := &reducer.Cart{Items: r.items(r.array(m, "items"), "items")}
	c.RestoreLink, c.HasRestore = r.optStr(m, "restore_link")
	return c
}

func (r *reader) items(a []any, field string) []reducer.Item {
	if len(a) == 0 {
		return nil
	}
	items := make([]reducer.Item, len(a))
	for i, v := range a {
		r.item(r.record(v, field), &items[i])
	}
	return items
}

func (r *reader) item(m map[string]any, it *reducer.Item) {
	it.ProductID = r.str(m, "product_id")
	it.SkuID, it.HasSku = r.optStr(m, "sku_id")
	it.Name = r.str(m, "name")
	it.Quantity = r.int(m, "quantity")
	it.UnitPrice = r.double(m, "unit_price")
	it.PriceCurrencyCode = r.str(m, "price_currency_code")
}

// cart sets m[field] to a ["null", Cart] value; nil leaves it null.
func (w *writer) cart(m map[string]any, field string, c *reducer.Cart) {
	if c == nil {
		return
	}
	rec := w.record()
	rec["items"] = w.items(c.Items)
	w.optStr(rec, "restore_link", c.RestoreLink, c.HasRestore)
	m[field] = w.union(branchCart, rec)
}

func (w *writer) items(items []reducer.Item) []any {
	a := w.array(len(items))
	for i := range items {
		a[i] = w.item(&items[i])
	}
	return a
}

func (w *writer) item(it *reducer.Item) map[string]any {
	m := w.record()
	m["product_id"] = it.ProductID
	w.optStr(m, "sku_id", it.SkuID, it.HasSku)
	m["name"] = it.Name
	m["quantity"] = it.Quantity
	m["unit_price"] = it.UnitPrice
	m["price_currency_code"] = it.PriceCurrencyCode
	return m
}
