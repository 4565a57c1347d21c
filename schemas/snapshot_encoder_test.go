package schemas

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"os"
	"path/filepath"
	"testing"

	"github.com/sessiond/sessiond/internal/gen"
	"github.com/sessiond/sessiond/reducer"
	"github.com/sessiond/sessiond/schemas/eventjson"
)

// encodeSnapshotGoavro is EncodeSnapshot through goavro: the reference the
// direct encoder is tested against.
func (c *Codecs) encodeSnapshotGoavro(dst []byte, s *reducer.Snapshot) (out []byte, err error) {
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

// checkSnapshotEncoding asserts that the direct encoder writes exactly
// goavro's bytes for s, and that goavro decodes them.
func checkSnapshotEncoding(t testing.TB, c *Codecs, id string, s *reducer.Snapshot) {
	t.Helper()
	want, err := c.encodeSnapshotGoavro(nil, s)
	if err != nil {
		t.Fatalf("%s: goavro: %v", id, err)
	}
	got, _ := c.EncodeSnapshot([]byte("prefix"), s)
	if !bytes.Equal(got[len("prefix"):], want) {
		t.Fatalf("%s: the direct encoding differs from goavro's:\n got %x\nwant %x", id, got[6:], want)
	}
	if _, err := c.DecodeSnapshot(got[len("prefix"):]); err != nil {
		t.Fatalf("%s: goavro cannot decode the direct encoding: %v", id, err)
	}
}

// Byte equality over the snapshots of every golden case, event by event.
func TestSnapshotEncoderGoldens(t *testing.T) {
	t.Parallel()
	c := loadCodecs(t)
	n := 0
	for _, evs := range goldenEvents(t) {
		r, _ := reducer.New(reducer.DefaultConfig())
		for _, ev := range evs {
			if _, err := r.Apply(ev); err != nil {
				continue
			}
			checkSnapshotEncoding(t, c, ev.EventID, r.Snapshot(ev.VisitorID))
			n++
		}
	}
	t.Logf("%d snapshots compared", n)
}

// goldenEvents returns the decodable events of every golden case, per case.
func goldenEvents(t testing.TB) [][]*reducer.Event {
	t.Helper()
	cases, err := filepath.Glob("../testdata/*/events.jsonl")
	if err != nil || len(cases) == 0 {
		t.Fatalf("no golden cases: %v", err)
	}
	var out [][]*reducer.Event
	for _, path := range cases {
		f, err := os.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		var evs []*reducer.Event
		sc := bufio.NewScanner(f)
		sc.Buffer(nil, 16<<20)
		for sc.Scan() {
			if ev, err := eventjson.DecodeEvent(sc.Bytes()); err == nil { // bad_lines has others
				evs = append(evs, ev)
			}
		}
		f.Close()
		out = append(out, evs)
	}
	return out
}

// Byte equality over generated streams: carts, resets, customers, orders,
// up to 32 remembered actions.
func TestSnapshotEncoderGenerated(t *testing.T) {
	t.Parallel()
	c := loadCodecs(t)
	g, err := gen.New(gen.Config{Seed: 7, Visitors: 300})
	if err != nil {
		t.Fatal(err)
	}
	r, _ := reducer.New(reducer.DefaultConfig())
	for i, ev := range g.Take(30000) {
		if _, err := r.Apply(ev); err != nil {
			continue
		}
		if i%7 == 0 {
			checkSnapshotEncoding(t, c, ev.EventID, r.Snapshot(ev.VisitorID))
		}
	}
}

// FuzzSnapshotEncoder: any bytes goavro decodes as a snapshot re-encode to
// the same bytes through both encoders.
func FuzzSnapshotEncoder(f *testing.F) {
	c := loadCodecs(f)
	g, err := gen.New(gen.Config{Seed: 3, Visitors: 20})
	if err != nil {
		f.Fatal(err)
	}
	r, _ := reducer.New(reducer.DefaultConfig())
	for i, ev := range g.Take(400) {
		if _, err := r.Apply(ev); err == nil && i%20 == 0 {
			b, _ := c.EncodeSnapshot(nil, r.Snapshot(ev.VisitorID))
			f.Add(b)
		}
	}
	f.Add(binary.AppendUvarint(nil, 2))
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := c.DecodeSnapshot(data)
		if err != nil {
			return
		}
		checkSnapshotEncoding(t, c, "fuzzed", s)
	})
}

// BenchmarkEncodeSnapshotGoavro is the goavro path EncodeSnapshot replaced,
// for comparison with BenchmarkEncodeSnapshot.
func BenchmarkEncodeSnapshotGoavro(b *testing.B) {
	c := loadCodecs(b)
	s := benchSnapshot()
	b.ReportAllocs()
	var buf []byte
	for b.Loop() {
		var err error
		if buf, err = c.encodeSnapshotGoavro(buf[:0], s); err != nil {
			b.Fatal(err)
		}
	}
	reportRate(b, "snapshots/s")
}
