package kclient

import (
	"context"
	"errors"
	"net"
	"testing"
	"time"
)

// A connection whose read times out at a broker that accepts and never
// answers (as a frozen one does) makes its address suspect once a check on
// a fresh connection gets no answer either: the next dial to it is refused
// at once, a dial to another address is not, and the mark expires after
// suspectFor.
func TestSuspectAddressIsNotDialledUntilItsMarkExpires(t *testing.T) {
	silent, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer silent.Close()
	other, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	s := newSuspects()
	now := time.Now()
	s.now = func() time.Time { return now }
	dial := s.dial((&net.Dialer{Timeout: time.Second}).DialContext)
	ctx := context.Background()

	c, err := dial(ctx, "tcp", silent.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetReadDeadline(time.Now().Add(50 * time.Millisecond))
	if _, err := c.Read(make([]byte, 1)); err == nil {
		t.Fatal("read from a silent listener returned no error")
	}
	waitSuspect(t, s, silent.Addr().String()) // its check (ApiVersions on a fresh connection) got no answer
	if _, err := dial(ctx, "tcp", silent.Addr().String()); !errors.Is(err, errSuspect) {
		t.Fatalf("dial to the address that timed out: %v, want errSuspect", err)
	}
	c2, err := dial(ctx, "tcp", other.Addr().String())
	if err != nil {
		t.Fatalf("dial to another address: %v", err)
	}
	c2.Close()
	now = now.Add(suspectFor)
	c3, err := dial(ctx, "tcp", silent.Addr().String())
	if err != nil {
		t.Fatalf("dial after the mark expired: %v", err)
	}
	c3.Close()
}

// A refused connection or a closed one marks nothing: only a broker that
// holds a request without answering is suspect.
func TestSuspectNotMarkedByAClosedConnection(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() {
		c, err := l.Accept()
		if err == nil {
			c.Close()
		}
	}()
	s := newSuspects()
	dial := s.dial((&net.Dialer{Timeout: time.Second}).DialContext)
	c, err := dial(context.Background(), "tcp", l.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	c.SetReadDeadline(time.Now().Add(2 * time.Second))
	if _, err := c.Read(make([]byte, 1)); err == nil {
		t.Fatal("read from a closed connection returned no error")
	}
	c.Close()
	l.Close()
	if s.suspect(l.Addr().String()) {
		t.Fatal("a closed connection made its address suspect")
	}
}

// waitSuspect waits for address's check to mark it.
func waitSuspect(t *testing.T, s *suspects, address string) {
	t.Helper()
	deadline := time.Now().Add(3 * verifyTimeout)
	for !s.suspect(address) {
		if time.Now().After(deadline) {
			t.Fatalf("%s not suspect %s after the read timed out", address, 3*verifyTimeout)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// A broker that holds one request (an acks=all produce waiting for its
// replicas) but answers a fresh connection is busy, not frozen: its
// address is not made suspect.
func TestSuspectNotMarkedWhenTheBrokerAnswersAFreshConnection(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	go func() {
		first := true
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			if first { // held: never answered
				first = false
				continue
			}
			go func() {
				defer c.Close()
				buf := make([]byte, 64)
				if _, err := c.Read(buf); err == nil {
					c.Write([]byte{0, 0, 0, 4, 0, 0, 0, 1})
				}
			}()
		}
	}()
	s := newSuspects()
	checked := make(chan bool, 1)
	s.verify = func(address string) bool { ok := answers(address); checked <- ok; return ok }
	dial := s.dial((&net.Dialer{Timeout: time.Second}).DialContext)
	c, err := dial(context.Background(), "tcp", l.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetReadDeadline(time.Now().Add(50 * time.Millisecond))
	if _, err := c.Read(make([]byte, 1)); err == nil {
		t.Fatal("the held request was answered")
	}
	select {
	case ok := <-checked:
		if !ok {
			t.Fatal("the check found a broker that answers a fresh connection silent")
		}
	case <-time.After(3 * verifyTimeout):
		t.Fatal("no check after the read timed out")
	}
	if s.suspect(l.Addr().String()) {
		t.Fatal("a busy broker that answers a fresh connection was made suspect")
	}
}
