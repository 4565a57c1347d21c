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
// suspects remembers the addresses of brokers found frozen, for
// suspectFor, and the dialer refuses to connect to them in that time: a
// control connection then goes to another broker at once (the transport
// tries the next address), and a request for a suspect broker fails fast
// and is retried after a metadata refresh instead of hanging. A read that
// times out only starts a check: a broker may hold a request legitimately
// (an acks=all produce waits for the in-sync replicas), so the check opens
// a fresh connection and sends ApiVersions, which every broker answers at
// once, before authentication and whatever it is busy with; only if that
// gets no answer (not even a closed connection) within verifyTimeout is
// the address suspect. A refused connection marks nothing (it fails fast by
// itself), and the mark expires, so a broker that comes back is used again
// within suspectFor.
type suspects struct {
	mu       sync.Mutex
	until    map[string]time.Time
	checking map[string]bool
	now      func() time.Time
	// verify reports whether the broker at address answers (nil: the
	// ApiVersions check; tests replace it).
	verify func(address string) bool
}

// suspectFor is how long an address found frozen is not dialled, and
// verifyTimeout how long its check waits for an answer.
const (
	suspectFor    = 5 * time.Second
	verifyTimeout = time.Second
)

// errSuspect is a dial refused because the address timed out lately.
var errSuspect = errors.New("not dialled: the broker at this address stopped answering within the last few seconds")

func newSuspects() *suspects {
	s := &suspects{until: map[string]time.Time{}, checking: map[string]bool{}, now: time.Now}
	s.verify = answers
	return s
}

// timedOut checks, in the background and once at a time per address,
// whether the broker at address answers at all, and marks it suspect if
// not.
func (s *suspects) timedOut(address string) {
	s.mu.Lock()
	if s.checking[address] {
		s.mu.Unlock()
		return
	}
	s.checking[address] = true
	s.mu.Unlock()
	go func() {
		alive := s.verify(address)
		s.mu.Lock()
		delete(s.checking, address)
		s.mu.Unlock()
		if !alive {
			s.mark(address)
		}
	}()
}

// apiVersionsV0 is an ApiVersions v0 request (api key 18, correlation id 1,
// client id "sessiond"), the request every broker answers first.
var apiVersionsV0 = []byte{0, 0, 0, 18, 0, 18, 0, 0, 0, 0, 0, 1, 0, 8, 's', 'e', 's', 's', 'i', 'o', 'n', 'd'}

// answers reports whether a broker at address says anything, or closes
// the connection, within verifyTimeout of an ApiVersions request on a
// fresh connection. A TLS listener answers the plaintext request by
// closing the connection: that is an answer too. Only silence (a stopped
// process: the kernel accepts the connection, nobody reads it) is not.
func answers(address string) bool {
	c, err := net.DialTimeout("tcp", address, verifyTimeout)
	if err != nil {
		var ne net.Error
		return !(errors.As(err, &ne) && ne.Timeout()) // refused: the process is gone, not frozen
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(verifyTimeout))
	if _, err := c.Write(apiVersionsV0); err != nil {
		return true
	}
	_, err = c.Read(make([]byte, 1))
	var ne net.Error
	return !(err != nil && errors.As(err, &ne) && ne.Timeout())
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
		c.s.timedOut(c.address)
	}
	return n, err
}
