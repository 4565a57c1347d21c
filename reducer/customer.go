package reducer

// CustomerField names one optional field of a Customer; a Customer records
// which fields it carries as a bit set of these.
type CustomerField uint8

// The customer fields, in output order.
const (
	FieldCustomerReference CustomerField = 1 << iota
	FieldEmail
	FieldFirstName
	FieldLastName
	FieldNewsletter
	FieldMarketingPermission
)

// Customer is what is known of the logged-in shopper. Present says which
// fields were given; a Customer with no fields present is a reset. Like
// carts, customers are immutable once built.
type Customer struct {
	Present             CustomerField
	CustomerReference   string
	Email               string
	FirstName           string
	LastName            string
	Newsletter          bool
	MarketingPermission bool
}

// Has reports whether field f was given.
func (c *Customer) Has(f CustomerField) bool { return c.Present&f != 0 }

// IsReset reports whether the customer carries no field at all.
func (c *Customer) IsReset() bool { return c.Present == 0 }
