package consumer

import (
	"context"
	"errors"
	"strconv"
	"sync"
	"testing"

	"github.com/segmentio/kafka-go"
)

// pipeRecorder records the pipe's writes and the offsets it hands on.
type pipeRecorder struct {
	mu      sync.Mutex
	written []string // first key of each batch written
	handed  []int64  // offset of each batch handed on
	failAt  int      // the write of this batch (1-based) fails; 0 never
	writes  int
}

func (r *pipeRecorder) write(_ context.Context, msgs []kafka.Message) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.writes++
	if r.writes == r.failAt {
		return errors.New("write abandoned")
	}
	r.written = append(r.written, string(msgs[0].Key))
	return nil
}

func (r *pipeRecorder) then(offsets map[string]map[int]int64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.handed = append(r.handed, offsets["in"][0])
}

func batchWrite(i int) stateWrite {
	return stateWrite{
		msgs:    []kafka.Message{{Key: []byte("b" + strconv.Itoa(i))}},
		offsets: map[string]map[int]int64{"in": {0: int64(i)}},
	}
}

// Batches are written in the order handed off, and each batch's offsets
// are handed on only after its own write.
func TestStatePipeKeepsOrder(t *testing.T) {
	r := &pipeRecorder{}
	p := startStatePipe(context.Background(), r.write, r.then, func(error) {})
	for i := 1; i <= 50; i++ {
		if !p.handOff(context.Background(), batchWrite(i)) {
			t.Fatal("handOff refused")
		}
	}
	if !p.drain() {
		t.Fatal("drain reported a failure")
	}
	if len(r.written) != 50 || len(r.handed) != 50 {
		t.Fatalf("%d written, %d handed on, want 50 each", len(r.written), len(r.handed))
	}
	for i := range 50 {
		if r.written[i] != "b"+strconv.Itoa(i+1) || r.handed[i] != int64(i+1) {
			t.Fatalf("batch %d: wrote %s, handed %d", i+1, r.written[i], r.handed[i])
		}
	}
}

// After a failed write no later batch is written or handed on: the
// changelog never skips a batch and the offsets never pass one.
func TestStatePipeFailureStopsLaterBatches(t *testing.T) {
	r := &pipeRecorder{failAt: 3}
	var failures int
	p := startStatePipe(context.Background(), r.write, r.then, func(error) { failures++ })
	for i := 1; i <= 6; i++ {
		p.handOff(context.Background(), batchWrite(i))
	}
	if p.drain() {
		t.Fatal("drain reported success after a failed write")
	}
	if failures != 1 {
		t.Errorf("onFail called %d times, want 1", failures)
	}
	if len(r.written) != 2 || len(r.handed) != 2 || r.handed[1] != 2 {
		t.Errorf("written %v, handed %v: want batches 1 and 2 only", r.written, r.handed)
	}
}

// handOff gives up when its context ends while the pipe is full.
func TestStatePipeHandOffHonoursContext(t *testing.T) {
	block := make(chan struct{})
	write := func(context.Context, []kafka.Message) error { <-block; return nil }
	p := startStatePipe(context.Background(), write, nil, func(error) {})
	ctx, cancel := context.WithCancel(context.Background())
	for i := 0; i < stateDepth+1; i++ { // one in the writer, stateDepth queued
		p.handOff(ctx, batchWrite(i))
	}
	cancel()
	if p.handOff(ctx, batchWrite(99)) {
		t.Error("handOff queued into a full pipe after its context ended")
	}
	close(block)
	p.drain()
}
