package schemas

import (
	"errors"
	"math"
	"testing"

	"github.com/sessiond/sessiond/reducer"
)

func TestEventRoundTrip(t *testing.T) {
	t.Parallel()
	c := loadCodecs(t)
	for _, ev := range exampleEvents() {
		t.Run(ev.EventID, func(t *testing.T) {
			if err := reducer.Validate(ev); err != nil {
				t.Fatalf("fixture invalid: %v", err)
			}
			data, err := c.EncodeEvent(nil, ev)
			if err != nil {
				t.Fatalf("EncodeEvent: %v", err)
			}
			got, err := c.DecodeEvent(ev.Kind, data)
			if err != nil {
				t.Fatalf("DecodeEvent: %v", err)
			}
			want := *ev
			want.Cart = normalizeCart(ev.Cart)
			mustEqual(t, "event", got, &want)
		})
	}
}

func TestEncodeEventAppendsToDst(t *testing.T) {
	t.Parallel()
	c := loadCodecs(t)
	ev := exampleEvents()[3]
	alone, err := c.EncodeEvent(nil, ev)
	if err != nil {
		t.Fatal(err)
	}
	dst := append(make([]byte, 0, 256), "prefix"...)
	out, err := c.EncodeEvent(dst, ev)
	if err != nil {
		t.Fatal(err)
	}
	if string(out[:6]) != "prefix" || string(out[6:]) != string(alone) {
		t.Fatalf("EncodeEvent did not append: %q", out)
	}
	if &out[0] != &dst[:1][0] {
		t.Error("EncodeEvent reallocated a buffer with room to spare")
	}
}

// goavro turns timestamp-millis into time.Time and back: every int64 must
// survive that. Events must also lie in RFC 3339's years 0000-9999.
func TestTimestampsRoundTrip(t *testing.T) {
	t.Parallel()
	c := loadCodecs(t)
	const first, last = -62167219200000, 253402300799999 // 0000-01-01, 9999-12-31T23:59:59.999Z
	for _, ms := range []int64{0, 1, -1, -1001, t0, first, last, first - 1, last + 1, math.MaxInt64, math.MinInt64} {
		ev := actionEvent("ts", &reducer.Action{Type: reducer.ActionViewCart})
		ev.OccurredAt = ms
		data, err := c.EncodeEvent(nil, ev)
		if err != nil {
			t.Fatal(err)
		}
		got, err := c.DecodeEvent(reducer.KindAction, data)
		switch {
		case ms < first || ms > last:
			if !errors.Is(err, reducer.ErrInvalid) {
				t.Errorf("occurred_at %d: %v, want rejected", ms, err)
			}
		case err != nil || got.OccurredAt != ms:
			t.Errorf("occurred_at %d came back as %v, %v", ms, got, err)
		}
		u := &reducer.Update{UpdateID: "u", OccurredAt: ms, Action: ev.Action}
		data, _ = c.EncodeUpdate(nil, u)
		if got, err := c.DecodeUpdate(data); err != nil || got.OccurredAt != ms {
			t.Errorf("update occurred_at %d came back as %v, %v", ms, got, err)
		}
	}
}

func TestUpdateRoundTrip(t *testing.T) {
	t.Parallel()
	c := loadCodecs(t)
	action := exampleEvents()[len(exampleEvents())-1].Action
	mp := func(c reducer.Customer) *reducer.Customer {
		c.Present |= reducer.FieldMarketingPermission
		return &c
	}
	for _, tc := range []struct {
		name     string
		in, want *reducer.Update
	}{
		{"unknown parts",
			&reducer.Update{UpdateID: "e3", VisitorID: "v1", OccurredAt: t0, Action: &reducer.Action{Type: reducer.ActionViewCart}},
			nil},
		{"reset parts",
			&reducer.Update{UpdateID: "e3", VisitorID: "v1", OccurredAt: t0, Action: action,
				Cart: &reducer.Cart{}, Customer: &reducer.Customer{}},
			nil},
		{"full parts",
			&reducer.Update{UpdateID: "e3", VisitorID: "v1", OccurredAt: t0, Action: action,
				Cart:     &reducer.Cart{Items: []reducer.Item{shirt, socks, gift}, RestoreLink: "https://r", HasRestore: true},
				Customer: &fullCustomer},
			nil},
		{"marketing_permission is always written",
			&reducer.Update{UpdateID: "e3", VisitorID: "v1", OccurredAt: t0, Action: action, Customer: &someCustomer},
			&reducer.Update{UpdateID: "e3", VisitorID: "v1", OccurredAt: t0, Action: action, Customer: mp(someCustomer)}},
		{"no consent stays false",
			&reducer.Update{UpdateID: "e3", VisitorID: "v1", OccurredAt: t0, Action: action, Customer: &noConsent},
			nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			want := tc.want
			if want == nil {
				w := *tc.in
				w.Cart = normalizeCart(w.Cart)
				want = &w
			}
			data, err := c.EncodeUpdate(nil, tc.in)
			if err != nil {
				t.Fatalf("EncodeUpdate: %v", err)
			}
			got, err := c.DecodeUpdate(data)
			if err != nil {
				t.Fatalf("DecodeUpdate: %v", err)
			}
			mustEqual(t, "update", got, want)
		})
	}
}

// The update of docs/design.md §4's example, read back: the customer carries
// marketing_permission false.
func TestUpdateCustomerWithoutConsent(t *testing.T) {
	t.Parallel()
	c := loadCodecs(t)
	u := &reducer.Update{UpdateID: "e3", VisitorID: "v1", OccurredAt: t0,
		Action: &reducer.Action{Type: reducer.ActionViewCart}, Customer: &someCustomer}
	data, err := c.EncodeUpdate(nil, u)
	if err != nil {
		t.Fatal(err)
	}
	native, _, err := c.Codec(SessionUpdate).NativeFromBinary(data)
	if err != nil {
		t.Fatal(err)
	}
	cust := native.(map[string]any)["customer"].(map[string]any)[branchCustomer].(map[string]any)
	mustEqual(t, "marketing_permission", cust["marketing_permission"], map[string]any{"boolean": false})
	mustEqual(t, "first_name", cust["first_name"], nil)
}

func TestSnapshotRoundTrip(t *testing.T) {
	t.Parallel()
	c := loadCodecs(t)
	recent := []uint64{0, 1, 1 << 63, math.MaxUint64, reducer.HashEventID("e3"), 1<<63 - 1}
	for _, tc := range []struct {
		name string
		s    *reducer.Snapshot
	}{
		{"empty", &reducer.Snapshot{LastSeen: t0}},
		{"reset parts", &reducer.Snapshot{LastSeen: t0, CartAt: t0 - 5, CustomerAt: t0 - 7,
			Cart: &reducer.Cart{}, Customer: &reducer.Customer{}, Recent: recent}},
		{"full", &reducer.Snapshot{LastSeen: t0 + 9, CartAt: t0, CustomerAt: t0 + 1,
			Cart:     &reducer.Cart{Items: []reducer.Item{shirt, socks, gift}, RestoreLink: "https://r", HasRestore: true},
			Customer: &someCustomer, Recent: recent}},
		{"no consent", &reducer.Snapshot{LastSeen: t0, Customer: &noConsent, Recent: []uint64{math.MaxUint64}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			data, err := c.EncodeSnapshot(nil, tc.s)
			if err != nil {
				t.Fatalf("EncodeSnapshot: %v", err)
			}
			got, err := c.DecodeSnapshot(data)
			if err != nil {
				t.Fatalf("DecodeSnapshot: %v", err)
			}
			want := *tc.s
			want.Cart = normalizeCart(want.Cart)
			mustEqual(t, "snapshot", got, &want)
		})
	}
}

// A snapshot written by the reducer comes back able to suppress the same
// duplicate.
func TestSnapshotFromReducer(t *testing.T) {
	t.Parallel()
	c := loadCodecs(t)
	r, err := reducer.New(reducer.DefaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	for _, ev := range exampleEvents() {
		if _, err := r.Apply(ev); err != nil {
			t.Fatal(err)
		}
	}
	for _, v := range []string{"v1", "visitor-ü"} {
		data, err := c.EncodeSnapshot(nil, r.Snapshot(v))
		if err != nil {
			t.Fatal(err)
		}
		s, err := c.DecodeSnapshot(data)
		if err != nil {
			t.Fatal(err)
		}
		want := *r.Snapshot(v)
		want.Cart = normalizeCart(want.Cart)
		mustEqual(t, v, s, &want)
	}
	r2, _ := reducer.New(reducer.DefaultConfig())
	data, _ := c.EncodeSnapshot(nil, r.Snapshot("visitor-ü"))
	s, _ := c.DecodeSnapshot(data)
	r2.Restore("visitor-ü", s)
	res, err := r2.Apply(exampleEvents()[len(exampleEvents())-1])
	if err != nil || !res.Duplicate {
		t.Fatalf("restored snapshot did not suppress a duplicate: %+v, %v", res, err)
	}
}
