package kclient

import (
	"context"
	"errors"
	"net"
	"testing"
	"time"
)

// A connection whose read times out (a broker that accepts and never
// answers, as a frozen one does) makes its address suspect: the next dial
// to it is refused at once, a dial to another address is not, and the
// mark expires after suspectFor.
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
