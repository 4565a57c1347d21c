package schemas

import (
	"errors"
	"math/rand/v2"
	"runtime"
	"testing"

	"github.com/sessiond/sessiond/reducer"
)

// mustReject fails unless decoding data as kind returns an error wrapping
// want.
func mustReject(t *testing.T, c *Codecs, kind reducer.Kind, data []byte, want error) {
	t.Helper()
	ev, err := c.DecodeEvent(kind, data)
	if !errors.Is(err, want) || ev != nil {
		t.Fatalf("DecodeEvent(%s, % x) = %v, %v; want an error wrapping %q", kind, data, dump(ev), err, want)
	}
}

func TestRejectTruncated(t *testing.T) {
	t.Parallel()
	c := loadCodecs(t)
	for _, ev := range exampleEvents() {
		data, err := c.EncodeEvent(nil, ev)
		if err != nil {
			t.Fatal(err)
		}
		for n := 0; n < len(data); n++ {
			mustReject(t, c, ev.Kind, data[:n], ErrDecode)
		}
	}
}

func TestRejectTrailingBytes(t *testing.T) {
	t.Parallel()
	c := loadCodecs(t)
	for _, ev := range exampleEvents() {
		data, _ := c.EncodeEvent(nil, ev)
		mustReject(t, c, ev.Kind, append(data, 0), ErrDecode)
	}
	u, _ := c.EncodeUpdate(nil, &reducer.Update{UpdateID: "u", VisitorID: "v", Action: &reducer.Action{Type: reducer.ActionViewCart}})
	if _, err := c.DecodeUpdate(append(u, 0)); !errors.Is(err, ErrDecode) {
		t.Errorf("DecodeUpdate with a trailing byte: %v", err)
	}
	s, _ := c.EncodeSnapshot(nil, &reducer.Snapshot{})
	if _, err := c.DecodeSnapshot(append(s, 0)); !errors.Is(err, ErrDecode) {
		t.Errorf("DecodeSnapshot with a trailing byte: %v", err)
	}
}

func TestRejectGarbage(t *testing.T) {
	t.Parallel()
	c := loadCodecs(t)
	rng := rand.New(rand.NewPCG(1, 2))
	for i := 0; i < 20000; i++ {
		data := make([]byte, rng.IntN(64))
		for j := range data {
			data[j] = byte(rng.Uint32())
		}
		for _, k := range []reducer.Kind{reducer.KindCart, reducer.KindCustomer, reducer.KindAction} {
			if ev, err := c.DecodeEvent(k, data); err == nil {
				if verr := reducer.Validate(ev); verr != nil {
					t.Fatalf("accepted an invalid event: %v", verr)
				}
			} else if !errors.Is(err, ErrDecode) && !errors.Is(err, reducer.ErrInvalid) {
				t.Fatalf("DecodeEvent(% x): unclassified error %v", data, err)
			}
		}
		_, _ = c.DecodeUpdate(data)
		_, _ = c.DecodeSnapshot(data)
	}
}

// header is visitor_id "v", event_id "e", occurred_at 0.
var header = []byte{2, 'v', 2, 'e', 0}

func actionBytes(enumIndex byte) []byte {
	// type, then the nine optional fields of Action, all null
	return append(append([]byte(nil), header...), enumIndex, 0, 0, 0, 0, 0, 0, 0, 0, 0)
}

func TestRejectEnumIndex(t *testing.T) {
	t.Parallel()
	c := loadCodecs(t)
	ev, err := c.DecodeEvent(reducer.KindAction, actionBytes(2*2)) // view_cart
	if err != nil || ev.Action.Type != reducer.ActionViewCart {
		t.Fatalf("hand-written view_cart: %v, %v", dump(ev), err)
	}
	mustReject(t, c, reducer.KindAction, actionBytes(2*9), ErrDecode)        // index 9: past add_order
	mustReject(t, c, reducer.KindAction, actionBytes(1), ErrDecode)          // index -1
	mustReject(t, c, reducer.KindAction, actionBytes(0), reducer.ErrInvalid) // "unknown"
}

func TestRejectUnionIndex(t *testing.T) {
	t.Parallel()
	c := loadCodecs(t)
	mustReject(t, c, reducer.KindCart, append(append([]byte(nil), header...), 4), ErrDecode) // cart branch 2
	mustReject(t, c, reducer.KindCart, append(append([]byte(nil), header...), 1), ErrDecode) // cart branch -1
	// customer with newsletter = byte 2, not a boolean
	data := append(append([]byte(nil), header...), 2, 0, 0, 0, 0, 2, 2, 0)
	mustReject(t, c, reducer.KindCustomer, data, ErrDecode)
}

// A block count of 2^31-1 items in six bytes must fail fast instead of
// allocating for them.
func TestRejectHugeArray(t *testing.T) {
	t.Parallel()
	c := loadCodecs(t)
	data := append(append([]byte(nil), header...), 2, 0xfe, 0xff, 0xff, 0xff, 0x0f) // cart, items block count
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	mustReject(t, c, reducer.KindCart, data, ErrDecode)
	runtime.ReadMemStats(&after)
	if grew := after.TotalAlloc - before.TotalAlloc; grew > 4<<20 {
		t.Errorf("rejecting a huge block count allocated %d bytes", grew)
	}
	mustReject(t, c, reducer.KindCart, append(append([]byte(nil), header...), 2, 0x80, 0x80, 0x08), ErrDecode) // 65536
}

func TestRejectInvalidEvents(t *testing.T) {
	t.Parallel()
	c := loadCodecs(t)
	item := func(f func(*reducer.Item)) *reducer.Event {
		it := shirt
		f(&it)
		return cartEvent("bad", &reducer.Cart{Items: []reducer.Item{socks, it}})
	}
	for name, ev := range map[string]*reducer.Event{
		"negative quantity": item(func(it *reducer.Item) { it.Quantity = -1 }),
		"zero quantity":     item(func(it *reducer.Item) { it.Quantity = 0 }),
		"lower-case code":   item(func(it *reducer.Item) { it.PriceCurrencyCode = "eur" }),
		"long code":         item(func(it *reducer.Item) { it.PriceCurrencyCode = "EURO" }),
		"negative price":    item(func(it *reducer.Item) { it.UnitPrice = -0.01 }),
		"empty product id":  item(func(it *reducer.Item) { it.ProductID = "" }),
		"bad UTF-8 name":    item(func(it *reducer.Item) { it.Name = "\xff" }),
		"empty visitor":     {Kind: reducer.KindCart, EventID: "e"},
		"empty event id":    {Kind: reducer.KindCustomer, VisitorID: "v"},
		"unknown type":      actionEvent("a", &reducer.Action{Type: reducer.ActionUnknown}),
		"type out of range": actionEvent("a", &reducer.Action{Type: 200}),
		"product missing":   actionEvent("a", &reducer.Action{Type: reducer.ActionViewProduct}),
		"no categories":     actionEvent("a", &reducer.Action{Type: reducer.ActionViewCategory, Categories: []string{}}),
		"no search terms":   actionEvent("a", &reducer.Action{Type: reducer.ActionViewSearch}),
		"order missing":     actionEvent("a", &reducer.Action{Type: reducer.ActionAddOrder}),
		"order bad item": actionEvent("a", &reducer.Action{Type: reducer.ActionAddOrder,
			Order: &reducer.Order{OrderNumber: "1", Items: []reducer.Item{{ProductID: "p", Quantity: 1, PriceCurrencyCode: "E1R"}}}}),
		"bad UTF-8 email": customerEvent("c", &reducer.Customer{Present: reducer.FieldEmail, Email: "a\xc0"}),
	} {
		t.Run(name, func(t *testing.T) {
			data, err := c.EncodeEvent(nil, ev)
			if err != nil {
				t.Fatalf("EncodeEvent: %v", err)
			}
			mustReject(t, c, ev.Kind, data, reducer.ErrInvalid)
		})
	}
}

func TestRejectUnknownKind(t *testing.T) {
	t.Parallel()
	c := loadCodecs(t)
	mustReject(t, c, reducer.Kind(3), actionBytes(4), ErrKind)
	if _, err := c.EncodeEvent(nil, &reducer.Event{Kind: 7}); !errors.Is(err, ErrKind) {
		t.Errorf("EncodeEvent of kind 7: %v", err)
	}
}

func TestEncodeWithoutAction(t *testing.T) {
	t.Parallel()
	c := loadCodecs(t)
	dst := []byte("keep")
	out, err := c.EncodeEvent(dst, &reducer.Event{Kind: reducer.KindAction, VisitorID: "v", EventID: "e"})
	if !errors.Is(err, ErrEncode) || string(out) != "keep" {
		t.Errorf("EncodeEvent without action: %q, %v", out, err)
	}
	out, err = c.EncodeUpdate(dst, &reducer.Update{UpdateID: "u"})
	if !errors.Is(err, ErrEncode) || string(out) != "keep" {
		t.Errorf("EncodeUpdate without action: %q, %v", out, err)
	}
}

func TestRejectSnapshotVersion(t *testing.T) {
	t.Parallel()
	c := loadCodecs(t)
	data, err := c.EncodeSnapshot(nil, &reducer.Snapshot{LastSeen: t0})
	if err != nil {
		t.Fatal(err)
	}
	data[0] = 2 * 2 // version 2
	s, err := c.DecodeSnapshot(data)
	if !errors.Is(err, ErrSnapshotVersion) || !errors.Is(err, ErrDecode) || s != nil {
		t.Fatalf("DecodeSnapshot of version 2: %v, %v", s, err)
	}
}

func TestRecoverClearsResult(t *testing.T) {
	t.Parallel()
	v, err := func() (v *int, err error) {
		defer recoverDecode(Action, &v, &err)
		v = new(int)
		panic("boom")
	}()
	if v != nil || !errors.Is(err, ErrDecode) {
		t.Fatalf("recoverDecode: %v, %v", v, err)
	}
	out, err := func() (out []byte, err error) {
		defer recoverEncode(Action, []byte("dst"), &out, &err)
		out = []byte("partial")
		panic("boom")
	}()
	if string(out) != "dst" || !errors.Is(err, ErrEncode) {
		t.Fatalf("recoverEncode: %q, %v", out, err)
	}
}

func TestReaderRejectsWrongShapes(t *testing.T) {
	t.Parallel()
	var r reader
	m := map[string]any{"s": 1, "u": map[string]any{"int": 1}, "a": []any{1}}
	_ = r.str(m, "s")
	if !errors.Is(r.err, ErrDecode) {
		t.Fatalf("str of an int: %v", r.err)
	}
	for name, read := range map[string]func(r *reader){
		"union branch":  func(r *reader) { r.optStr(m, "u") },
		"array element": func(r *reader) { r.optStrings(map[string]any{"l": map[string]any{"array": []any{1}}}, "l") },
		"record":        func(r *reader) { r.record(m["a"], "a") },
		"item":          func(r *reader) { r.items(m["a"].([]any), "a") },
		"millis":        func(r *reader) { r.millis(m, "s") },
		"recent":        func(r *reader) { r.recent(map[string]any{"recent": []byte{1, 2, 3}}) },
	} {
		r := reader{}
		read(&r)
		if !errors.Is(r.err, ErrDecode) {
			t.Errorf("%s: %v", name, r.err)
		}
	}
}
