package schemas

import "github.com/sessiond/sessiond/reducer"

// The optional fields of a Customer record, with the Present bit each sets.
var (
	customerStrings = [...]struct {
		name  string
		bit   reducer.CustomerField
		field func(*reducer.Customer) *string
	}{
		{"customer_reference", reducer.FieldCustomerReference, func(c *reducer.Customer) *string { return &c.CustomerReference }},
		{"email", reducer.FieldEmail, func(c *reducer.Customer) *string { return &c.Email }},
		{"first_name", reducer.FieldFirstName, func(c *reducer.Customer) *string { return &c.FirstName }},
		{"last_name", reducer.FieldLastName, func(c *reducer.Customer) *string { return &c.LastName }},
	}
	customerBools = [...]struct {
		name  string
		bit   reducer.CustomerField
		field func(*reducer.Customer) *bool
	}{
		{"newsletter", reducer.FieldNewsletter, func(c *reducer.Customer) *bool { return &c.Newsletter }},
		{"marketing_permission", reducer.FieldMarketingPermission, func(c *reducer.Customer) *bool { return &c.MarketingPermission }},
	}
)

// customer reads a Customer record: each non-null field sets its Present
// bit, so a record of nulls is a reset.
func (r *reader) customer(m map[string]any) *reducer.Customer {
	c := new(reducer.Customer)
	for _, f := range customerStrings {
		if s, ok := r.optStr(m, f.name); ok {
			*f.field(c), c.Present = s, c.Present|f.bit
		}
	}
	for _, f := range customerBools {
		if b, ok := r.optBool(m, f.name); ok {
			*f.field(c), c.Present = b, c.Present|f.bit
		}
	}
	return c
}

// customerMode says how absent fields are written.
type customerMode uint8

const (
	// customerExact writes exactly the fields present: events, snapshots.
	customerExact customerMode = iota
	// customerOutput follows the update rules of docs/design.md §3: an absent
	// marketing_permission is false (no consent), except in a reset.
	customerOutput
)

// customer sets m[field] to a ["null", Customer] value; nil leaves it null.
func (w *writer) customer(m map[string]any, field string, c *reducer.Customer, mode customerMode) {
	if c == nil {
		return
	}
	rec := w.record()
	for _, f := range customerStrings {
		w.optStr(rec, f.name, *f.field(c), c.Has(f.bit))
	}
	for _, f := range customerBools {
		w.optBool(rec, f.name, *f.field(c), c.Has(f.bit))
	}
	if mode == customerOutput && !c.IsReset() && !c.Has(reducer.FieldMarketingPermission) {
		w.optBool(rec, "marketing_permission", false, true)
	}
	m[field] = w.union(branchCustomer, rec)
}
