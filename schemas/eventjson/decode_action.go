package eventjson

import (
	"github.com/sessiond/sessiond/reducer"
)

// actionBlock holds an action event and the optional scalars its Action
// points at, so that decoding one takes a single allocation.
type actionBlock struct {
	ev         reducer.Event
	act        reducer.Action
	productID  string
	skuID      string
	pageURL    string
	updateOnly bool
}

// actionEvent decodes an action event's payload, which is required.
func (s *scanner) actionEvent(ev reducer.Event, present bool) (*reducer.Event, error) {
	if !present {
		return nil, within("action", fieldErr("is required"))
	}
	x := &actionBlock{ev: ev}
	if err := s.action(x); err != nil {
		return nil, within("action", err)
	}
	x.ev.Action = &x.act
	return &x.ev, nil
}

// Keys of an action object, in output order.
const (
	keyActType uint16 = 1 << iota
	keyActProductID
	keyActSkuID
	keyActCategories
	keyActCategoryIDs
	keyActSearchTerms
	keyActOrder
	keyActPlacements
	keyActPageURL
	keyActUpdateOnly
)

var actionKeyNames = [...]string{"type", "product_id", "sku_id", "categories", "category_ids", "search_terms", "order", "placements", "page_url", "update_only"}

func actionKey(key []byte) uint16 {
	switch string(key) {
	case "type":
		return keyActType
	case "product_id":
		return keyActProductID
	case "sku_id":
		return keyActSkuID
	case "categories":
		return keyActCategories
	case "category_ids":
		return keyActCategoryIDs
	case "search_terms":
		return keyActSearchTerms
	case "order":
		return keyActOrder
	case "placements":
		return keyActPlacements
	case "page_url":
		return keyActPageURL
	case "update_only":
		return keyActUpdateOnly
	}
	return 0
}

// action decodes an action object: "type" is required, every other field
// optional with null counting as absent. Which fields each type requires is
// reducer.Validate's business; fields a type does not take are kept, as
// received.
func (s *scanner) action(x *actionBlock) error {
	if s.peek() != '{' {
		return s.typeErr("must be an object")
	}
	s.pos++
	var seen uint16
	if err := s.knownMembers(actionKeyNames[:], actionKey, func(bit uint16) error {
		return s.actionField(x, bit, &seen)
	}); err != nil {
		return err
	}
	if x.act.Type == reducer.ActionUnknown {
		return within("type", fieldErr("is required"))
	}
	return nil
}

func (s *scanner) actionField(x *actionBlock, bit uint16, seen *uint16) error {
	if err := once(seen, bit); err != nil {
		return err
	}
	a := &x.act
	var err error
	switch bit {
	case keyActType:
		a.Type, err = s.actionType()
	case keyActProductID:
		a.ProductID, err = s.optStrIn(&x.productID)
	case keyActSkuID:
		a.SkuID, err = s.optStrIn(&x.skuID)
	case keyActPageURL:
		a.PageURL, err = s.optStrIn(&x.pageURL)
	case keyActCategories:
		a.Categories, err = s.optStrs()
	case keyActCategoryIDs:
		a.CategoryIDs, err = s.optStrs()
	case keyActSearchTerms:
		a.SearchTerms, err = s.optStrs()
	case keyActPlacements:
		a.Placements, err = s.optStrs()
	case keyActOrder:
		a.Order, err = s.optOrder()
	case keyActUpdateOnly:
		var ok bool
		if x.updateOnly, ok, err = s.optBool(); ok {
			a.UpdateOnly = &x.updateOnly
		}
	}
	return err
}

// actionType reads an action's type. Null counts as absent (and so as
// missing); unknown names, "unknown" included, are rejected.
func (s *scanner) actionType() (reducer.ActionType, error) {
	v, ok, err := s.optStr()
	if err != nil || !ok {
		return reducer.ActionUnknown, err
	}
	t, known := reducer.ParseActionType(v)
	if !known {
		return 0, fieldErr("unknown action type" + quoteSymbol(v))
	}
	return t, nil
}

// optStrIn reads a string or null into *dst and returns dst, or nil for
// null.
func (s *scanner) optStrIn(dst *string) (*string, error) {
	v, ok, err := s.optStr()
	if !ok {
		return nil, err
	}
	*dst = v
	return dst, nil
}
