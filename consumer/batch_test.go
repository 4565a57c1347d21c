package consumer

import (
	"testing"
	"time"

	"github.com/segmentio/kafka-go"
	"github.com/sessiond/sessiond/reducer"
)

// checkClear asserts that b holds nothing and no flush has begun.
func checkClear(t testing.TB, b *batch) {
	t.Helper()
	if !b.empty() || b.events != 0 {
		t.Errorf("events = %d, want an empty batch", b.events)
	}
	if len(b.updates) != 0 || len(b.sentAt) != 0 || len(b.dead) != 0 || len(b.dirty) != 0 {
		t.Errorf("left over: %d updates, %d times, %d dead, %d dirty",
			len(b.updates), len(b.sentAt), len(b.dead), len(b.dirty))
	}
	if b.dirty == nil {
		t.Error("dirty is nil: the next record would panic")
	}
	if b.next != [numKinds]int64{-1, -1, -1} {
		t.Errorf("next = %v, want no offsets", b.next)
	}
	if b.flushing() || b.sinksDone != 0 || b.deadDone || b.changelogDone || b.counted {
		t.Error("a flush step is marked done")
	}
}

func TestNewBatchIsClear(t *testing.T) {
	checkClear(t, newBatch())
}

func TestBatchReset(t *testing.T) {
	b := newBatch()
	b.events = 3
	b.started = time.Now()
	b.updates = append(b.updates, &reducer.Update{})
	b.sentAt = append(b.sentAt, time.Now())
	b.dead = append(b.dead, kafka.Message{Value: []byte("x")})
	b.dirty["v1"] = struct{}{}
	b.next = [numKinds]int64{4, -1, 9}
	b.markSink(0)
	b.markSink(1)
	b.deadDone, b.changelogDone, b.counted = true, true, true
	dirty := b.dirty

	b.reset()
	checkClear(t, b)
	dirty["v2"] = struct{}{} // the map is reused, not replaced
	if len(b.dirty) != 1 {
		t.Error("reset replaced the dirty map instead of clearing it")
	}
}

func TestBatchFlushing(t *testing.T) {
	tests := []struct {
		name                  string
		sink, dead, changelog bool
		want                  bool
	}{
		{"nothing written", false, false, false, false},
		{"sink written", true, false, false, true},
		{"dead letters written", false, true, false, true},
		{"changelog written", false, false, true, true},
		{"all written", true, true, true, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := newBatch()
			b.events = 1
			if tt.sink {
				b.markSink(0)
			}
			b.deadDone, b.changelogDone = tt.dead, tt.changelog
			if got := b.flushing(); got != tt.want {
				t.Errorf("flushing() = %v, want %v", got, tt.want)
			}
			if b.empty() {
				t.Error("a batch with an event is empty")
			}
		})
	}
}
