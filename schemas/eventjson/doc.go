// Package eventjson is the JSON-lines form of events and session updates:
// the offline contract of `sessiond reduce` (docs/design.md §4), also read by
// `sessiond produce` and written by the demo generator.
//
// DecodeEvent reads one line into a reducer.Event and validates it with
// reducer.Validate; AppendEvent is its inverse and AppendUpdate writes one
// update line. Encoding is byte-stable: the same value always gives the
// same bytes.
//
// # Decoding rules
//
//   - A line is valid UTF-8 holding exactly one JSON object (RFC 8259),
//     surrounded by optional whitespace. A blank line is invalid JSON.
//   - Keys are matched exactly (case-sensitive). Unknown keys are ignored,
//     as an Avro reader ignores fields it does not know, but their values
//     must still be valid JSON. A known key given twice in one object is
//     rejected ("duplicate key"): readers disagree on which value wins.
//     Payload keys of another event type (a "customer" on a cart_changed)
//     count as unknown.
//   - A JSON null for any field counts as absent: for an optional field it
//     means "not given", for a required one it is "is required".
//   - "type" is cart_changed, customer_changed or action. visitor_id and
//     event_id are required strings (non-empty: reducer.Validate).
//     occurred_at is a required RFC 3339 string, as accepted by
//     time.Parse(time.RFC3339Nano): any offset, any number of fraction
//     digits. It is converted to UTC milliseconds, finer digits truncated;
//     reducer.Validate then requires a UTC year from 0000 to 9999. A number
//     is not accepted.
//   - cart_changed: "cart" absent or null is "unchanged" (Event.Cart nil).
//     Otherwise it must be an object; "items" absent, null or [] is a
//     known, empty cart (non-nil empty Items); "restore_link" is an
//     optional string. An item has product_id, name, quantity, unit_price
//     and price_currency_code (required) and sku_id (optional). quantity is
//     a JSON integer literal (2.0 and 2e0 are not) within 32 bits;
//     unit_price any JSON number within a double's range, -0 read as 0.
//   - customer_changed: "customer" absent or null is "unchanged"; an object
//     gives a Customer whose Present bit set records the fields given
//     (strings customer_reference, email, first_name, last_name; booleans
//     newsletter, marketing_permission). No field present is a reset.
//   - action: "action" is a required object with a required "type"; an
//     unknown type, "unknown" included, is rejected. product_id, sku_id and
//     page_url are optional strings, update_only an optional boolean;
//     categories, category_ids, search_terms and placements optional lists
//     of strings, where [] stays distinct from absent (empty vs nil slice)
//     so that an update repeats the action as received. order is an object
//     with order_number and items (a list of items as above, possibly
//     empty) required, external_order_ref, payment_provider and
//     order_status optional. Fields a type does not take are kept; the
//     fields a type requires are checked by reducer.Validate.
//   - Value ranges (quantity >= 1, unit_price >= 0 and finite, currency
//     ^[A-Z]{3}$, non-empty ids) are reducer.Validate's, shared with the
//     Avro decoder.
//   - \u escapes must form valid UTF-16: a lone surrogate is rejected,
//     never replaced, as it cannot become valid UTF-8.
//   - Nesting deeper than 10000 levels (in skipped values) is rejected.
//
// # Errors
//
// Every error wraps reducer.ErrInvalid. A malformed line gives a
// *SyntaxError with the 1-based byte column; a well-formed line of the
// wrong shape a *reducer.FieldError naming the field by its path, e.g.
// "cart.items[0].quantity: must be an integer". Messages name the field and
// the rule and never echo a string value, so that e-mail addresses and
// names never reach logs. The one exception is an unknown event or action
// type shaped like an enum symbol (letters, digits and '_', at most 64
// bytes), which is quoted to help producers; any other unknown type is
// reported without its value.
//
// # Encoding
//
// Keys come in the contract's order and absent optional fields are
// omitted. Timestamps are written 2006-01-02T15:04:05.000Z. Strings are
// escaped as encoding/json does with HTML escaping off (so '<' stays '<',
// non-ASCII is raw, U+2028 and U+2029 are escaped); numbers as
// encoding/json writes a float64 (123.45, 999, 1e+21).
//
// # Speed
//
// The decoder is a hand-written scanner over the line, with no reflection:
// strings without escapes share one copy of the line (except visitor_id,
// which the reducer keeps as a map key and so gets its own), and each
// event's fixed parts come from one allocation.
package eventjson
