package emitter

import (
	"errors"
	"strings"

	"github.com/sessiond/sessiond/reducer"
)

// The GraphQL documents sent to Nosto (nosto-graphql.md in the spec).
const (
	updateSessionQuery = `mutation UpdateSession($by: LookupParams!, $id: String!, $params: InputSessionParams!) {
  updateSession(by: $by, id: $id, params: $params) { id }
}`
	placeOrderQuery = `mutation PlaceOrder($by: LookupParams!, $id: String!, $params: InputOrderParams!) {
  placeOrder(by: $by, id: $id, params: $params) { id }
}`
)

// Lookups: how Nosto finds the session.
const (
	LookupCID = "cid" // visitor_id is Nosto's session id (the 2c.cId cookie)
	LookupRef = "ref" // the customer_reference
)

// errNoReference rejects an update that cannot be looked up by reference.
var errNoReference = errors.New("no customer_reference: the update cannot be sent with the ref lookup")

// graphQLRequest is the body of one request.
type graphQLRequest struct {
	Query     string         `json:"query"`
	Variables map[string]any `json:"variables"`
}

// nostoRequest maps an update to its mutation: placeOrder for add_order,
// updateSession otherwise.
func nostoRequest(u *reducer.Update, lookup string) (graphQLRequest, error) {
	by, id := "BY_CID", u.VisitorID
	if lookup == LookupRef {
		if u.Customer == nil || !u.Customer.Has(reducer.FieldCustomerReference) || u.Customer.CustomerReference == "" {
			return graphQLRequest{}, errNoReference
		}
		by, id = "BY_REF", u.Customer.CustomerReference
	}
	vars := map[string]any{"by": by, "id": id}
	if u.Action.Type == reducer.ActionAddOrder && u.Action.Order != nil {
		params := map[string]any{"order": nostoOrder(u.Action.Order)}
		if u.Customer != nil {
			params["customer"] = nostoCustomer(u.Customer)
		}
		vars["params"] = params
		return graphQLRequest{Query: placeOrderQuery, Variables: vars}, nil
	}
	params := map[string]any{"event": nostoEvent(u.Action)}
	if u.Cart != nil { // null: leave the cart as it is
		params["cart"] = map[string]any{"items": nostoItems(u.Cart.Items)}
	}
	if u.Customer != nil { // null: leave the customer as it is
		params["customer"] = nostoCustomer(u.Customer)
	}
	if u.Action.UpdateOnly != nil && *u.Action.UpdateOnly {
		params["skipEvents"] = true
	}
	vars["params"] = params
	return graphQLRequest{Query: updateSessionQuery, Variables: vars}, nil
}

// nostoEvent maps an action to Nosto's event.
func nostoEvent(a *reducer.Action) map[string]any {
	ev := map[string]any{}
	switch a.Type {
	case reducer.ActionViewProduct:
		ev["type"] = "VIEWED_PRODUCT"
		if a.ProductID != nil {
			ev["target"] = *a.ProductID
		}
	case reducer.ActionViewCategory:
		ev["type"] = "VIEWED_CATEGORY"
		if len(a.Categories) > 0 {
			ev["target"] = a.Categories[0]
		}
	case reducer.ActionViewSearch:
		ev["type"] = "SEARCHED_FOR"
		ev["target"] = strings.Join(a.SearchTerms, " ")
	default: // front page, cart, other, not found: a page view
		ev["type"] = "VIEWED_PAGE"
		if a.PageURL != nil {
			ev["target"] = *a.PageURL
		}
	}
	return ev
}

func nostoItems(items []reducer.Item) []map[string]any {
	out := make([]map[string]any, len(items)) // [] after a reset, never null
	for i, it := range items {
		m := map[string]any{"productId": it.ProductID, "name": it.Name, "unitPrice": it.UnitPrice,
			"priceCurrencyCode": it.PriceCurrencyCode, "quantity": it.Quantity}
		if it.HasSku {
			m["skuId"] = it.SkuID
		}
		out[i] = m
	}
	return out
}

// nostoCustomer maps a customer: {} after a reset; marketingPermission is
// always sent (absent means no consent); newsletter has no counterpart.
func nostoCustomer(c *reducer.Customer) map[string]any {
	m := map[string]any{}
	if c.IsReset() {
		return m
	}
	for _, f := range []struct {
		field reducer.CustomerField
		key   string
		val   string
	}{
		{reducer.FieldCustomerReference, "customerReference", c.CustomerReference},
		{reducer.FieldEmail, "email", c.Email},
		{reducer.FieldFirstName, "firstName", c.FirstName},
		{reducer.FieldLastName, "lastName", c.LastName},
	} {
		if c.Has(f.field) {
			m[f.key] = f.val
		}
	}
	m["marketingPermission"] = c.Has(reducer.FieldMarketingPermission) && c.MarketingPermission
	return m
}

func nostoOrder(o *reducer.Order) map[string]any {
	m := map[string]any{"number": o.OrderNumber, "purchasedItems": nostoItems(o.Items)}
	if o.OrderStatus != nil {
		m["orderStatus"] = *o.OrderStatus
	}
	if o.PaymentProvider != nil {
		m["paymentProvider"] = *o.PaymentProvider
	}
	if o.ExternalOrderRef != nil {
		m["ref"] = *o.ExternalOrderRef
	}
	return m
}
