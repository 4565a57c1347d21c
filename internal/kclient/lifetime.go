package kclient

import (
	"context"
	"errors"
	"sync"
)

// ErrClosed is returned by the writes and fetches of a Conn after its
// Close, and by those its Close cut short.
var ErrClosed = errors.New("kclient: connection closed")

// lifetime owns the goroutines a Conn starts for its Producer and
// FetchBatcher: they run on ctx, which close cancels, and close waits for
// every one of them. Once closed it starts nothing more.
type lifetime struct {
	ctx    context.Context
	cancel context.CancelFunc

	mu     sync.Mutex
	closed bool
	wg     sync.WaitGroup
}

func newLifetime() *lifetime {
	ctx, cancel := context.WithCancel(context.Background())
	return &lifetime{ctx: ctx, cancel: cancel}
}

// add counts one more goroutine (or pending timer) that close must wait
// for, and reports false, counting nothing, once closed. Every true is
// matched by one done.
func (l *lifetime) add() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return false
	}
	l.wg.Add(1)
	return true
}

// done ends what add counted.
func (l *lifetime) done() { l.wg.Done() }

// goRun runs fn in a goroutine close waits for, and reports false, running
// nothing, once closed.
func (l *lifetime) goRun(fn func()) bool {
	if !l.add() {
		return false
	}
	go func() {
		defer l.done()
		fn()
	}()
	return true
}

// isClosed reports whether close has been called.
func (l *lifetime) isClosed() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.closed
}

// close refuses new goroutines, cancels ctx and waits for every goroutine
// started. It may be called more than once.
func (l *lifetime) close() {
	l.mu.Lock()
	l.closed = true
	l.mu.Unlock()
	l.cancel()
	l.wg.Wait()
}

// closedErr returns ErrClosed when the lifetime has ended, else err: a
// round cut short by close reports why.
func (l *lifetime) closedErr(err error) error {
	if err != nil && l.ctx.Err() != nil {
		return ErrClosed
	}
	return err
}
