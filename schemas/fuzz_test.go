package schemas

import (
	"bytes"
	"testing"

	"github.com/sessiond/sessiond/reducer"
)

// FuzzDecodeEvent feeds DecodeEvent a kind byte and the record bytes. It must
// never panic, and an accepted event must re-encode to bytes that decode to
// an equal event and re-encode to the same bytes.
func FuzzDecodeEvent(f *testing.F) {
	c := loadCodecs(f)
	for _, ev := range exampleEvents() {
		data, err := c.EncodeEvent(nil, ev)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(append([]byte{byte(ev.Kind)}, data...))
	}
	f.Add(append([]byte{byte(reducer.KindAction)}, actionBytes(0)...))
	f.Fuzz(func(t *testing.T, in []byte) {
		if len(in) == 0 {
			return
		}
		kind := reducer.Kind(in[0] % 3)
		ev, err := c.DecodeEvent(kind, in[1:])
		if err != nil {
			return
		}
		b1, err := c.EncodeEvent(nil, ev)
		if err != nil {
			t.Fatalf("re-encode %s: %v", dump(ev), err)
		}
		ev2, err := c.DecodeEvent(kind, b1)
		if err != nil {
			t.Fatalf("decode of a re-encoded event: %v", err)
		}
		mustEqual(t, "re-decoded event", ev2, ev)
		b2, _ := c.EncodeEvent(nil, ev2)
		if !bytes.Equal(b1, b2) {
			t.Fatalf("encoding is not stable:\n% x\n% x", b1, b2)
		}
	})
}

// FuzzDecodeUpdate: DecodeUpdate never panics, and what it accepts
// re-encodes stably. (Update equality is by bytes: updates are not
// validated, so prices may be NaN.)
func FuzzDecodeUpdate(f *testing.F) {
	c := loadCodecs(f)
	for _, ev := range exampleEvents() {
		if ev.Kind != reducer.KindAction {
			continue
		}
		data, err := c.EncodeUpdate(nil, &reducer.Update{UpdateID: ev.EventID, VisitorID: ev.VisitorID,
			OccurredAt: ev.OccurredAt, Action: ev.Action,
			Cart: &reducer.Cart{Items: []reducer.Item{shirt, socks}}, Customer: &someCustomer})
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		u, err := c.DecodeUpdate(in)
		if err != nil {
			return
		}
		b1, err := c.EncodeUpdate(nil, u)
		if err != nil {
			t.Fatalf("re-encode: %v", err)
		}
		u2, err := c.DecodeUpdate(b1)
		if err != nil {
			t.Fatalf("decode of a re-encoded update: %v", err)
		}
		if b2, _ := c.EncodeUpdate(nil, u2); !bytes.Equal(b1, b2) {
			t.Fatalf("encoding is not stable:\n% x\n% x", b1, b2)
		}
	})
}

// FuzzDecodeSnapshot is FuzzDecodeUpdate for changelog records.
func FuzzDecodeSnapshot(f *testing.F) {
	c := loadCodecs(f)
	for _, s := range []*reducer.Snapshot{
		{LastSeen: t0},
		{LastSeen: t0, CartAt: t0, Cart: &reducer.Cart{Items: []reducer.Item{shirt, socks, gift}}, Recent: []uint64{1 << 63, 7}},
		{LastSeen: t0, CustomerAt: t0, Customer: &fullCustomer, Cart: &reducer.Cart{RestoreLink: "r", HasRestore: true}},
	} {
		data, err := c.EncodeSnapshot(nil, s)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		s, err := c.DecodeSnapshot(in)
		if err != nil {
			return
		}
		b1, err := c.EncodeSnapshot(nil, s)
		if err != nil {
			t.Fatalf("re-encode: %v", err)
		}
		s2, err := c.DecodeSnapshot(b1)
		if err != nil {
			t.Fatalf("decode of a re-encoded snapshot: %v", err)
		}
		if b2, _ := c.EncodeSnapshot(nil, s2); !bytes.Equal(b1, b2) {
			t.Fatalf("encoding is not stable:\n% x\n% x", b1, b2)
		}
	})
}
