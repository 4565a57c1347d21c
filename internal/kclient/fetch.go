package kclient

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/segmentio/kafka-go"
	"github.com/segmentio/kafka-go/protocol"
	fetchAPI "github.com/segmentio/kafka-go/protocol/fetch"
)

// FetchBatcher is a kafka.RoundTripper that merges the single-partition
// Fetch requests of many readers into one request per partition leader, as
// the Java consumer fetches all of a member's partitions at once, and hands
// each reader its partition's part of the response. A member reads three
// topic-partitions per task: at 10,000 events/s over 12 partitions that was
// 36 long polls answered every time the upstream producer wrote, thousands
// of requests a second for the broker to serve.
//
// A request waits for a round: the first one starts at once when none is in
// flight; while rounds are in flight (long polls of partitions that have no
// data yet), the requests that come meanwhile go out together gatherWait
// after the first of them, so that a reader that has just been answered is
// never held behind another partition's long poll for longer than that.
// Every other request goes to the transport as it is: not a Fetch, a Fetch
// of several partitions, or one that does not wait (MaxWaitTime 0: a reader
// catching up, whose answer is large and comes at once; merged, the long
// polls of caught-up readers in the same round would wait for that large
// answer to be read). Its rounds and gather timers are the Conn's
// goroutines: they run on the Conn's lifetime, Conn.Close cancels them and
// waits for them, and a merged fetch after Close fails with ErrClosed. It
// is safe for concurrent use.
type FetchBatcher struct {
	life   *lifetime // its Conn's: the rounds' context, and Close's wait
	rt     kafka.RoundTripper
	gather time.Duration

	mu     sync.Mutex
	groups map[fetchGroupKey]*fetchGroup

	fetches, requests atomic.Int64 // for Stats
}

// FetchStats are a FetchBatcher's counts since it was made: the
// single-partition fetches it was asked for and the Fetch requests that
// carried them.
type FetchStats struct{ Fetches, Requests int64 }

// Stats returns the counts so far.
func (b *FetchBatcher) Stats() FetchStats {
	return FetchStats{Fetches: b.fetches.Load(), Requests: b.requests.Load()}
}

// gatherWait is how long a request waits for others while a round is in
// flight.
const gatherWait = time.Millisecond

// maxFetchResponse caps a merged request's total MaxBytes.
const maxFetchResponse = 64 << 20

// fetchGroupKey is what requests must share to be merged.
type fetchGroupKey struct {
	addr      string
	isolation int8
	maxWait   int32
	minBytes  int32
}

// fetchGroup is the requests of one key: the waiting ones and how many
// rounds are in flight.
type fetchGroup struct {
	key      fetchGroupKey
	addr     net.Addr
	queue    []*fetchCall
	inFlight int
	timer    *time.Timer // a round due gatherWait after the first waiting request
}

// fetchCall is one reader's request for one partition.
type fetchCall struct {
	ctx       context.Context
	topic     string
	part      fetchAPI.RequestPartition
	done      chan struct{}
	resp      *fetchAPI.Response
	err       error
	abandoned bool // its reader stopped waiting
}

// FetchBatcher returns the connection's fetch batcher, shared by every
// reader of the process that uses it.
func (c *Conn) FetchBatcher() *FetchBatcher {
	c.fetchOnce.Do(func() {
		c.fetches = &FetchBatcher{life: c.life, rt: c.transport, gather: gatherWait, groups: map[fetchGroupKey]*fetchGroup{}}
	})
	return c.fetches
}

// RoundTrip sends msg: a Fetch of one partition joins a round, anything
// else goes to the transport.
func (b *FetchBatcher) RoundTrip(ctx context.Context, addr net.Addr, msg protocol.Message) (protocol.Message, error) {
	req, ok := msg.(*fetchAPI.Request)
	if !ok || len(req.Topics) != 1 || len(req.Topics[0].Partitions) != 1 || req.SessionID != -1 || req.MaxWaitTime <= 0 {
		return b.rt.RoundTrip(ctx, addr, msg)
	}
	if b.life.isClosed() {
		return nil, ErrClosed
	}
	b.fetches.Add(1)
	c := &fetchCall{ctx: ctx, topic: req.Topics[0].Topic, part: req.Topics[0].Partitions[0], done: make(chan struct{})}
	key := fetchGroupKey{addr: addr.Network() + "://" + addr.String(), isolation: req.IsolationLevel, maxWait: req.MaxWaitTime, minBytes: req.MinBytes}
	b.enqueue(key, addr, c)
	select {
	case <-c.done:
		return c.resp, c.err
	case <-ctx.Done():
		b.mu.Lock()
		c.abandoned = true
		b.mu.Unlock()
		return nil, ctx.Err()
	}
}

// enqueue adds c to its group and starts a round now or arms the gather
// timer.
func (b *FetchBatcher) enqueue(key fetchGroupKey, addr net.Addr, c *fetchCall) {
	b.mu.Lock()
	defer b.mu.Unlock()
	g := b.groups[key]
	if g == nil {
		g = &fetchGroup{key: key, addr: addr}
		b.groups[key] = g
	}
	g.queue = append(g.queue, c)
	b.schedule(g)
}

// schedule starts a round for g's waiting requests when none is in flight,
// else makes sure one starts gatherWait after the first of them. The caller
// holds b.mu.
func (b *FetchBatcher) schedule(g *fetchGroup) {
	if len(g.queue) == 0 {
		return
	}
	if g.inFlight == 0 {
		b.startLocked(g)
		return
	}
	if g.timer != nil {
		return
	}
	if !b.life.add() { // the timer's callback is counted as a goroutine
		b.refuse(g)
		return
	}
	var t *time.Timer
	t = time.AfterFunc(b.gather, func() {
		defer b.life.done()
		b.mu.Lock()
		defer b.mu.Unlock()
		if g.timer == t { // else startLocked stopped it too late: nothing to do
			g.timer = nil
			b.startLocked(g)
		}
	})
	g.timer = t
}

// refuse answers g's waiting requests with ErrClosed. The caller holds
// b.mu.
func (b *FetchBatcher) refuse(g *fetchGroup) {
	b.answer(g.queue, nil, ErrClosed)
	g.queue = nil
}

// startLocked takes g's live waiting requests into a round and sends it.
// The caller holds b.mu.
func (b *FetchBatcher) startLocked(g *fetchGroup) {
	if g.timer != nil {
		if g.timer.Stop() {
			b.life.done() // its callback will never run
		}
		g.timer = nil
	}
	var calls []*fetchCall
	for _, c := range g.queue {
		if c.abandoned || c.ctx.Err() != nil {
			continue
		}
		calls = append(calls, c)
	}
	g.queue = nil
	if len(calls) == 0 {
		return
	}
	ok := b.life.goRun(func() {
		b.round(g, calls)
		b.mu.Lock()
		defer b.mu.Unlock()
		g.inFlight--
		b.schedule(g)
	})
	if !ok {
		b.answer(calls, nil, ErrClosed)
		return
	}
	g.inFlight++
}

// round sends calls, one request per leader, and answers each call.
func (b *FetchBatcher) round(g *fetchGroup, calls []*fetchCall) {
	ctx, cancel := context.WithTimeout(b.life.ctx, time.Duration(g.key.maxWait)*time.Millisecond+produceTimeout)
	defer cancel()
	groups, leaders, err := groupByLeader(ctx, b.rt, g.addr, calls, fetchKey)
	if err != nil {
		b.answer(calls, nil, err)
		return
	}
	var wg sync.WaitGroup
	for i, group := range groups {
		wg.Add(1)
		go func() {
			defer wg.Done()
			b.fetch(ctx, g, group, leaders[i])
		}()
	}
	wg.Wait()
}

// fetchKey is the partition a call fetches.
func fetchKey(c *fetchCall) partitionKey { return partitionKey{c.topic, c.part.Partition} }

// fetch sends one request for calls (one leader) and answers them. The
// request is abandoned if the leader moves while it is in flight.
func (b *FetchBatcher) fetch(ctx context.Context, g *fetchGroup, calls []*fetchCall, leader int32) {
	req := &fetchAPI.Request{ReplicaID: -1, MaxWaitTime: g.key.maxWait, MinBytes: g.key.minBytes,
		IsolationLevel: g.key.isolation, SessionID: -1, SessionEpoch: -1}
	topicAt := map[string]int{}
	var total int64
	for _, c := range calls {
		i, ok := topicAt[c.topic]
		if !ok {
			i = len(req.Topics)
			topicAt[c.topic] = i
			req.Topics = append(req.Topics, fetchAPI.RequestTopic{Topic: c.topic})
		}
		req.Topics[i].Partitions = append(req.Topics[i].Partitions, c.part)
		total += int64(c.part.PartitionMaxBytes)
	}
	req.MaxBytes = int32(min(total, maxFetchResponse))
	b.requests.Add(1)
	keys := make([]partitionKey, len(calls))
	for i, c := range calls {
		keys[i] = fetchKey(c)
	}
	watched, stop := watchLeader(ctx, b.rt, g.addr, keys, leader)
	m, err := b.rt.RoundTrip(watched, g.addr, req)
	stop()
	if err != nil {
		b.answer(calls, nil, movedErr(watched, err))
		return
	}
	b.answer(calls, m.(*fetchAPI.Response), nil)
}

// answer gives every call its partition's part of res, or err.
func (b *FetchBatcher) answer(calls []*fetchCall, res *fetchAPI.Response, err error) {
	parts := map[partitionKey]*fetchAPI.ResponsePartition{}
	if res != nil {
		for ti := range res.Topics {
			t := &res.Topics[ti]
			for pi := range t.Partitions {
				parts[partitionKey{t.Topic, t.Partitions[pi].Partition}] = &t.Partitions[pi]
			}
		}
	}
	for _, c := range calls {
		switch {
		case err != nil:
			c.err = b.life.closedErr(err)
		default:
			p := parts[partitionKey{c.topic, c.part.Partition}]
			if p == nil {
				c.err = fmt.Errorf("fetch %s/%d: %w", c.topic, c.part.Partition, errNoFetchAnswer)
				break
			}
			c.resp = &fetchAPI.Response{ThrottleTimeMs: res.ThrottleTimeMs, ErrorCode: res.ErrorCode, SessionID: res.SessionID,
				Topics: []fetchAPI.ResponseTopic{{Topic: c.topic, Partitions: []fetchAPI.ResponsePartition{*p}}}}
		}
		close(c.done)
	}
}

// errNoFetchAnswer: the response left a partition of the request out.
var errNoFetchAnswer = errors.New("the broker's response does not mention the partition")
