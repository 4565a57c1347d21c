package schemas

import (
	"bytes"
	"fmt"
	"testing"

	"github.com/sessiond/sessiond/internal/gen"
	"github.com/sessiond/sessiond/reducer"
)

// encodeUpdateGoavro is EncodeUpdate through goavro: the reference the
// direct encoder is tested against.
func (c *Codecs) encodeUpdateGoavro(dst []byte, u *reducer.Update) (out []byte, err error) {
	defer recoverEncode(SessionUpdate, dst, &out, &err)
	if u.Action == nil {
		return dst, fmt.Errorf("encode %s: %w: no action", SessionUpdate, ErrEncode)
	}
	w := getWriter()
	defer w.release()
	rec := w.record()
	rec["update_id"] = u.UpdateID
	rec["visitor_id"] = u.VisitorID
	rec["occurred_at"] = u.OccurredAt
	rec["action"] = w.action(u.Action)
	w.cart(rec, "cart", u.Cart)
	w.customer(rec, "customer", u.Customer, customerOutput)
	return c.encode(dst, SessionUpdate, rec)
}

// checkUpdateEncoding asserts that the direct encoder writes exactly
// goavro's bytes for u, and that goavro decodes them.
func checkUpdateEncoding(t testing.TB, c *Codecs, u *reducer.Update) {
	t.Helper()
	want, err := c.encodeUpdateGoavro(nil, u)
	if err != nil {
		t.Fatalf("%s: goavro: %v", u.UpdateID, err)
	}
	got, err := c.EncodeUpdate([]byte("prefix"), u)
	if err != nil || !bytes.Equal(got[len("prefix"):], want) {
		t.Fatalf("%s: the direct encoding differs from goavro's (%v):\n got %x\nwant %x", u.UpdateID, err, got, want)
	}
	if _, err := c.DecodeUpdate(want); err != nil {
		t.Fatalf("%s: goavro cannot decode the direct encoding: %v", u.UpdateID, err)
	}
}

// updatesOf applies lines' events and returns the updates.
func updatesOf(t testing.TB, evs []*reducer.Event) []*reducer.Update {
	r, _ := reducer.New(reducer.DefaultConfig())
	var out []*reducer.Update
	for _, ev := range evs {
		if res, err := r.Apply(ev); err == nil && res.Update != nil {
			out = append(out, res.Update)
		}
	}
	return out
}

func TestUpdateEncoderGoldens(t *testing.T) {
	t.Parallel()
	c := loadCodecs(t)
	n := 0
	for _, evs := range goldenEvents(t) {
		for _, u := range updatesOf(t, evs) {
			checkUpdateEncoding(t, c, u)
			n++
		}
	}
	t.Logf("%d updates compared", n)
}

// Every action type, orders, placements, update_only, carts and customers.
func TestUpdateEncoderGenerated(t *testing.T) {
	t.Parallel()
	c := loadCodecs(t)
	g, err := gen.New(gen.Config{Seed: 9, Visitors: 300})
	if err != nil {
		t.Fatal(err)
	}
	kinds := map[reducer.ActionType]int{}
	for _, u := range updatesOf(t, g.Take(30000)) {
		checkUpdateEncoding(t, c, u)
		kinds[u.Action.Type]++
	}
	if len(kinds) < reducer.NumActionTypes-1 {
		t.Errorf("only %d action types generated: %v", len(kinds), kinds)
	}
	yes := true
	checkUpdateEncoding(t, c, &reducer.Update{UpdateID: "x", VisitorID: "v", Action: &reducer.Action{
		Type: reducer.ActionViewOther, Categories: []string{}, Placements: []string{"a", "b"}, UpdateOnly: &yes}})
	checkUpdateEncoding(t, c, &reducer.Update{UpdateID: "y", VisitorID: "v", Action: &reducer.Action{Type: reducer.ActionType(200)},
		Customer: &reducer.Customer{}})
}

func FuzzUpdateEncoder(f *testing.F) {
	c := loadCodecs(f)
	g, err := gen.New(gen.Config{Seed: 4, Visitors: 20})
	if err != nil {
		f.Fatal(err)
	}
	for i, u := range updatesOf(f, g.Take(600)) {
		if i%10 == 0 {
			b, _ := c.EncodeUpdate(nil, u)
			f.Add(b)
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		u, err := c.DecodeUpdate(data)
		if err != nil {
			return
		}
		checkUpdateEncoding(t, c, u)
	})
}

// BenchmarkEncodeUpdateGoavro is the goavro path EncodeUpdate replaced, on
// BenchmarkEncodeUpdate's update.
func BenchmarkEncodeUpdateGoavro(b *testing.B) {
	c := loadCodecs(b)
	u := benchUpdate()
	b.ReportAllocs()
	var buf []byte
	for b.Loop() {
		var err error
		if buf, err = c.encodeUpdateGoavro(buf[:0], u); err != nil {
			b.Fatal(err)
		}
	}
	reportRate(b, "updates/s")
}
