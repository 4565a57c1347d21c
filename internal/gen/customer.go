package gen

import (
	"strconv"

	"github.com/sessiond/sessiond/reducer"
)

// customerEvent is a customer_changed of visitor vi. Guests are sent as an
// empty customer (reset) or not at all; a shopper with an account logs in
// (replace with its profile), is re-sent, updates its consents, or logs out
// (reset).
func (g *Generator) customerEvent(vi int) *reducer.Event {
	v := &g.visitors[vi]
	ev := g.newEvent(reducer.KindCustomer, vi)
	r := g.rng.IntN(100)
	switch {
	case !g.hasAccount(vi):
		if r < 50 {
			ev.Customer = &reducer.Customer{}
		}
	case !v.loggedIn:
		switch {
		case r < 45:
			v.loggedIn = true
			ev.Customer = g.profile(vi)
		case r < 65:
			ev.Customer = &reducer.Customer{}
		}
	default:
		switch {
		case r < 40:
			ev.Customer = g.profile(vi)
		case r < 45:
			v.newsletter = !v.newsletter
			ev.Customer = g.profile(vi)
		case r < 50:
			v.marketing = !v.marketing
			ev.Customer = g.profile(vi)
		case r < 62:
			v.loggedIn = false
			ev.Customer = &reducer.Customer{}
		}
	}
	return ev
}

// profile is visitor vi's customer as its platform sends it: which fields
// are given is fixed per visitor, the consents are as last toggled.
func (g *Generator) profile(vi int) *reducer.Customer {
	v := &g.visitors[vi]
	h := g.attr(vi, saltProfile)
	h2 := mix64(h)
	c := &reducer.Customer{}
	bit := func(shift uint, percent uint64) bool { return (h>>shift)&0xff < percent*256/100 }
	if bit(0, 95) {
		c.Present |= reducer.FieldCustomerReference
		c.CustomerReference = string(appendHex(nil, h2)[:12])
	}
	if bit(8, 90) || c.Present == 0 {
		c.Present |= reducer.FieldEmail
		c.Email = "shopper" + strconv.Itoa(vi+1) + "@example.com"
	}
	if bit(16, 80) {
		c.Present |= reducer.FieldFirstName
		c.FirstName = firstNames[h2>>48%uint64(len(firstNames))]
	}
	if bit(24, 75) {
		c.Present |= reducer.FieldLastName
		c.LastName = lastNames[h2>>56%uint64(len(lastNames))]
	}
	if bit(32, 85) {
		c.Present |= reducer.FieldNewsletter
		c.Newsletter = bit(40, 45) != v.newsletter
	}
	if bit(48, 60) {
		c.Present |= reducer.FieldMarketingPermission
		c.MarketingPermission = bit(56, 50) != v.marketing
	}
	return c
}
