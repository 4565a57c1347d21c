// Package schemas is sessiond's Avro contract (docs/design.md §2, §3, §5): the
// schema files, embedded with //go:embed and compiled once with goavro, and
// the conversions between Avro binary and the reducer's types.
//
// The schemas (namespace com.sessiond; Text returns each as embedded):
//
//	cart_changed.avsc      CartChanged      topic cart-changed: cart null | Cart
//	customer_changed.avsc  CustomerChanged  topic customer-changed: customer null | Customer
//	action.avsc            ActionEvent      topic actions: action Action
//	session_update.avsc    SessionUpdate    topic nosto-session-updates
//	snapshot.avsc          Snapshot         changelog <group>-snapshots (key visitor_id)
//
// Conventions, shared by every file:
//
//   - Events carry visitor_id, event_id (strings) and occurred_at (long,
//     timestamp-millis). Field names are the JSON names of docs/design.md §4.
//   - An optional field is a union with null first and "default": null;
//     null means absent. In a Customer that is what the Present bits record;
//     in an Action, a null list is absent and an empty one present.
//   - Named types (Item, Cart, Customer, Action, ActionType, Order) are
//     defined once per file, at first use, and referenced by name after.
//     Every file that uses a type defines it identically (tested).
//   - The ActionType enum lists reducer.ActionTypeNames() in order, with
//     "unknown" first and as the enum default: a reader meeting a symbol
//     added by a newer producer sees "unknown", and DecodeEvent rejects it
//     like any invalid event.
//   - The snapshot carries a version (SnapshotVersion) for migrations; its
//     recent hashes are packed 8-byte little-endian words in one bytes value.
//
// Decoding builds goavro's native maps and converts them straight into
// reducer types. DecodeEvent then applies reducer.Validate, so Avro and
// JSON input reject the same events. Decoding never panics on bad input:
// errors wrap ErrDecode (malformed) or reducer.ErrInvalid (invalid).
// Encoding fills native maps taken from a pool (goavro keeps none of them)
// and leaves null fields out, which goavro writes as their null default;
// every Encode method appends to its dst argument, so callers can reuse
// buffers.
//
// Importing the package lowers goavro.MaxBlockCount, process-wide, to 65536
// items per array block (see limits.go): with goavro's default a six-byte
// record can demand a 32 GiB allocation.
package schemas
