package reducer

// Update is the session update emitted for one accepted action: the action
// as received plus the visitor's cart and customer as they stand. A nil
// Cart or Customer is unknown and is emitted as null. Cart and Customer are
// shared with the reducer's state and must not be modified.
type Update struct {
	UpdateID   string // the action's event_id: the idempotency key
	VisitorID  string
	OccurredAt int64 // the action's occurred_at, ms
	Action     *Action
	Cart       *Cart
	Customer   *Customer
	Source     Source // the action's input record, once the consumer read it; not encoded
}
