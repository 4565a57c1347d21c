package emitter

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"sync"

	"github.com/sessiond/sessiond/reducer"
	"github.com/sessiond/sessiond/schemas/eventjson"
)

// FileSink writes updates as JSON lines in exactly the format of `sessiond
// reduce` (docs/design.md §4), so that a backfill can be diffed before it
// is sent. Lines of one visitor are in order; partitions interleave. It is
// safe for concurrent use.
type FileSink struct {
	mu  sync.Mutex
	w   *bufio.Writer
	buf []byte
}

// NewFileSink writes to w; Flush writes out what is buffered.
func NewFileSink(w io.Writer) *FileSink { return &FileSink{w: bufio.NewWriterSize(w, 1<<16)} }

// Name identifies the sink in logs and metrics.
func (s *FileSink) Name() string { return "file" }

// Write appends the updates' lines. It returns once they are handed to the
// writer (Flush then makes them durable).
func (s *FileSink) Write(_ context.Context, updates []*reducer.Update) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, u := range updates {
		s.buf = append(eventjson.AppendUpdate(s.buf[:0], u), '\n')
		if _, err := s.w.Write(s.buf); err != nil {
			return fmt.Errorf("write update: %w", err)
		}
	}
	return nil
}

// Flush writes out the buffered lines.
func (s *FileSink) Flush() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.w.Flush()
}

// CountSink accepts updates and only counts them (a dry run).
type CountSink struct{}

// Name identifies the sink in logs and metrics.
func (CountSink) Name() string { return "dry-run" }

// Write accepts the updates.
func (CountSink) Write(context.Context, []*reducer.Update) error { return nil }
