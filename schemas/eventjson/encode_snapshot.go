package eventjson

import (
	"strconv"

	"github.com/sessiond/sessiond/reducer"
)

// AppendSnapshot appends a visitor's snapshot as one JSON object, for
// `sessiond snapshot`: visitor_id, last_seen, cart and customer as an
// update would carry them, the times their last mutations occurred at, and
// how many recent action ids it remembers for duplicate suppression.
func AppendSnapshot(dst []byte, visitorID string, s *reducer.Snapshot) []byte {
	dst = AppendString(append(dst, `{"visitor_id":`...), visitorID)
	dst = appendTime(append(dst, `,"last_seen":`...), s.LastSeen)
	dst = appendCart(append(dst, `,"cart":`...), s.Cart)
	if s.Cart != nil {
		dst = appendTime(append(dst, `,"cart_at":`...), s.CartAt)
	}
	dst = appendCustomer(append(dst, `,"customer":`...), s.Customer, true)
	if s.Customer != nil {
		dst = appendTime(append(dst, `,"customer_at":`...), s.CustomerAt)
	}
	dst = strconv.AppendInt(append(dst, `,"recent_actions":`...), int64(len(s.Recent)), 10)
	return append(dst, '}')
}
