package reducer

import (
	"math"
	"strconv"
	"unicode/utf8"
)

// The occurred_at range: what RFC 3339 can write (years 0000 to 9999).
const (
	minOccurredAt = -62167219200000 // 0000-01-01T00:00:00.000Z
	maxOccurredAt = 253402300799999 // 9999-12-31T23:59:59.999Z
)

// Validate checks the rules every decoder shares (docs/design.md §2, §4): non-empty
// visitor and event ids, an occurred_at that RFC 3339 can write, a payload
// for the event's kind, positive quantities, non-negative finite prices,
// ISO 4217 currency codes, the fields each action type requires, and valid
// UTF-8 in every string. Decoders check shape (types, required fields of the
// wire format); Validate checks meaning. Every error it returns wraps
// ErrInvalid. It allocates only when it fails.
func Validate(ev *Event) error {
	if r := checkString(ev.VisitorID, true); r != "" {
		return invalid("visitor_id", "%s", r)
	}
	if r := checkString(ev.EventID, true); r != "" {
		return invalid("event_id", "%s", r)
	}
	if ev.OccurredAt < minOccurredAt || ev.OccurredAt > maxOccurredAt {
		return invalid("occurred_at", "must be between years 0000 and 9999")
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

// checkString returns why s breaks the string rules, or "".
func checkString(s string, required bool) string {
	if required && s == "" {
		return "must be a non-empty string"
	}
	if !utf8.ValidString(s) {
		return "must be valid UTF-8"
	}
	return ""
}

func validateString(field, s string, required bool) error {
	if r := checkString(s, required); r != "" {
		return invalid(field, "%s", r)
	}
	return nil
}

func validateStrings(field string, ss []string, required bool) error {
	if required && len(ss) == 0 {
		return invalid(field, "must be a non-empty list")
	}
	for i, s := range ss {
		if r := checkString(s, false); r != "" {
			return invalid(field+"["+strconv.Itoa(i)+"]", "%s", r)
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
		if sub, r := checkItem(&items[i]); r != "" {
			return invalid(field+"["+strconv.Itoa(i)+"]."+sub, "%s", r)
		}
	}
	return nil
}

// checkItem returns the failing field and the reason, or "", "".
func checkItem(it *Item) (string, string) {
	if r := checkString(it.ProductID, true); r != "" {
		return "product_id", r
	}
	if r := checkString(it.SkuID, false); r != "" {
		return "sku_id", r
	}
	if r := checkString(it.Name, false); r != "" {
		return "name", r
	}
	if it.Quantity < 1 {
		return "quantity", "must be at least 1, got " + strconv.Itoa(int(it.Quantity))
	}
	if math.IsNaN(it.UnitPrice) || math.IsInf(it.UnitPrice, 0) || it.UnitPrice < 0 {
		return "unit_price", "must be a finite number >= 0"
	}
	if !isCurrencyCode(it.PriceCurrencyCode) {
		return "price_currency_code", "must be an ISO 4217 code of 3 upper-case letters"
	}
	return "", ""
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
