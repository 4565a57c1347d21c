package reducer

// ActionType is the kind of page action. ActionUnknown is the Avro enum's
// default symbol: what a reader sees for a type added by a newer producer.
// It is always rejected.
type ActionType uint8

// The action types of docs/design.md §2.
const (
	ActionUnknown ActionType = iota
	ActionViewFrontPage
	ActionViewCart
	ActionViewNotFound
	ActionViewProduct
	ActionViewCategory
	ActionViewSearch
	ActionViewOther
	ActionAddOrder
)

// NumActionTypes is the number of action types, ActionUnknown included.
const NumActionTypes = int(ActionAddOrder) + 1

var actionNames = [...]string{
	ActionUnknown:       "unknown",
	ActionViewFrontPage: "view_front_page",
	ActionViewCart:      "view_cart",
	ActionViewNotFound:  "view_not_found",
	ActionViewProduct:   "view_product",
	ActionViewCategory:  "view_category",
	ActionViewSearch:    "view_search",
	ActionViewOther:     "view_other",
	ActionAddOrder:      "add_order",
}

// ActionTypeNames lists the symbols in enum order (index = ActionType).
func ActionTypeNames() []string { return append([]string(nil), actionNames[:]...) }

// String returns the wire name of the type.
func (t ActionType) String() string {
	if int(t) < len(actionNames) {
		return actionNames[t]
	}
	return "unknown"
}

// ParseActionType maps a wire name to its type; unknown names (including
// "unknown" itself) report false.
func ParseActionType(s string) (ActionType, bool) {
	for i := 1; i < len(actionNames); i++ {
		if actionNames[i] == s {
			return ActionType(i), true
		}
	}
	return ActionUnknown, false
}

// Action is a page action as received. Optional scalars are pointers and
// optional lists nil when absent, so that an update repeats exactly what was
// sent.
type Action struct {
	Type        ActionType
	ProductID   *string
	SkuID       *string
	Categories  []string
	CategoryIDs []string
	SearchTerms []string
	Order       *Order
	Placements  []string
	PageURL     *string
	UpdateOnly  *bool
}

// Order is the payload of an add_order action.
type Order struct {
	OrderNumber      string
	Items            []Item
	ExternalOrderRef *string
	PaymentProvider  *string
	OrderStatus      *string
}
