package eventjson

import (
	"github.com/sessiond/sessiond/reducer"
)

// customerEvent decodes a customer_changed event's payload. An absent (or
// null) customer is "unchanged": Event.Customer stays nil.
func (s *scanner) customerEvent(ev reducer.Event, present bool) (*reducer.Event, error) {
	if !present {
		return &ev, nil
	}
	x := &struct { // one allocation for both
		ev   reducer.Event
		cust reducer.Customer
	}{ev: ev}
	if err := s.customer(&x.cust); err != nil {
		return nil, within("customer", err)
	}
	x.ev.Customer = &x.cust
	return &x.ev, nil
}

// customerKeyNames names the customer fields by the bit number of their
// reducer.CustomerField.
var customerKeyNames = [...]string{"customer_reference", "email", "first_name", "last_name", "newsletter", "marketing_permission"}

func customerKey(key []byte) reducer.CustomerField {
	switch string(key) {
	case "customer_reference":
		return reducer.FieldCustomerReference
	case "email":
		return reducer.FieldEmail
	case "first_name":
		return reducer.FieldFirstName
	case "last_name":
		return reducer.FieldLastName
	case "newsletter":
		return reducer.FieldNewsletter
	case "marketing_permission":
		return reducer.FieldMarketingPermission
	}
	return 0
}

// customer decodes a customer object. Each field is optional and null
// counts as absent; Present records the others. No field present is a
// reset.
func (s *scanner) customer(c *reducer.Customer) error {
	if s.peek() != '{' {
		return s.typeErr("must be an object")
	}
	s.pos++
	var seen uint16
	lookup := func(key []byte) uint16 { return uint16(customerKey(key)) }
	return s.knownMembers(customerKeyNames[:], lookup, func(bit uint16) error {
		return s.customerField(c, reducer.CustomerField(bit), &seen)
	})
}

func (s *scanner) customerField(c *reducer.Customer, f reducer.CustomerField, seen *uint16) error {
	if err := once(seen, uint16(f)); err != nil {
		return err
	}
	var (
		ok  bool
		err error
	)
	switch f {
	case reducer.FieldCustomerReference:
		c.CustomerReference, ok, err = s.optStr()
	case reducer.FieldEmail:
		c.Email, ok, err = s.optStr()
	case reducer.FieldFirstName:
		c.FirstName, ok, err = s.optStr()
	case reducer.FieldLastName:
		c.LastName, ok, err = s.optStr()
	case reducer.FieldNewsletter:
		c.Newsletter, ok, err = s.optBool()
	case reducer.FieldMarketingPermission:
		c.MarketingPermission, ok, err = s.optBool()
	}
	if ok {
		c.Present |= f
	}
	return err
}
