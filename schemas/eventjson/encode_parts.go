package eventjson

import "github.com/sessiond/sessiond/reducer"

// The parts shared by updates and events, each written with its keys in
// the contract's order and absent optional fields omitted.

// appendAction writes an action (null if nil).
func appendAction(dst []byte, a *reducer.Action) []byte {
	if a == nil {
		return append(dst, "null"...)
	}
	dst = AppendString(append(dst, `{"type":`...), a.Type.String())
	dst = appendOptString(dst, `,"product_id":`, a.ProductID)
	dst = appendOptString(dst, `,"sku_id":`, a.SkuID)
	dst = appendOptStrings(dst, `,"categories":`, a.Categories)
	dst = appendOptStrings(dst, `,"category_ids":`, a.CategoryIDs)
	dst = appendOptStrings(dst, `,"search_terms":`, a.SearchTerms)
	if a.Order != nil {
		dst = appendOrder(append(dst, `,"order":`...), a.Order)
	}
	dst = appendOptStrings(dst, `,"placements":`, a.Placements)
	dst = appendOptString(dst, `,"page_url":`, a.PageURL)
	if a.UpdateOnly != nil {
		dst = appendBool(append(dst, `,"update_only":`...), *a.UpdateOnly)
	}
	return append(dst, '}')
}

func appendOptString(dst []byte, key string, s *string) []byte {
	if s == nil {
		return dst
	}
	return AppendString(append(dst, key...), *s)
}

func appendOptStrings(dst []byte, key string, list []string) []byte {
	if list == nil {
		return dst
	}
	return appendStrings(append(dst, key...), list)
}

func appendOrder(dst []byte, o *reducer.Order) []byte {
	dst = AppendString(append(dst, `{"order_number":`...), o.OrderNumber)
	dst = appendItems(append(dst, `,"items":`...), o.Items)
	dst = appendOptString(dst, `,"external_order_ref":`, o.ExternalOrderRef)
	dst = appendOptString(dst, `,"payment_provider":`, o.PaymentProvider)
	dst = appendOptString(dst, `,"order_status":`, o.OrderStatus)
	return append(dst, '}')
}

// appendCart writes a cart (null if nil); items are always present.
func appendCart(dst []byte, c *reducer.Cart) []byte {
	if c == nil {
		return append(dst, "null"...)
	}
	dst = appendItems(append(dst, `{"items":`...), c.Items)
	if c.HasRestore {
		dst = AppendString(append(dst, `,"restore_link":`...), c.RestoreLink)
	}
	return append(dst, '}')
}

func appendItems(dst []byte, items []reducer.Item) []byte {
	dst = append(dst, '[')
	for i := range items {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = appendItem(dst, &items[i])
	}
	return append(dst, ']')
}

func appendItem(dst []byte, it *reducer.Item) []byte {
	dst = AppendString(append(dst, `{"product_id":`...), it.ProductID)
	if it.HasSku {
		dst = AppendString(append(dst, `,"sku_id":`...), it.SkuID)
	}
	dst = AppendString(append(dst, `,"name":`...), it.Name)
	dst = appendInt32(append(dst, `,"quantity":`...), it.Quantity)
	dst = appendFloat(append(dst, `,"unit_price":`...), it.UnitPrice)
	dst = AppendString(append(dst, `,"price_currency_code":`...), it.PriceCurrencyCode)
	return append(dst, '}')
}

// appendCustomer writes a customer (null if nil) with the fields it
// carries. With consent set, as in updates, marketing_permission is always
// written — absent means no consent (false) — except in a reset, {}.
func appendCustomer(dst []byte, c *reducer.Customer, consent bool) []byte {
	if c == nil {
		return append(dst, "null"...)
	}
	if c.IsReset() {
		return append(dst, "{}"...)
	}
	dst = append(dst, '{')
	sep := func() {
		if dst[len(dst)-1] != '{' {
			dst = append(dst, ',')
		}
	}
	for _, f := range [...]struct {
		field reducer.CustomerField
		key   string
		val   string
	}{
		{reducer.FieldCustomerReference, `"customer_reference":`, c.CustomerReference},
		{reducer.FieldEmail, `"email":`, c.Email},
		{reducer.FieldFirstName, `"first_name":`, c.FirstName},
		{reducer.FieldLastName, `"last_name":`, c.LastName},
	} {
		if c.Has(f.field) {
			sep()
			dst = AppendString(append(dst, f.key...), f.val)
		}
	}
	if c.Has(reducer.FieldNewsletter) {
		sep()
		dst = appendBool(append(dst, `"newsletter":`...), c.Newsletter)
	}
	if consent || c.Has(reducer.FieldMarketingPermission) {
		sep()
		dst = appendBool(append(dst, `"marketing_permission":`...), c.Has(reducer.FieldMarketingPermission) && c.MarketingPermission)
	}
	return append(dst, '}')
}
