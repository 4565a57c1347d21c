package emitter

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"

	"github.com/sessiond/sessiond/internal/kclient"
	"github.com/sessiond/sessiond/reducer"
)

// updateSink is what the pipeline calls a sink (consumer.Sink).
type updateSink interface {
	Name() string
	Write(ctx context.Context, updates []*reducer.Update) error
}

// UpdateSink is a sink as the pipeline sees it (consumer.Sink's methods).
type UpdateSink = updateSink

// TxnSink is a sink that can write into a transactional producer's
// transactions (exactly-once processing): InTxn returns the sink writing
// through tp. The Kafka sink is one; Nosto's HTTP API cannot be.
type TxnSink interface {
	InTxn(tp *kclient.TxnProducer) UpdateSink
}

// ReferenceHasher wraps a sink so that what it sends carries
// hex(HMAC-SHA256(key, customer_reference)) instead of the shop's raw
// customer id (docs/design.md §3), as Nosto advises for non-guessable
// references. The updates handed in are not changed.
type ReferenceHasher struct {
	inner updateSink
	key   []byte
}

// HashReferences returns sink wrapped by a ReferenceHasher with key.
func HashReferences(sink updateSink, key []byte) *ReferenceHasher {
	return &ReferenceHasher{inner: sink, key: append([]byte(nil), key...)}
}

// InTxn wraps the wrapped sink's transactional form, if it has one (else
// it returns h: the sink writes outside the transaction).
func (h *ReferenceHasher) InTxn(tp *kclient.TxnProducer) UpdateSink {
	if t, ok := h.inner.(TxnSink); ok {
		return &ReferenceHasher{inner: t.InTxn(tp), key: h.key}
	}
	return h
}

// Name is the wrapped sink's.
func (h *ReferenceHasher) Name() string { return h.inner.Name() }

// Write hands the wrapped sink copies of the updates with hashed
// references.
func (h *ReferenceHasher) Write(ctx context.Context, updates []*reducer.Update) error {
	out := make([]*reducer.Update, len(updates))
	for i, u := range updates {
		out[i] = h.hashed(u)
	}
	return h.inner.Write(ctx, out)
}

func (h *ReferenceHasher) hashed(u *reducer.Update) *reducer.Update {
	c := u.Customer
	if c == nil || !c.Has(reducer.FieldCustomerReference) {
		return u
	}
	cc := *c
	cc.CustomerReference = HashReference(h.key, c.CustomerReference)
	uu := *u
	uu.Customer = &cc
	return &uu
}

// HashReference is hex(HMAC-SHA256(key, ref)).
func HashReference(key []byte, ref string) string {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(ref))
	return hex.EncodeToString(m.Sum(nil))
}
