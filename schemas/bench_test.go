package schemas

import (
	"testing"

	"github.com/sessiond/sessiond/reducer"
)

func reportRate(b *testing.B, unit string) {
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), unit)
}

func benchEvents() map[string]*reducer.Event {
	return map[string]*reducer.Event{
		"cart3":    cartEvent("e1", &reducer.Cart{Items: []reducer.Item{shirt, socks, gift}}),
		"customer": customerEvent("e2", &someCustomer),
		"action": actionEvent("e3", &reducer.Action{Type: reducer.ActionViewProduct, ProductID: sp("181503"),
			SkuID: sp("181505"), Placements: []string{"frontpage-nosto-1"}, PageURL: sp("https://shop.example/p/181503")}),
		"action_minimal": actionEvent("e4", &reducer.Action{Type: reducer.ActionViewCart}),
	}
}

func BenchmarkDecode(b *testing.B) {
	c := loadCodecs(b)
	for _, name := range []string{"cart3", "customer", "action", "action_minimal"} {
		ev := benchEvents()[name]
		data, err := c.EncodeEvent(nil, ev)
		if err != nil {
			b.Fatal(err)
		}
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(data)))
			for b.Loop() {
				if _, err := c.DecodeEvent(ev.Kind, data); err != nil {
					b.Fatal(err)
				}
			}
			reportRate(b, "events/s")
		})
	}
}

// BenchmarkGoavroDecode is the floor under BenchmarkDecode: goavro alone,
// building its native maps, without conversion or validation.
func BenchmarkGoavroDecode(b *testing.B) {
	c := loadCodecs(b)
	for _, name := range []string{"cart3", "customer", "action", "action_minimal"} {
		ev := benchEvents()[name]
		s, _ := EventSchema(ev.Kind)
		data, err := c.EncodeEvent(nil, ev)
		if err != nil {
			b.Fatal(err)
		}
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, _, err := c.Codec(s).NativeFromBinary(data); err != nil {
					b.Fatal(err)
				}
			}
			reportRate(b, "events/s")
		})
	}
}

func BenchmarkEncodeEvent(b *testing.B) {
	c := loadCodecs(b)
	for _, name := range []string{"cart3", "customer", "action"} {
		ev := benchEvents()[name]
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			var buf []byte
			for b.Loop() {
				var err error
				if buf, err = c.EncodeEvent(buf[:0], ev); err != nil {
					b.Fatal(err)
				}
			}
			reportRate(b, "events/s")
		})
	}
}

func benchUpdate() *reducer.Update {
	ev := benchEvents()["action"]
	return &reducer.Update{UpdateID: ev.EventID, VisitorID: ev.VisitorID, OccurredAt: ev.OccurredAt, Action: ev.Action,
		Cart: benchEvents()["cart3"].Cart, Customer: &someCustomer}
}

func BenchmarkEncodeUpdate(b *testing.B) {
	c := loadCodecs(b)
	u := benchUpdate()
	b.ReportAllocs()
	var buf []byte
	for b.Loop() {
		var err error
		if buf, err = c.EncodeUpdate(buf[:0], u); err != nil {
			b.Fatal(err)
		}
	}
	reportRate(b, "updates/s")
}

func benchSnapshot() *reducer.Snapshot {
	recent := make([]uint64, reducer.RecentActions)
	for i := range recent {
		recent[i] = reducer.HashEventID(string(rune('a' + i)))
	}
	return &reducer.Snapshot{LastSeen: t0, CartAt: t0, CustomerAt: t0,
		Cart: benchEvents()["cart3"].Cart, Customer: &someCustomer, Recent: recent}
}

func BenchmarkEncodeSnapshot(b *testing.B) {
	c := loadCodecs(b)
	s := benchSnapshot()
	b.ReportAllocs()
	var buf []byte
	for b.Loop() {
		var err error
		if buf, err = c.EncodeSnapshot(buf[:0], s); err != nil {
			b.Fatal(err)
		}
	}
	reportRate(b, "snapshots/s")
}

func BenchmarkDecodeSnapshot(b *testing.B) {
	c := loadCodecs(b)
	data, err := c.EncodeSnapshot(nil, benchSnapshot())
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := c.DecodeSnapshot(data); err != nil {
			b.Fatal(err)
		}
	}
	reportRate(b, "snapshots/s")
}
