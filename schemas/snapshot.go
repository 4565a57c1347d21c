package schemas

import (
	"encoding/binary"
	"fmt"

	"github.com/sessiond/sessiond/reducer"
)

// SnapshotVersion is the layout version EncodeSnapshot writes and the only
// one DecodeSnapshot reads.
const SnapshotVersion = 1

// EncodeSnapshot appends the changelog record of s (the value; the key is
// the visitor id) to dst. Parts are written exactly as held, customers
// included. On error it returns dst.
func (c *Codecs) EncodeSnapshot(dst []byte, s *reducer.Snapshot) (out []byte, err error) {
	defer recoverEncode(Snapshot, dst, &out, &err)
	w := getWriter()
	defer w.release()
	recent := make([]byte, 8*len(s.Recent))
	for i, h := range s.Recent {
		binary.LittleEndian.PutUint64(recent[8*i:], h)
	}
	rec := w.record()
	rec["version"] = int32(SnapshotVersion)
	rec["last_seen"] = s.LastSeen
	rec["cart_at"] = s.CartAt
	rec["customer_at"] = s.CustomerAt
	w.cart(rec, "cart", s.Cart)
	w.customer(rec, "customer", s.Customer, customerExact)
	rec["recent"] = recent
	return c.encode(dst, Snapshot, rec)
}

// DecodeSnapshot reads a changelog record written by EncodeSnapshot. A
// record of another layout version returns an error wrapping both
// ErrDecode and ErrSnapshotVersion.
func (c *Codecs) DecodeSnapshot(data []byte) (s *reducer.Snapshot, err error) {
	defer recoverDecode(Snapshot, &s, &err)
	rec, err := c.decode(Snapshot, data)
	if err != nil {
		return nil, err
	}
	var r reader
	if v := r.int(rec, "version"); v != SnapshotVersion && r.err == nil {
		return nil, fmt.Errorf("decode %s: %w: %w %d", Snapshot, ErrDecode, ErrSnapshotVersion, v)
	}
	s = &reducer.Snapshot{
		LastSeen:   r.millis(rec, "last_seen"),
		CartAt:     r.millis(rec, "cart_at"),
		CustomerAt: r.millis(rec, "customer_at"),
		Recent:     r.recent(rec),
	}
	if v := r.union(rec, "cart", branchCart); v != nil {
		s.Cart = r.cart(r.record(v, "cart"))
	}
	if v := r.union(rec, "customer", branchCustomer); v != nil {
		s.Customer = r.customer(r.record(v, "customer"))
	}
	if r.err != nil {
		return nil, fmt.Errorf("decode %s: %w", Snapshot, r.err)
	}
	return s, nil
}

// recent reads the packed action id hashes; none gives nil, as in a fresh
// snapshot.
func (r *reader) recent(rec map[string]any) []uint64 {
	b, ok := rec["recent"].([]byte)
	if !ok || len(b)%8 != 0 {
		r.fail("recent", rec["recent"])
		return nil
	}
	if len(b) == 0 {
		return nil
	}
	out := make([]uint64, len(b)/8)
	for i := range out {
		out[i] = binary.LittleEndian.Uint64(b[8*i:])
	}
	return out
}
