package kclient

import (
	"context"
	"errors"
	"io"
	"math"
	"net"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/cenkalti/backoff/v4"
	"github.com/segmentio/kafka-go"
	"github.com/segmentio/kafka-go/protocol"
	"github.com/segmentio/kafka-go/protocol/createtopics"
	"github.com/segmentio/kafka-go/protocol/initproducerid"
)

// idempotence is the Producer's producer id: from InitProducerId without a
// transactional id, fetched before the first batch and again after a
// broker refuses the id's epoch.
type idempotence struct {
	mu    sync.Mutex
	have  bool
	id    int64
	epoch int16
	off   error           // the cluster refused InitProducerId for good: plain batches
	wait  backoff.BackOff // between failed InitProducerId requests
}

// ok reports whether batches can carry the producer id now.
func (id *idempotence) ok() bool {
	id.mu.Lock()
	defer id.mu.Unlock()
	return id.have && id.off == nil
}

// current returns the producer id and epoch.
func (id *idempotence) current() (int64, int16) {
	id.mu.Lock()
	defer id.mu.Unlock()
	return id.id, id.epoch
}

// invalidate drops the producer id old (a broker refused its epoch): the
// next dispatch fetches a new one.
func (id *idempotence) invalidate(old int64) {
	id.mu.Lock()
	defer id.mu.Unlock()
	if id.id == old {
		id.have = false
	}
}

// ensure fetches a producer id if there is none, unless p is not
// idempotent or the cluster refused for good (then batches go without).
// A transient failure waits a backoff before it returns.
func (id *idempotence) ensure(ctx context.Context, p *Producer) error {
	if !p.idempotent {
		return nil
	}
	if p.txn != nil {
		return p.txn.initialised(id)
	}
	id.mu.Lock()
	if id.have || id.off != nil {
		id.mu.Unlock()
		return nil
	}
	id.mu.Unlock()
	pid, epoch, err := initProducerID(ctx, p.rt, p.addr)
	id.mu.Lock()
	defer id.mu.Unlock()
	switch {
	case err == nil:
		id.have, id.id, id.epoch, id.wait = true, pid, epoch, nil
		return nil
	case refusesIdempotence(err):
		id.off = err
		return nil
	}
	if id.wait == nil {
		id.wait = p.retry.backOff(context.Background())
	}
	d := id.wait.NextBackOff()
	id.mu.Unlock()
	select {
	case <-ctx.Done():
	case <-time.After(d):
	}
	id.mu.Lock()
	return err
}

// Idempotent reports whether the producer's batches carry a producer id
// and sequence numbers, and if not, why (nil: not asked for, or not yet
// known).
func (p *Producer) Idempotent() (bool, error) {
	p.ident.mu.Lock()
	defer p.ident.mu.Unlock()
	return p.idempotent && p.ident.off == nil, p.ident.off
}

// refusesIdempotence reports an InitProducerId answer that will not change:
// no IDEMPOTENT_WRITE permission, or a broker without the API.
func refusesIdempotence(err error) bool {
	return errors.Is(err, kafka.ClusterAuthorizationFailed) || errors.Is(err, kafka.UnsupportedVersion) ||
		errors.Is(err, kafka.TransactionalIDAuthorizationFailed) || errors.Is(err, errNoInitProducerID)
}

var errNoInitProducerID = errors.New("the broker does not support InitProducerId")

// idempotentInit is InitProducerId without a transactional id. kafka-go's
// own request type names a transaction, so its transport would look up a
// transaction coordinator for it (and make the cluster create
// __transaction_state); this one, the same fields under an override of
// its own, goes to any broker, as the Java client sends it.
type idempotentInit struct {
	_                    struct{} `kafka:"min=v2,max=v4,tag"`
	TransactionalID      string   `kafka:"min=v0,max=v4,nullable"`
	TransactionTimeoutMs int32    `kafka:"min=v0,max=v4"`
	ProducerID           int64    `kafka:"min=v3,max=v4"`
	ProducerEpoch        int16    `kafka:"min=v3,max=v4"`
}

// idempotentInitOverride is the override key of idempotentInit, beside
// kafka-go's RawProduceOverride (0).
const idempotentInitOverride protocol.OverrideTypeKey = 0x5e55

func (*idempotentInit) ApiKey() protocol.ApiKey { return protocol.InitProducerId }

func (*idempotentInit) TypeKey() protocol.OverrideTypeKey { return idempotentInitOverride }

func init() {
	protocol.RegisterOverride(&idempotentInit{}, &initproducerid.Response{}, idempotentInitOverride)
}

// initProducerID asks the cluster for an idempotent producer id.
func initProducerID(ctx context.Context, rt kafka.RoundTripper, addr net.Addr) (int64, int16, error) {
	m, err := rt.RoundTrip(ctx, addr, &idempotentInit{TransactionTimeoutMs: -1, ProducerID: -1, ProducerEpoch: -1})
	if err != nil {
		return 0, 0, err
	}
	res := m.(*initproducerid.Response)
	if res.ErrorCode != 0 {
		return 0, 0, kafka.Error(res.ErrorCode)
	}
	return res.ProducerID, res.ProducerEpoch, nil
}

// sequence is one partition's producer id, epoch and next sequence number.
type sequence struct {
	set   bool
	id    int64
	epoch int16
	next  int32
}

// take returns the identity of a batch of n records and advances next,
// starting from the producer's id if the partition has none yet. Sequence
// numbers wrap to 0 after MaxInt32, as Kafka's do.
func (s *sequence) take(ident *idempotence, n int) sequence {
	if !s.set {
		ident.mu.Lock()
		*s = sequence{set: true, id: ident.id, epoch: ident.epoch}
		ident.mu.Unlock()
	}
	out := *s
	s.next = int32((int64(s.next) + int64(n)) % (math.MaxInt32 + 1))
	return out
}

// bump starts the partition's sequence again at 0 with the next epoch
// (KIP-360: a broker accepts a higher epoch of an idempotent producer from
// sequence 0), or, once the epoch is exhausted or the id refused, with the
// next producer id fetched.
func (s *sequence) bump(ident *idempotence, bumps *atomic.Int64) {
	if !s.set {
		return
	}
	bumps.Add(1)
	ident.mu.Lock()
	renew := !ident.have || ident.id != s.id
	ident.mu.Unlock()
	if renew || s.epoch == math.MaxInt16 {
		s.set = false
		return
	}
	s.epoch++
	s.next = 0
}

// Outcome classes of a partition's produce.
type produceClass int

const (
	produceOK         produceClass = iota
	produceTransient               // send the same batch again, later
	produceResequence              // the broker lost the producer's state: new epoch, sequence 0
	produceNewID                   // the producer id's epoch was refused: new id
	producePermanent               // the records fail
)

// classifyProduce sorts a partition's produce error.
func classifyProduce(err error) produceClass {
	var kerr kafka.Error
	switch {
	case err == nil, errors.Is(err, kafka.DuplicateSequenceNumber):
		return produceOK
	case errors.Is(err, kafka.OutOfOrderSequenceNumber), errors.Is(err, kafka.UnknownProducerId):
		return produceResequence
	case errors.Is(err, kafka.InvalidProducerEpoch), errors.Is(err, kafka.ProducerFenced):
		return produceNewID
	case IsPermanent(err):
		return producePermanent
	case errors.As(err, &kerr) && !kerr.Temporary() && kerr != kafka.Unknown:
		return producePermanent // an invalid record, a timestamp out of range, no permission
	}
	return produceTransient // the network, a timeout, a leader that moved, too few replicas
}

// staleMetadata reports an error after which the metadata should be read
// again: the partition's leader moved, is unknown or unreachable.
func staleMetadata(err error) bool {
	var op *net.OpError
	return errors.Is(err, kafka.NotLeaderForPartition) || errors.Is(err, kafka.LeaderNotAvailable) ||
		errors.Is(err, kafka.UnknownTopicOrPartition) || errors.Is(err, kafka.FencedLeaderEpoch) ||
		errors.Is(err, kafka.UnknownLeaderEpoch) || errors.Is(err, kafka.KafkaStorageError) ||
		errors.Is(err, kafka.NotCoordinatorForGroup) || errors.Is(err, kafka.GroupCoordinatorNotAvailable) ||
		errors.Is(err, protocol.ErrNoPartition) || errors.Is(err, protocol.ErrNoTopic) || errors.Is(err, protocol.ErrNoLeader) ||
		errors.Is(err, errNoAnswer) || errors.Is(err, errLeaderMoved) || errors.Is(err, errSuspect) || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE) ||
		errors.Is(err, context.DeadlineExceeded) || errors.As(err, &op)
}

// minRefreshGap coalesces metadata refreshes: errors of many partitions at
// once, or every retry while a broker is down, cost one refresh a second.
const minRefreshGap = time.Second

// RefreshMetadata makes the transport read the cluster's metadata again,
// at once, instead of at its next periodic refresh (kafka-go's MetadataTTL,
// 6 s): called on the errors that mean a leader moved. kafka-go has no
// call for it; an empty CreateTopics request makes its transport refresh
// and wait for the result, and if that request fails (the broker the
// transport sends it to is the one that went away), the transport's
// connection pool is dropped, so that the next request starts from the
// bootstrap brokers with fresh metadata. Calls within a second of the last
// do nothing; it returns at once and refreshes in the background.
func (c *Conn) RefreshMetadata() {
	now := time.Now().UnixNano()
	last := c.lastRefresh.Load()
	if now-last < int64(minRefreshGap) || !c.lastRefresh.CompareAndSwap(last, now) {
		return
	}
	c.life.goRun(func() {
		ctx, cancel := context.WithTimeout(c.life.ctx, 5*time.Second)
		defer cancel()
		if _, err := c.transport.RoundTrip(ctx, kafka.TCP(c.brokers...), emptyCreateTopics()); err != nil && c.life.ctx.Err() == nil {
			c.transport.CloseIdleConnections()
		}
		c.refreshes.Add(1)
	})
}

// MetadataRefreshes counts the refreshes RefreshMetadata started.
func (c *Conn) MetadataRefreshes() int64 { return c.refreshes.Load() }

// emptyCreateTopics creates nothing; kafka-go's transport refreshes its
// metadata after every CreateTopics response.
func emptyCreateTopics() *createtopics.Request { return &createtopics.Request{TimeoutMs: 5000} }
