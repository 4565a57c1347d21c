// Package reducer folds a visitor's events into a session snapshot and
// produces one session update per accepted action event.
//
// It is pure: no I/O, no clock, no logging. Event time arrives with each
// event (Event.OccurredAt, milliseconds since the Unix epoch, UTC); every
// decision is a function of the events applied so far, so the same events in
// the same order always give the same updates, byte for byte.
//
// The rules it owns (docs/design.md §2–§4):
//
//   - Three-state parts: a nil Cart/Customer on an event means "unchanged";
//     an empty one means "reset" (known and empty); anything else replaces
//     the part exactly, never merged.
//   - Last-writer-wins per part by occurred_at: a mutation older than the
//     one already applied to that part is ignored and reported as late; an
//     equal timestamp replaces (processing order wins).
//   - Duplicate actions: an action whose event_id is among the last
//     RecentActions action ids applied for the visitor produces no update.
//   - Expiry: when an event is more than Config.SessionTTL after the latest
//     occurred_at seen for the visitor, the snapshot is discarded before the
//     event is applied.
//   - Restored state: Restore installs a decoded snapshot; RestoreEncoded
//     keeps a stored one as bytes plus its LastSeen and decodes it with
//     Config.Decode on the visitor's first use, so restoring costs reading,
//     and expiry needs no decoding (encoded.go).
//   - Validation (Validate): the rules every decoder shares, so JSON and Avro
//     input reject the same events. A rejected event has no effect at all.
package reducer
