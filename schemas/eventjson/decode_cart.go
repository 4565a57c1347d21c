package eventjson

import (
	"math/bits"

	"github.com/sessiond/sessiond/reducer"
)

// cartEvent decodes a cart_changed event's payload. An absent (or null)
// cart is "unchanged": Event.Cart stays nil.
func (s *scanner) cartEvent(ev reducer.Event, present bool) (*reducer.Event, error) {
	if !present {
		return &ev, nil
	}
	x := &struct { // one allocation for both
		ev   reducer.Event
		cart reducer.Cart
	}{ev: ev}
	if err := s.cart(&x.cart); err != nil {
		return nil, within("cart", err)
	}
	x.ev.Cart = &x.cart
	return &x.ev, nil
}

// Keys of a cart object.
const (
	keyItems uint16 = 1 << iota
	keyRestoreLink
)

// cart decodes a cart object. Absent, null and empty items all give a
// known, empty cart (a non-nil empty Items).
func (s *scanner) cart(c *reducer.Cart) error {
	if s.peek() != '{' {
		return s.typeErr("must be an object")
	}
	s.pos++
	var seen uint16
	for n := 0; ; n++ {
		key, ok, err := s.member(n)
		if err != nil {
			return err
		}
		if !ok {
			break
		}
		switch string(key) {
		case "items":
			if err := once(&seen, keyItems); err != nil {
				return within("items", err)
			}
			if c.Items, err = s.items(); err != nil {
				return within("items", err)
			}
		case "restore_link":
			if err := once(&seen, keyRestoreLink); err != nil {
				return within("restore_link", err)
			}
			if c.RestoreLink, c.HasRestore, err = s.optStr(); err != nil {
				return within("restore_link", err)
			}
		default:
			if err := s.skip(1); err != nil {
				return err
			}
		}
	}
	if c.Items == nil {
		c.Items = []reducer.Item{}
	}
	return nil
}

// items decodes a list of cart (or order) items; null gives nil, [] an
// empty, non-nil slice.
func (s *scanner) items() ([]reducer.Item, error) {
	if isNull, err := s.null(); isNull || err != nil {
		return nil, err
	}
	if s.peek() != '[' {
		return nil, s.typeErr("must be a list")
	}
	s.pos++
	var stack [4]reducer.Item
	items := stack[:0]
	for n := 0; ; n++ {
		ok, err := s.element(n)
		if err != nil {
			return nil, err
		}
		if !ok {
			return append(make([]reducer.Item, 0, len(items)), items...), nil
		}
		items = append(items, reducer.Item{})
		if err := s.item(&items[n]); err != nil {
			return nil, within(index(n), err)
		}
	}
}

// Keys of an item object, in the order the required ones are checked.
const (
	keyItemProductID uint16 = 1 << iota
	keyItemName
	keyItemQuantity
	keyItemUnitPrice
	keyItemCurrency
	keyItemSkuID
)

var itemKeyNames = [...]string{"product_id", "name", "quantity", "unit_price", "price_currency_code", "sku_id"}

const itemRequired = keyItemProductID | keyItemName | keyItemQuantity | keyItemUnitPrice | keyItemCurrency

// item decodes one item. Every field but sku_id is required; null counts as
// absent. The ranges (quantity >= 1, price >= 0, currency code) are
// reducer.Validate's.
func (s *scanner) item(it *reducer.Item) error {
	if s.peek() != '{' {
		return s.typeErr("must be an object")
	}
	s.pos++
	var seen, have uint16
	if err := s.knownMembers(itemKeyNames[:], itemKey, func(bit uint16) error {
		return s.itemField(it, bit, &seen, &have)
	}); err != nil {
		return err
	}
	if missing := itemRequired &^ have; missing != 0 {
		return within(itemKeyNames[bits.TrailingZeros16(missing)], fieldErr("is required"))
	}
	return nil
}

func itemKey(key []byte) uint16 {
	switch string(key) {
	case "product_id":
		return keyItemProductID
	case "sku_id":
		return keyItemSkuID
	case "name":
		return keyItemName
	case "quantity":
		return keyItemQuantity
	case "unit_price":
		return keyItemUnitPrice
	case "price_currency_code":
		return keyItemCurrency
	}
	return 0
}

// itemField reads the value of the item field with key bit.
func (s *scanner) itemField(it *reducer.Item, bit uint16, seen, have *uint16) error {
	if err := once(seen, bit); err != nil {
		return err
	}
	if isNull, err := s.null(); isNull || err != nil {
		return err
	}
	*have |= bit
	var err error
	switch bit {
	case keyItemProductID:
		it.ProductID, err = s.str()
	case keyItemSkuID:
		it.SkuID, err = s.str()
		it.HasSku = true
	case keyItemName:
		it.Name, err = s.str()
	case keyItemQuantity:
		it.Quantity, err = s.int32v()
	case keyItemUnitPrice:
		it.UnitPrice, err = s.float()
	case keyItemCurrency:
		it.PriceCurrencyCode, err = s.str()
	}
	return err
}
