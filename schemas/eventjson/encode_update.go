package eventjson

import "github.com/sessiond/sessiond/reducer"

// AppendUpdate appends u as one JSON object, without a newline, with the
// keys of docs/design.md §4 in order: update_id, visitor_id, occurred_at, action,
// cart, customer. cart and customer are always present, null when unknown;
// a reset customer is {}; otherwise marketing_permission is always written.
// The output is a function of u alone, byte for byte.
func AppendUpdate(dst []byte, u *reducer.Update) []byte {
	dst = AppendString(append(dst, `{"update_id":`...), u.UpdateID)
	dst = AppendString(append(dst, `,"visitor_id":`...), u.VisitorID)
	dst = appendTime(append(dst, `,"occurred_at":`...), u.OccurredAt)
	dst = appendAction(append(dst, `,"action":`...), u.Action)
	dst = appendCart(append(dst, `,"cart":`...), u.Cart)
	dst = appendCustomer(append(dst, `,"customer":`...), u.Customer, true)
	return append(dst, '}')
}
