package gen

import "github.com/sessiond/sessiond/reducer"

// page is where a visitor is: the state of its browsing state machine.
type page uint8

const (
	pageAway page = iota // no session: the next action lands
	pageFront
	pageCategory
	pageSearch
	pageProduct
	pageCart
	pageThankYou
	pageOther
	pageNotFound
	numPages
)

// visitor is the little a shopper needs to remember; everything fixed about
// it (account, currency, profile) is derived from its index and the seed.
type visitor struct {
	cart         *reducer.Cart // as last sent; nil: never sent
	lastProduct  int32         // product last viewed, -1: none
	lastCategory int16         // category last browsed, -1: none
	lastSearch   int16         // search term last used
	lastSize     int8          // size index of the SKU last viewed, -1: none
	page         page
	loggedIn     bool
	pendingReset bool // an order was placed; its cart reset is owed
	newsletter   bool // toggled by profile updates
	marketing    bool // toggled by profile updates
}

// Salts of the per-visitor attribute hashes.
const (
	saltAccount uint64 = iota + 1
	saltLocale
	saltProfile
	saltRestore
)

// attr is a hash of visitor vi's fixed attribute salt.
func (g *Generator) attr(vi int, salt uint64) uint64 {
	return mix64(g.hashKey ^ mix64(uint64(vi)<<8|salt))
}

// hasAccount says whether visitor vi ever logs in.
func (g *Generator) hasAccount(vi int) bool {
	return unitFloat(g.attr(vi, saltAccount)) < g.cfg.LoginRate
}

// currency is visitor vi's shop currency: 55% EUR, 30% USD, 15% GBP.
func (g *Generator) currency(vi int) int {
	switch u := unitFloat(g.attr(vi, saltLocale)); {
	case u < 0.55:
		return curEUR
	case u < 0.85:
		return curUSD
	}
	return curGBP
}
