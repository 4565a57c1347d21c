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
// included. It writes the Avro binary encoding directly (avro_append.go);
// the output is byte-equal to goavro's (encodeSnapshotGoavro), which the
// tests check.
func (c *Codecs) EncodeSnapshot(dst []byte, s *reducer.Snapshot) ([]byte, error) {
	return appendSnapshot(dst, s), nil
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
