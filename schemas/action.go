package schemas

import "github.com/sessiond/sessiond/reducer"

// actionBlock holds an Action and the targets of its optional pointers in
// one allocation.
type actionBlock struct {
	a                         reducer.Action
	productID, skuID, pageURL string
	updateOnly                bool
}

// action reads an Action record. The enum symbol "unknown" (or any symbol
// this version does not know) gives reducer.ActionUnknown, which Validate
// rejects.
func (r *reader) action(m map[string]any) *reducer.Action {
	b := new(actionBlock)
	a := &b.a
	a.Type, _ = reducer.ParseActionType(r.str(m, "type"))
	a.ProductID = r.optStrInto(m, "product_id", &b.productID)
	a.SkuID = r.optStrInto(m, "sku_id", &b.skuID)
	a.Categories = r.optStrings(m, "categories")
	a.CategoryIDs = r.optStrings(m, "category_ids")
	a.SearchTerms = r.optStrings(m, "search_terms")
	if o := r.union(m, "order", branchOrder); o != nil {
		a.Order = r.order(r.record(o, "order"))
	}
	a.Placements = r.optStrings(m, "placements")
	a.PageURL = r.optStrInto(m, "page_url", &b.pageURL)
	if v, ok := r.optBool(m, "update_only"); ok {
		b.updateOnly, a.UpdateOnly = v, &b.updateOnly
	}
	return a
}

// optStrInto stores a ["null", string] field in *dst and returns dst, or
// returns nil for null.
func (r *reader) optStrInto(m map[string]any, field string, dst *string) *string {
	s, ok := r.optStr(m, field)
	if !ok {
		return nil
	}
	*dst = s
	return dst
}

// orderBlock is actionBlock for an Order.
type orderBlock struct {
	o                    reducer.Order
	ref, provider, state string
}

func (r *reader) order(m map[string]any) *reducer.Order {
	b := new(orderBlock)
	o := &b.o
	o.OrderNumber = r.str(m, "order_number")
	o.Items = r.items(r.array(m, "items"), "order.items")
	o.ExternalOrderRef = r.optStrInto(m, "external_order_ref", &b.ref)
	o.PaymentProvider = r.optStrInto(m, "payment_provider", &b.provider)
	o.OrderStatus = r.optStrInto(m, "order_status", &b.state)
	return o
}

// action returns the native form of an Action record. A type out of range
// is written as "unknown".
func (w *writer) action(a *reducer.Action) map[string]any {
	m := w.record()
	m["type"] = a.Type.String()
	w.optStrPtr(m, "product_id", a.ProductID)
	w.optStrPtr(m, "sku_id", a.SkuID)
	w.optStrings(m, "categories", a.Categories)
	w.optStrings(m, "category_ids", a.CategoryIDs)
	w.optStrings(m, "search_terms", a.SearchTerms)
	w.order(m, "order", a.Order)
	w.optStrings(m, "placements", a.Placements)
	w.optStrPtr(m, "page_url", a.PageURL)
	if a.UpdateOnly != nil {
		w.optBool(m, "update_only", *a.UpdateOnly, true)
	}
	return m
}

func (w *writer) order(m map[string]any, field string, o *reducer.Order) {
	if o == nil {
		return
	}
	rec := w.record()
	rec["order_number"] = o.OrderNumber
	rec["items"] = w.items(o.Items)
	w.optStrPtr(rec, "external_order_ref", o.ExternalOrderRef)
	w.optStrPtr(rec, "payment_provider", o.PaymentProvider)
	w.optStrPtr(rec, "order_status", o.OrderStatus)
	m[field] = w.union(branchOrder, rec)
}
