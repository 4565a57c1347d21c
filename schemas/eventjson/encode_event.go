package eventjson

import "github.com/sessiond/sessiond/reducer"

// AppendEvent appends ev as one JSON line (without the newline) in the form
// DecodeEvent reads, with keys in canonical order: type, visitor_id,
// event_id, occurred_at, then the payload. An unchanged cart or customer
// (nil) is omitted; a customer carries exactly its present fields. For an
// event DecodeEvent returned, DecodeEvent(AppendEvent(ev)) equals ev.
func AppendEvent(dst []byte, ev *reducer.Event) []byte {
	dst = AppendString(append(dst, `{"type":`...), ev.Kind.String())
	dst = AppendString(append(dst, `,"visitor_id":`...), ev.VisitorID)
	dst = AppendString(append(dst, `,"event_id":`...), ev.EventID)
	dst = appendTime(append(dst, `,"occurred_at":`...), ev.OccurredAt)
	switch {
	case ev.Kind == reducer.KindCart && ev.Cart != nil:
		dst = appendCart(append(dst, `,"cart":`...), ev.Cart)
	case ev.Kind == reducer.KindCustomer && ev.Customer != nil:
		dst = appendCustomer(append(dst, `,"customer":`...), ev.Customer, false)
	case ev.Kind == reducer.KindAction && ev.Action != nil:
		dst = appendAction(append(dst, `,"action":`...), ev.Action)
	}
	return append(dst, '}')
}
