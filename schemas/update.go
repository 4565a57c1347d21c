package schemas

import (
	"fmt"

	"github.com/sessiond/sessiond/reducer"
)

// EncodeUpdate appends the session_update record of u to dst, following the
// output rules of docs/design.md §3: a nil cart or customer is null, a reset
// customer is a Customer of nulls, and otherwise marketing_permission is
// always written (false when absent). It writes the Avro binary encoding
// directly (avro_append.go), byte-equal to goavro's, which the tests check.
func (c *Codecs) EncodeUpdate(dst []byte, u *reducer.Update) ([]byte, error) {
	if u.Action == nil {
		return dst, fmt.Errorf("encode %s: %w: no action", SessionUpdate, ErrEncode)
	}
	return appendUpdate(dst, u), nil
}

// DecodeUpdate reads a session_update record. It checks shape only: updates
// are this service's own output. A customer's Present bits are the fields
// written, so marketing_permission is present in every non-reset customer.
func (c *Codecs) DecodeUpdate(data []byte) (u *reducer.Update, err error) {
	defer recoverDecode(SessionUpdate, &u, &err)
	rec, err := c.decode(SessionUpdate, data)
	if err != nil {
		return nil, err
	}
	var r reader
	u = &reducer.Update{
		UpdateID:   r.str(rec, "update_id"),
		VisitorID:  r.str(rec, "visitor_id"),
		OccurredAt: r.millis(rec, "occurred_at"),
		Action:     r.action(r.record(rec["action"], "action")),
	}
	if v := r.union(rec, "cart", branchCart); v != nil {
		u.Cart = r.cart(r.record(v, "cart"))
	}
	if v := r.union(rec, "customer", branchCustomer); v != nil {
		u.Customer = r.customer(r.record(v, "customer"))
	}
	if r.err != nil {
		return nil, fmt.Errorf("decode %s: %w", SessionUpdate, r.err)
	}
	return u, nil
}
