package reducer

// Kind says which of the three input streams an event belongs to. The order
// of the constants is the tie-break order of docs/design.md §2: cart, then customer,
// then action.
type Kind uint8

// The event kinds.
const (
	KindCart Kind = iota
	KindCustomer
	KindAction
)

// NumKinds is the number of event kinds; Kind values are below it, so a
// [NumKinds] array indexed by Kind holds one entry per input stream.
const NumKinds = int(KindAction) + 1

// String returns the JSON "type" of the kind.
func (k Kind) String() string {
	switch k {
	case KindCart:
		return "cart_changed"
	case KindCustomer:
		return "customer_changed"
	case KindAction:
		return "action"
	}
	return "unknown"
}

// ParseKind maps a JSON "type" to a Kind.
func ParseKind(s string) (Kind, bool) {
	switch s {
	case "cart_changed":
		return KindCart, true
	case "customer_changed":
		return KindCustomer, true
	case "action":
		return KindAction, true
	}
	return 0, false
}

// Event is one input event. Exactly one of Cart, Customer and Action is
// meaningful, chosen by Kind; for carts and customers a nil pointer means
// "unchanged".
type Event struct {
	Kind       Kind
	VisitorID  string
	EventID    string
	OccurredAt int64 // milliseconds since the Unix epoch, UTC

	Cart     *Cart     // KindCart: nil = unchanged, no items = reset
	Customer *Customer // KindCustomer: nil = unchanged, no fields = reset
	Action   *Action   // KindAction: required
}

// Cart is the full content of a visitor's cart. An empty Items slice is a
// known, empty cart. Carts are never modified after they are built: the
// reducer and the updates it emits share them.
type Cart struct {
	Items       []Item
	RestoreLink string
	HasRestore  bool
}

// Item is one line of a cart or an order.
type Item struct {
	// Field order keeps the struct at 80 bytes (strings, then the scalars).
	ProductID         string
	SkuID             string
	Name              string
	PriceCurrencyCode string
	UnitPrice         float64
	Quantity          int32
	HasSku            bool
}
