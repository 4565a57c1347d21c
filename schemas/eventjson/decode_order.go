package eventjson

import (
	"math/bits"

	"github.com/sessiond/sessiond/reducer"
)

// orderBlock holds an order and its optional strings: one allocation.
type orderBlock struct {
	order            reducer.Order
	externalOrderRef string
	paymentProvider  string
	orderStatus      string
}

// Keys of an order object; the required ones first.
const (
	keyOrderNumber uint16 = 1 << iota
	keyOrderItems
	keyExternalOrderRef
	keyPaymentProvider
	keyOrderStatus
)

var orderKeyNames = [...]string{"order_number", "items", "external_order_ref", "payment_provider", "order_status"}

const orderRequired = keyOrderNumber | keyOrderItems

func orderKey(key []byte) uint16 {
	switch string(key) {
	case "order_number":
		return keyOrderNumber
	case "items":
		return keyOrderItems
	case "external_order_ref":
		return keyExternalOrderRef
	case "payment_provider":
		return keyPaymentProvider
	case "order_status":
		return keyOrderStatus
	}
	return 0
}

// optOrder decodes an order object, or null as nil. order_number and items
// (possibly empty) are required; null counts as absent.
func (s *scanner) optOrder() (*reducer.Order, error) {
	if isNull, err := s.null(); isNull || err != nil {
		return nil, err
	}
	if s.peek() != '{' {
		return nil, s.typeErr("must be an object")
	}
	s.pos++
	x := &orderBlock{}
	var seen, have uint16
	if err := s.knownMembers(orderKeyNames[:], orderKey, func(bit uint16) error {
		return s.orderField(x, bit, &seen, &have)
	}); err != nil {
		return nil, err
	}
	if missing := orderRequired &^ have; missing != 0 {
		return nil, within(orderKeyNames[bits.TrailingZeros16(missing)], fieldErr("is required"))
	}
	return &x.order, nil
}

func (s *scanner) orderField(x *orderBlock, bit uint16, seen, have *uint16) error {
	if err := once(seen, bit); err != nil {
		return err
	}
	if isNull, err := s.null(); isNull || err != nil {
		return err
	}
	*have |= bit
	o := &x.order
	var err error
	switch bit {
	case keyOrderNumber:
		o.OrderNumber, err = s.str()
	case keyOrderItems:
		o.Items, err = s.items()
	case keyExternalOrderRef:
		o.ExternalOrderRef, err = s.strIn(&x.externalOrderRef)
	case keyPaymentProvider:
		o.PaymentProvider, err = s.strIn(&x.paymentProvider)
	case keyOrderStatus:
		o.OrderStatus, err = s.strIn(&x.orderStatus)
	}
	return err
}

// strIn reads a string into *dst and returns dst.
func (s *scanner) strIn(dst *string) (*string, error) {
	v, err := s.str()
	if err != nil {
		return nil, err
	}
	*dst = v
	return dst, nil
}
