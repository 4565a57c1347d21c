package consumer

import (
	"context"

	"github.com/sessiond/sessiond/reducer"
)

// Sink is one destination of updates. Write returns nil only once every
// update is durably accepted downstream (or, for a sink that dead-letters
// what it cannot deliver, dead-lettered); only then are the batch's
// changelog and offsets written. Write may be called concurrently by the
// tasks of different partitions, and again with the same updates after a
// failure: updates carry their update_id for idempotence. The emitter
// package provides the sinks.
type Sink interface {
	// Name identifies the sink in logs and metrics ("kafka", "nosto").
	Name() string
	Write(ctx context.Context, updates []*reducer.Update) error
}
