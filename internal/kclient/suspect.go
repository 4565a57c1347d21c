package kclient

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sync"
	"time"
)

// A broker that stops answering without closing its connections (a
// frozen process, a network partition, a host that is gone) costs every
// request sent to it its whole timeout. kafka-go's transport makes that
// worse for the requests that go to "any broker" — metadata, FindCoordinator,
// InitProducerId, CreateTopics: they share one control connection, to a
// bootstrap broker picked at random each time it connects, and a TCP
// connect to a stopped process succeeds (the kernel accepts it), so a
// fresh control connection lands on the frozen broker again one time in
// N and waits for its dial timeout. Meanwhile the transport's cached
// metadata still names the frozen broker as leader, and nothing moves.
//
// suspects remembers the addresses whose connections timed out waiting for
// an answer, for suspectFor, and the dialer refuses to connect to them in
// that time: a control connection then goes to another broker at once (the
// transport tries the next address), and a request for a suspect broker
// fails fast and is retried after a metadata refresh instead of hanging.
// An address is suspect only after a read timed out, never for a refused
// connection (that one fails fast by itself), and the mark expires, so a
// broker that comes back is used again within suspectFor.
type suspects struct {
	mu    sync.Mutex
	until map[string]time.Time
	now   func() time.Time
}

// suspectFor is how long an address that timed out is not dialled.
const suspectFor = 5 * time.Second

// errSuspect is a dial refused because the address timed out lately.
var errSuspect = errors.New("not dialled: the broker at this address stopped answering within the last few seconds")

func newSuspects() *suspects {
	return &suspects{until: map[string]time.Time{}, now: time.Now}
}

// mark makes address suspect for suspectFor.
func (s *suspects) mark(address string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.until[address] = s.now().Add(suspectFor)
}

// suspect reports whether address timed out within suspectFor.
func (s *suspects) suspect(address string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	t, ok := s.until[address]
	if !ok {
		return false
	}
	if !s.now().Before(t) {
		delete(s.until, address)
		return false
	}
	return true
}

// dial wraps a dial function: suspect addresses are refused, and the
// connections made report their read timeouts.
func (s *suspects) dial(next func(ctx context.Context, network, address string) (net.Conn, error)) func(ctx context.Context, network, address string) (net.Conn, error) {
	return func(ctx context.Context, network, address string) (net.Conn, error) {
		if s.suspect(address) {
			return nil, fmt.Errorf("dial %s: %w", address, errSuspect)
		}
		c, err := next(ctx, network, address)
		if err != nil {
			return nil, err
		}
		return &watchedConn{Conn: c, address: address, s: s}, nil
	}
}

// watchedConn marks its address suspect when a read times out.
type watchedConn struct {
	net.Conn
	address string
	s       *suspects
}

func (c *watchedConn) Read(b []byte) (int, error) {
	n, err := c.Conn.Read(b)
	var ne net.Error
	if err != nil && errors.As(err, &ne) && ne.Timeout() {
		c.s.mark(c.address)
	}
	return n, err
}
