package reducer

import (
	"math"
	"strconv"
	"unicode/utf8"
)

// Validate checks the rules every decoder shares (DESIGN §2, §4): non-empty
// visitor and event ids, a payload for the event's kind, positive integer
// quantities, non-negative finite prices, ISO 4217 currency codes, the fields
// each action type requires, and valid UTF-8 in every string. Decoders check
// shape (types, required fields of the wire format); Validate checks meaning.
// Every error it returns wraps ErrInvalid.
func Validate(ev *Event) error {
	if err := validateString("visitor_id", ev.VisitorID, true); err != nil {
		return err
	}
	if err := validateString("event_id", ev.EventID, true); err != nil {
		return err
	}
	switch ev.Kind {
	case KindCart:
		return validateCart(ev.Cart)
	case KindCustomer:
		return validateCustomer(ev.Customer)
	case KindAction:
		return validateAction(ev.Action)
	}
	return invalid("type", "unknown event type")
}

func validateString(field, s string, required bool) error {
	if required && s == "" {
		return invalid(field, "must be a non-empty string")
	}
	if !utf8.ValidString(s) {
		return invalid(field, "must be valid UTF-8")
	}
	return nil
}

func validateStrings(field string, ss []string, required bool) error {
	if required && len(ss) == 0 {
		return invalid(field, "must be a non-empty list")
	}
	for i, s := range ss {
		if err := validateString(field+"["+strconv.Itoa(i)+"]", s, false); err != nil {
			return err
		}
	}
	return nil
}

func validateCart(c *Cart) error {
	if c == nil {
		return nil
	}
	if err := validateItems("cart.items", c.Items); err != nil {
		return err
	}
	return validateString("cart.restore_link", c.RestoreLink, false)
}

func validateItems(field string, items []Item) error {
	for i := range items {
		if err := validateItem(field+"["+strconv.Itoa(i)+"]", &items[i]); err != nil {
			return err
		}
	}
	return nil
}

func validateItem(field string, it *Item) error {
	if err := validateString(field+".product_id", it.ProductID, true); err != nil {
		return err
	}
	if err := validateString(field+".sku_id", it.SkuID, false); err != nil {
		return err
	}
	if err := validateString(field+".name", it.Name, false); err != nil {
		return err
	}
	if it.Quantity < 1 {
		return invalid(field+".quantity", "must be at least 1, got %d", it.Quantity)
	}
	if math.IsNaN(it.UnitPrice) || math.IsInf(it.UnitPrice, 0) || it.UnitPrice < 0 {
		return invalid(field+".unit_price", "must be a finite number >= 0")
	}
	if !isCurrencyCode(it.PriceCurrencyCode) {
		return invalid(field+".price_currency_code", "must be an ISO 4217 code of 3 upper-case letters")
	}
	return nil
}

func isCurrencyCode(s string) bool {
	if len(s) != 3 {
		return false
	}
	for i := 0; i < 3; i++ {
		if s[i] < 'A' || s[i] > 'Z' {
			return false
		}
	}
	return true
}

func validateCustomer(c *Customer) error {
	if c == nil {
		return nil
	}
	for _, f := range [...]struct {
		name string
		val  string
	}{
		{"customer.customer_reference", c.CustomerReference},
		{"customer.email", c.Email},
		{"customer.first_name", c.FirstName},
		{"customer.last_name", c.LastName},
	} {
		if err := validateString(f.name, f.val, false); err != nil {
			return err
		}
	}
	return nil
}
