package schemas

import (
	"fmt"

	"github.com/sessiond/sessiond/reducer"
)

// EncodeEvent appends the bare Avro binary of ev, in the schema of its kind,
// to dst. It does not validate: it writes events that DecodeEvent rejects
// (a negative quantity, an unknown action type), which is what tests of the
// dead-letter path need. On error it returns dst.
func (c *Codecs) EncodeEvent(dst []byte, ev *reducer.Event) (out []byte, err error) {
	s, ok := EventSchema(ev.Kind)
	if !ok {
		return dst, fmt.Errorf("encode: %w: %d", ErrKind, ev.Kind)
	}
	if ev.Kind == reducer.KindAction && ev.Action == nil {
		return dst, fmt.Errorf("encode %s: %w: no action", s, ErrEncode)
	}
	defer recoverEncode(s, dst, &out, &err)
	w := getWriter()
	defer w.release()
	rec := w.record()
	rec["visitor_id"] = ev.VisitorID
	rec["event_id"] = ev.EventID
	rec["occurred_at"] = ev.OccurredAt
	switch ev.Kind {
	case reducer.KindCart:
		w.cart(rec, "cart", ev.Cart)
	case reducer.KindCustomer:
		w.customer(rec, "customer", ev.Customer, customerExact)
	case reducer.KindAction:
		rec["action"] = w.action(ev.Action)
	}
	return c.encode(dst, s, rec)
}

// DecodeEvent reads one event of the given kind from bare Avro binary (the
// "raw" wire format) and validates it with reducer.Validate, so Avro and
// JSON input reject the same events. Malformed input returns an error
// wrapping ErrDecode, an invalid event the error of reducer.Validate
// (wrapping reducer.ErrInvalid); neither ever panics. data is not retained.
func (c *Codecs) DecodeEvent(kind reducer.Kind, data []byte) (ev *reducer.Event, err error) {
	s, ok := EventSchema(kind)
	if !ok {
		return nil, fmt.Errorf("decode: %w: %d", ErrKind, kind)
	}
	defer recoverDecode(s, &ev, &err)
	rec, err := c.decode(s, data)
	if err != nil {
		return nil, err
	}
	return c.EventFromNative(kind, rec)
}

// EventFromNative reads an event of the given kind from goavro's native
// form of its schema (what goavro decodes, or what package resolve makes
// of another writer's schema) and validates it like DecodeEvent.
func (c *Codecs) EventFromNative(kind reducer.Kind, rec map[string]any) (ev *reducer.Event, err error) {
	s, ok := EventSchema(kind)
	if !ok {
		return nil, fmt.Errorf("decode: %w: %d", ErrKind, kind)
	}
	defer recoverDecode(s, &ev, &err)
	var r reader
	ev = &reducer.Event{
		Kind:       kind,
		VisitorID:  r.str(rec, "visitor_id"),
		EventID:    r.str(rec, "event_id"),
		OccurredAt: r.millis(rec, "occurred_at"),
	}
	switch kind {
	case reducer.KindCart:
		if v := r.union(rec, "cart", branchCart); v != nil {
			ev.Cart = r.cart(r.record(v, "cart"))
		}
	case reducer.KindCustomer:
		if v := r.union(rec, "customer", branchCustomer); v != nil {
			ev.Customer = r.customer(r.record(v, "customer"))
		}
	case reducer.KindAction:
		ev.Action = r.action(r.record(rec["action"], "action"))
	}
	if r.err != nil {
		return nil, fmt.Errorf("decode %s: %w", s, r.err)
	}
	if err := reducer.Validate(ev); err != nil {
		return nil, err
	}
	return ev, nil
}
