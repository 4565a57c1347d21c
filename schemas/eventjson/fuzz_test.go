package eventjson

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/sessiond/sessiond/reducer"
)

// seeds are good and bad lines for the fuzzers' corpus.
func seeds() []string {
	return []string{
		designCart, designCustomer, designAction,
		head("cart_changed") + `,"cart":{}}`,
		head("cart_changed") + `,"cart":{"items":[],"restore_link":"https://x/\u00e9"}}`,
		head("customer_changed") + `,"customer":{"first_name":"Zoë","marketing_permission":true,"email":null}}`,
		head("action") + `,"action":{"type":"view_category","categories":["/a"],"category_ids":[],"placements":null,"update_only":true}}`,
		head("action") + `,"action":{"type":"add_order","order":{"order_number":"1","items":[{"product_id":"p","name":"n","quantity":1,"unit_price":1e-7,"price_currency_code":"EUR"}],"order_status":"paid"}}}`,
		head("action") + `,"action":{"type":"view_product","product_id":"\ud83d\ude00","sku_id":"\"<&>"}}`,
		``, `{}`, `[]`, `{"type":"action"`, `{"type":"a\ud800"}`, head("action") + `,"action":{"type":"unknown"}}`,
		head("cart_changed") + `,"cart":{"items":[{"product_id":"p","name":"n","quantity":-1,"unit_price":1,"price_currency_code":"eur"}]}}`,
		"{\"type\":\"\xff\"}",
	}
}

// FuzzDecodeEvent checks that DecodeEvent never panics, rejects only with
// reducer.ErrInvalid, accepts only valid JSON, and that an accepted line
// survives AppendEvent and DecodeEvent unchanged; its update, if any,
// matches the encoding/json reference.
func FuzzDecodeEvent(f *testing.F) {
	for _, s := range seeds() {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, line []byte) {
		ev, err := DecodeEvent(line)
		if err != nil {
			if !errors.Is(err, reducer.ErrInvalid) {
				t.Fatalf("error %q does not wrap reducer.ErrInvalid", err)
			}
			return
		}
		if !json.Valid(line) {
			t.Fatalf("accepted invalid JSON %q", line)
		}
		out := AppendEvent(nil, ev)
		again, err := DecodeEvent(out)
		if err != nil {
			t.Fatalf("%q re-encoded as %s: %v", line, out, err)
		}
		if !eventsEqual(ev, again) {
			t.Fatalf("%q re-encoded as %s decodes differently", line, out)
		}
		if out2 := AppendEvent(nil, again); string(out2) != string(out) {
			t.Fatalf("encoding not stable: %s then %s", out, out2)
		}
		checkUpdate(t, ev)
	})
}

// checkUpdate applies an action event alone and compares its update with
// the encoding/json reference.
func checkUpdate(t *testing.T, ev *reducer.Event) {
	if ev.Kind != reducer.KindAction {
		return
	}
	u := &reducer.Update{UpdateID: ev.EventID, VisitorID: ev.VisitorID, OccurredAt: ev.OccurredAt, Action: ev.Action}
	want, err := referenceUpdate(u)
	if err != nil {
		t.Fatal(err)
	}
	if got := AppendUpdate(nil, u); string(got) != string(want) {
		t.Fatalf("update\n%s\nwant\n%s", got, want)
	}
}

// FuzzScanner checks the scanner against encoding/json on any valid UTF-8
// text: it accepts exactly what json.Valid accepts, except lone surrogates,
// which it rejects on purpose; and it unescapes strings alike.
func FuzzScanner(f *testing.F) {
	for _, s := range append(seeds(), `"a\"\\\/\b\f\n\r\t\u00e9\ud83d\ude00"`, `-0.5e+10`, `[1,[2,{}],"x"]`, `  true `, `"\u0000"`) {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		if !utf8.Valid(b) {
			return
		}
		s := scanner{buf: b, line: string(b)}
		err := s.skip(0)
		if err == nil {
			err = s.end()
		}
		valid := json.Valid(b)
		switch {
		case err == nil && !valid:
			t.Fatalf("scanner accepts invalid JSON %q", b)
		case err != nil && valid && !strings.Contains(err.Error(), "surrogate"):
			t.Fatalf("scanner rejects valid JSON %q: %v", b, err)
		}
		if err != nil || s.peekFrom(0) != '"' {
			return
		}
		s.pos = 0
		s.peek()
		got, err := s.str()
		if err != nil {
			t.Fatalf("str(%q): %v", b, err)
		}
		var want string
		if err := json.Unmarshal(b, &want); err != nil || got != want {
			t.Fatalf("str(%q) = %q, encoding/json reads %q (%v)", b, got, want, err)
		}
	})
}

// peekFrom returns the first non-space byte at or after offset i.
func (s *scanner) peekFrom(i int) byte {
	s.pos = i
	return s.peek()
}

// FuzzAppendString checks AppendString against encoding/json.
func FuzzAppendString(f *testing.F) {
	for _, s := range []string{"", "a\"b\\c", "<&>", "\x00\u2028é😀", "\xff\xc3"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		want, err := jsonString(s)
		if err != nil {
			t.Fatal(err)
		}
		if got := string(AppendString(nil, s)); got != want {
			t.Fatalf("AppendString(%q) = %s, want %s", s, got, want)
		}
	})
}
