package gen

import (
	"strconv"

	"github.com/sessiond/sessiond/reducer"
)

// move is what a visitor does next on the site.
type move uint8

const (
	moveFront move = iota
	moveCategory
	moveSearch
	moveProduct
	moveCart
	moveOrder
	moveOther
	moveNotFound
	moveLeave // the session ends; the visitor comes back later and lands
	numMoves
)

// moves[p][m] is the weight of move m from page p.
var moves = [numPages][numMoves]uint8{
	//           front cat search prod cart order other 404 leave
	pageAway:     {40, 25, 12, 18, 0, 0, 3, 2, 0},
	pageFront:    {0, 40, 22, 25, 6, 0, 4, 0, 3},
	pageCategory: {4, 18, 8, 50, 8, 0, 2, 0, 10},
	pageSearch:   {2, 8, 15, 58, 5, 0, 0, 0, 12},
	pageProduct:  {4, 18, 8, 30, 18, 0, 2, 0, 12},
	pageCart:     {5, 10, 5, 20, 3, 37, 0, 0, 20},
	pageThankYou: {15, 15, 0, 5, 0, 0, 10, 0, 55},
	pageOther:    {30, 30, 10, 5, 5, 0, 0, 0, 20},
	pageNotFound: {50, 10, 30, 0, 0, 0, 0, 0, 10},
}

// nextMove draws the visitor's next move. A visitor that leaves starts a new
// session, landing like an arriving one. An empty cart is rarely looked at
// and never ordered: such a move becomes a product view.
func (g *Generator) nextMove(v *visitor) move {
	m := g.draw(v.page)
	if m == moveLeave {
		v.page = pageAway
		m = g.draw(pageAway)
	}
	empty := v.cart == nil || len(v.cart.Items) == 0
	if empty && (m == moveOrder || m == moveCart && g.rng.IntN(4) != 0) {
		m = moveProduct
	}
	return m
}

func (g *Generator) draw(p page) move {
	w := &moves[p]
	total := 0
	for _, x := range w {
		total += int(x)
	}
	r := g.rng.IntN(total)
	for m, x := range w {
		if r -= int(x); r < 0 {
			return move(m)
		}
	}
	return moveLeave
}

// actionEvent is an action of visitor vi: the page it moves to.
func (g *Generator) actionEvent(vi int) *reducer.Event {
	v := &g.visitors[vi]
	ev := g.newEvent(reducer.KindAction, vi)
	a := g.alloc.action()
	ev.Action = a
	var placements []string
	var url string
	switch g.nextMove(v) {
	case moveFront:
		a.Type, v.page = reducer.ActionViewFrontPage, pageFront
		placements, url = placementsFront, urlFront
	case moveCategory:
		ci := g.rng.IntN(len(categories))
		if v.lastCategory >= 0 && g.rng.IntN(3) == 0 {
			ci = int(v.lastCategory) // back to the list
		}
		c := &categories[ci]
		a.Type, v.page, v.lastCategory = reducer.ActionViewCategory, pageCategory, int16(ci)
		a.Categories = c.categories
		if g.rng.IntN(2) == 0 {
			a.CategoryIDs = c.categoryIDs
		}
		placements, url = placementsCategory, c.url
	case moveSearch:
		si := g.rng.IntN(len(searchTerms))
		s := &searchTerms[si]
		a.Type, v.page, v.lastSearch = reducer.ActionViewSearch, pageSearch, int16(si)
		v.lastCategory = int16(s.cat)
		a.SearchTerms = s.terms
		placements, url = placementsSearch, s.url
	case moveProduct:
		placements, url = g.viewProduct(v, a)
	case moveCart:
		a.Type, v.page = reducer.ActionViewCart, pageCart
		placements, url = placementsCart, urlCart
	case moveOrder:
		g.placeOrder(vi, a)
		placements, url = placementsThankYou, urlThankYou
	case moveOther:
		a.Type, v.page = reducer.ActionViewOther, pageOther
		url = urlOthers[g.rng.IntN(len(urlOthers))]
	case moveNotFound:
		a.Type, v.page = reducer.ActionViewNotFound, pageNotFound
		placements, url = placementsNotFound, urlNotFound
	}
	g.decorate(a, placements, url)
	return ev
}

// viewProduct moves v to a product page: one of the category or search it
// came from, or a recommendation. Sized products are mostly viewed with a
// SKU (a size picked).
func (g *Generator) viewProduct(v *visitor, a *reducer.Action) ([]string, string) {
	ci := int(v.lastCategory)
	if v.page == pageProduct && g.rng.IntN(2) == 0 {
		ci = -1 // a recommendation from anywhere
	}
	pi := g.pickProduct(ci)
	p := &products[pi]
	a.Type, v.page = reducer.ActionViewProduct, pageProduct
	v.lastProduct, v.lastSize = int32(pi), -1
	if v.lastCategory < 0 {
		v.lastCategory = int16(p.cat)
	}
	a.ProductID = ptr(p.id)
	url := p.url
	if len(p.sizes) > 0 && g.rng.IntN(10) < 6 {
		size := g.rng.IntN(len(p.sizes))
		v.lastSize = int8(size)
		a.SkuID = ptr(p.skus[size])
		url += "?variant=" + p.skus[size]
	}
	return placementsProduct, url
}

// placeOrder makes a an add_order of visitor vi's cart; the cart reset that
// follows is owed until the next cart slot.
func (g *Generator) placeOrder(vi int, a *reducer.Action) {
	v := &g.visitors[vi]
	g.stats.Orders++
	h := mix64(g.idKey ^ g.stats.Orders)
	o := &reducer.Order{
		OrderNumber: strconv.FormatUint(100000+g.stats.Orders, 10),
		Items:       v.cart.Items,
	}
	if h&3 == 0 {
		o.ExternalOrderRef = ptr("#SO-" + string(appendHex(nil, h)[:8]))
	}
	if h>>8&0xff < 243 {
		o.PaymentProvider = ptr(providers[h>>16%uint64(len(providers))])
	}
	if h>>24&0xff < 218 {
		o.OrderStatus = ptr(statuses[h>>32%uint64(len(statuses))])
	}
	a.Type, a.Order = reducer.ActionAddOrder, o
	v.page, v.pendingReset = pageThankYou, true
	v.cart = &reducer.Cart{Items: []reducer.Item{}} // as the owed reset will say
	g.resets = append(g.resets, int32(vi))
}

// decorate adds the optional fields a tagging script sends: placements
// (75%), the page URL (85%) and update_only (absent 60%, false 30%, true
// 10%: a page refreshed in place).
func (g *Generator) decorate(a *reducer.Action, placements []string, url string) {
	r := g.rng.Uint64()
	if placements != nil && r&3 != 0 {
		a.Placements = placements[:len(placements):len(placements)]
	}
	if r>>8%100 < 85 {
		a.PageURL = ptr(url)
	}
	switch u := r >> 16 % 10; {
	case u < 3:
		a.UpdateOnly = ptr(false)
	case u < 4:
		a.UpdateOnly = ptr(true)
	}
}

func ptr[T any](v T) *T { return &v }
