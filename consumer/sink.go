package consumer

import (
	"context"

	"github.com/sessiond/sessiond/reducer"
)

// Sink receives the updates of one batch. Write returns nil only once every
// update is durably accepted downstream; it may be called concurrently by
// the tasks of different partitions. The emitter package provides the Kafka
// sink.
type Sink interface {
	Write(ctx context.Context, updates []*reducer.Update) error
}
