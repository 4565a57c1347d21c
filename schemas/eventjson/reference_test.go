package eventjson

import (
	"bytes"
	"encoding/json"
	"time"

	"github.com/sessiond/sessiond/reducer"
)

// The ref* types describe an update to encoding/json, as an independent
// reference for AppendUpdate: same key order, same omissions. Lists are
// pointers so that an empty list is written [] and an absent one omitted.

type refItem struct {
	ProductID         string  `json:"product_id"`
	SkuID             *string `json:"sku_id,omitempty"`
	Name              string  `json:"name"`
	Quantity          int32   `json:"quantity"`
	UnitPrice         float64 `json:"unit_price"`
	PriceCurrencyCode string  `json:"price_currency_code"`
}

type refCart struct {
	Items       []refItem `json:"items"`
	RestoreLink *string   `json:"restore_link,omitempty"`
}

type refOrder struct {
	OrderNumber      string    `json:"order_number"`
	Items            []refItem `json:"items"`
	ExternalOrderRef *string   `json:"external_order_ref,omitempty"`
	PaymentProvider  *string   `json:"payment_provider,omitempty"`
	OrderStatus      *string   `json:"order_status,omitempty"`
}

type refAction struct {
	Type        string    `json:"type"`
	ProductID   *string   `json:"product_id,omitempty"`
	SkuID       *string   `json:"sku_id,omitempty"`
	Categories  *[]string `json:"categories,omitempty"`
	CategoryIDs *[]string `json:"category_ids,omitempty"`
	SearchTerms *[]string `json:"search_terms,omitempty"`
	Order       *refOrder `json:"order,omitempty"`
	Placements  *[]string `json:"placements,omitempty"`
	PageURL     *string   `json:"page_url,omitempty"`
	UpdateOnly  *bool     `json:"update_only,omitempty"`
}

type refCustomer struct {
	CustomerReference   *string `json:"customer_reference,omitempty"`
	Email               *string `json:"email,omitempty"`
	FirstName           *string `json:"first_name,omitempty"`
	LastName            *string `json:"last_name,omitempty"`
	Newsletter          *bool   `json:"newsletter,omitempty"`
	MarketingPermission bool    `json:"marketing_permission"`
}

type refUpdate struct {
	UpdateID   string     `json:"update_id"`
	VisitorID  string     `json:"visitor_id"`
	OccurredAt string     `json:"occurred_at"`
	Action     *refAction `json:"action"`
	Cart       *refCart   `json:"cart"`
	Customer   any        `json:"customer"`
}

// referenceUpdate encodes u with encoding/json.
func referenceUpdate(u *reducer.Update) ([]byte, error) {
	ref := refUpdate{
		UpdateID:   u.UpdateID,
		VisitorID:  u.VisitorID,
		OccurredAt: time.UnixMilli(u.OccurredAt).UTC().Format(timeLayout),
		Action:     refActionOf(u.Action),
		Cart:       refCartOf(u.Cart),
		Customer:   refCustomerOf(u.Customer),
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(ref); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

func refItemsOf(items []reducer.Item) []refItem {
	out := make([]refItem, 0, len(items))
	for _, it := range items {
		r := refItem{ProductID: it.ProductID, Name: it.Name, Quantity: it.Quantity, UnitPrice: it.UnitPrice, PriceCurrencyCode: it.PriceCurrencyCode}
		if it.HasSku {
			r.SkuID = ptr(it.SkuID)
		}
		out = append(out, r)
	}
	return out
}

func refCartOf(c *reducer.Cart) *refCart {
	if c == nil {
		return nil
	}
	r := &refCart{Items: refItemsOf(c.Items)}
	if c.HasRestore {
		r.RestoreLink = ptr(c.RestoreLink)
	}
	return r
}

func refListOf(list []string) *[]string {
	if list == nil {
		return nil
	}
	return &list
}

func refActionOf(a *reducer.Action) *refAction {
	if a == nil {
		return nil
	}
	r := &refAction{
		Type: a.Type.String(), ProductID: a.ProductID, SkuID: a.SkuID,
		Categories: refListOf(a.Categories), CategoryIDs: refListOf(a.CategoryIDs),
		SearchTerms: refListOf(a.SearchTerms), Placements: refListOf(a.Placements),
		PageURL: a.PageURL, UpdateOnly: a.UpdateOnly,
	}
	if o := a.Order; o != nil {
		r.Order = &refOrder{OrderNumber: o.OrderNumber, Items: refItemsOf(o.Items),
			ExternalOrderRef: o.ExternalOrderRef, PaymentProvider: o.PaymentProvider, OrderStatus: o.OrderStatus}
	}
	return r
}

func refCustomerOf(c *reducer.Customer) any {
	switch {
	case c == nil:
		return nil
	case c.IsReset():
		return struct{}{}
	}
	r := refCustomer{MarketingPermission: c.Has(reducer.FieldMarketingPermission) && c.MarketingPermission}
	opt := func(f reducer.CustomerField, v string) *string {
		if c.Has(f) {
			return ptr(v)
		}
		return nil
	}
	r.CustomerReference = opt(reducer.FieldCustomerReference, c.CustomerReference)
	r.Email = opt(reducer.FieldEmail, c.Email)
	r.FirstName = opt(reducer.FieldFirstName, c.FirstName)
	r.LastName = opt(reducer.FieldLastName, c.LastName)
	if c.Has(reducer.FieldNewsletter) {
		r.Newsletter = ptr(c.Newsletter)
	}
	return r
}
