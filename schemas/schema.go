package schemas

import (
	_ "embed" // the schema files

	"github.com/sessiond/sessiond/reducer"
)

// Schema names one of the embedded Avro schemas.
type Schema uint8

// The schemas, one per file.
const (
	CartChanged     Schema = iota // cart_changed.avsc: topic cart-changed
	CustomerChanged               // customer_changed.avsc: topic customer-changed
	Action                        // action.avsc: topic actions
	SessionUpdate                 // session_update.avsc: topic nosto-session-updates
	Snapshot                      // snapshot.avsc: the <group>-snapshots changelog
	numSchemas
)

var (
	//go:embed cart_changed.avsc
	cartChangedText string
	//go:embed customer_changed.avsc
	customerChangedText string
	//go:embed action.avsc
	actionText string
	//go:embed session_update.avsc
	sessionUpdateText string
	//go:embed snapshot.avsc
	snapshotText string
)

var schemaInfo = [numSchemas]struct{ name, text string }{
	CartChanged:     {"cart_changed", cartChangedText},
	CustomerChanged: {"customer_changed", customerChangedText},
	Action:          {"action", actionText},
	SessionUpdate:   {"session_update", sessionUpdateText},
	Snapshot:        {"snapshot", snapshotText},
}

// All lists every schema, in declaration order.
func All() []Schema { return []Schema{CartChanged, CustomerChanged, Action, SessionUpdate, Snapshot} }

// String returns the schema's file name without ".avsc".
func (s Schema) String() string {
	if s < numSchemas {
		return schemaInfo[s].name
	}
	return "unknown"
}

// File returns the schema's file name in this package, e.g. "action.avsc".
func (s Schema) File() string { return s.String() + ".avsc" }

// Text returns the schema's JSON text exactly as embedded: what a schema
// registry should be given.
func (s Schema) Text() string {
	if s < numSchemas {
		return schemaInfo[s].text
	}
	return ""
}

// EventSchema returns the schema of an input event kind.
func EventSchema(k reducer.Kind) (Schema, bool) {
	switch k {
	case reducer.KindCart:
		return CartChanged, true
	case reducer.KindCustomer:
		return CustomerChanged, true
	case reducer.KindAction:
		return Action, true
	}
	return 0, false
}
