package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sessiond/sessiond/reducer"
	"github.com/sessiond/sessiond/schemas/eventjson"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/ from the current output")

// goldenDir holds one folder per case: events.jsonl (stdin), optional
// flags (extra arguments, e.g. --session-ttl=1h), updates.golden.jsonl
// (stdout) and, when lines are rejected, errors.golden.jsonl (stderr).
const goldenDir = "../../testdata"

// TestReduceGolden runs `sessiond reduce` on every case and compares
// stdout and stderr byte for byte. The exit status must be 1 exactly when
// the case has rejected lines.
func TestReduceGolden(t *testing.T) {
	cases, err := filepath.Glob(filepath.Join(goldenDir, "*", "events.jsonl"))
	if err != nil || len(cases) == 0 {
		t.Fatalf("no cases in %s (%v)", goldenDir, err)
	}
	for _, events := range cases {
		dir := filepath.Dir(events)
		t.Run(filepath.Base(dir), func(t *testing.T) {
			in, err := os.ReadFile(events)
			if err != nil {
				t.Fatal(err)
			}
			code, out, errs := reduce(t, in, caseFlags(t, dir)...)
			golden(t, filepath.Join(dir, "updates.golden.jsonl"), out, true)
			golden(t, filepath.Join(dir, "errors.golden.jsonl"), errs, false)
			if want := exitStatus(errs); code != want {
				t.Errorf("exit status %d, want %d", code, want)
			}
		})
	}
}

func exitStatus(stderr []byte) int {
	if len(stderr) > 0 {
		return 1
	}
	return 0
}

// caseFlags reads a case's extra arguments, if any.
func caseFlags(t *testing.T, dir string) []string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, "flags"))
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	return strings.Fields(string(b))
}

// reduce runs `sessiond reduce args...` on in.
func reduce(t testing.TB, in []byte, args ...string) (code int, stdout, stderr []byte) {
	t.Helper()
	var out, errs bytes.Buffer
	code = Main(context.Background(), append([]string{"reduce"}, args...), stdio{in: bytes.NewReader(in), out: &out, err: &errs})
	return code, out.Bytes(), errs.Bytes()
}

// golden compares got with the file at path, or with -update rewrites it.
// An optional golden file that does not exist stands for empty output.
func golden(t *testing.T, path string, got []byte, required bool) {
	t.Helper()
	if *update {
		if len(got) == 0 && !required {
			if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
				t.Fatal(err)
			}
			return
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil && (required || !errors.Is(err, os.ErrNotExist)) {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs (go test -run TestReduceGolden -update rewrites it):\n%s", path, lineDiff(got, want))
	}
}

// lineDiff describes the first lines where got and want differ.
func lineDiff(got, want []byte) string {
	g, w := strings.SplitAfter(string(got), "\n"), strings.SplitAfter(string(want), "\n")
	for i := 0; i < max(len(g), len(w)); i++ {
		var gl, wl string
		if i < len(g) {
			gl = g[i]
		}
		if i < len(w) {
			wl = w[i]
		}
		if gl != wl {
			return fmt.Sprintf("line %d:\n got  %q\n want %q", i+1, gl, wl)
		}
	}
	return "same lines"
}

const (
	goodCart   = `{"type":"cart_changed","visitor_id":"v1","event_id":"c1","occurred_at":"2026-11-27T10:00:00Z","cart":{"items":[{"product_id":"p1","name":"Shirt","quantity":1,"unit_price":10,"price_currency_code":"EUR"}]}}`
	goodAction = `{"type":"action","visitor_id":"v1","event_id":"a1","occurred_at":"2026-11-27T10:00:01Z","action":{"type":"view_cart"}}`
	wantUpdate = `{"update_id":"a1","visitor_id":"v1","occurred_at":"2026-11-27T10:00:01.000Z","action":{"type":"view_cart"},"cart":{"items":[{"product_id":"p1","name":"Shirt","quantity":1,"unit_price":10,"price_currency_code":"EUR"}]},"customer":null}` + "\n"
)

// TestReduceLineEnds checks CRLF line ends and a last line without one.
func TestReduceLineEnds(t *testing.T) {
	for _, in := range []string{
		goodCart + "\n" + goodAction + "\n",
		goodCart + "\r\n" + goodAction + "\r\n",
		goodCart + "\n" + goodAction,
	} {
		code, out, errs := reduce(t, []byte(in))
		if code != 0 || string(out) != wantUpdate || len(errs) != 0 {
			t.Errorf("%q: status %d, stdout %q, stderr %q", in, code, out, errs)
		}
	}
	if code, out, errs := reduce(t, nil); code != 0 || len(out) != 0 || len(errs) != 0 {
		t.Errorf("empty input: status %d, stdout %q, stderr %q", code, out, errs)
	}
}

// TestReduceLongLines checks that lines beyond bufio's default 64 KiB are
// read, and that one beyond maxLine is rejected without stopping the input.
func TestReduceLongLines(t *testing.T) {
	long := strings.Replace(goodCart, `"cart":`, `"padding":"`+strings.Repeat("x", 1<<20)+`","cart":`, 1)
	tooLong := `{"padding":"` + strings.Repeat("x", maxLine) + `"}`
	in := long + "\n" + tooLong + "\n" + goodAction + "\n"
	code, out, errs := reduce(t, []byte(in))
	wantErr := fmt.Sprintf(`{"line":2,"error":"line longer than %d bytes"}`+"\n", maxLine)
	if code != 1 || string(out) != wantUpdate || string(errs) != wantErr {
		t.Errorf("status %d, stdout %q, stderr %q", code, out, errs)
	}
}

func TestReduceUsage(t *testing.T) {
	for _, args := range [][]string{{"--session-ttl=0"}, {"--session-ttl=-1h"}, {"--session-ttl=soon"}, {"events.jsonl"}} {
		if code, _, errs := reduce(t, []byte(goodAction), args...); code != 2 || len(errs) == 0 {
			t.Errorf("%q: status %d, stderr %q; want 2 and a message", args, code, errs)
		}
	}
	t.Setenv("SESSIOND_SESSION_TTL", "1ms")
	late := strings.Replace(goodAction, "10:00:01Z", "10:00:00.002Z", 1)
	if code, out, _ := reduce(t, []byte(goodCart+"\n"+late)); code != 0 || !bytes.Contains(out, []byte(`"cart":null`)) {
		t.Errorf("SESSIOND_SESSION_TTL=1ms: status %d, stdout %q; want the cart expired", code, out)
	}
}

// failWriter fails every write.
type failWriter struct{}

func (failWriter) Write([]byte) (int, error) { return 0, errors.New("disk full") }

func TestReduceWriteError(t *testing.T) {
	var errs bytes.Buffer
	in := strings.Repeat(goodAction+"\n", 1)
	code := Main(context.Background(), []string{"reduce"}, stdio{in: strings.NewReader(in), out: failWriter{}, err: &errs})
	if code != 1 || !strings.Contains(errs.String(), "write stdout: disk full") {
		t.Errorf("status %d, stderr %q", code, errs.String())
	}
}

func TestReduceCancel(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	var out, errs bytes.Buffer
	in := strings.Repeat(goodAction+"\n", 2048)
	if code := Main(ctx, []string{"reduce"}, stdio{in: strings.NewReader(in), out: &out, err: &errs}); code != 1 {
		t.Errorf("status %d after cancel, stderr %q", code, errs.String())
	}
}

// BenchmarkReduce measures the whole command on a generated stream of many
// visitors: per visitor a cart of three items, a customer and four actions.
func BenchmarkReduce(b *testing.B) {
	in := benchInput(b, 20000)
	lines := bytes.Count(in, []byte("\n"))
	b.SetBytes(int64(len(in)))
	b.ReportAllocs()
	for b.Loop() {
		var errs bytes.Buffer
		if code := Main(context.Background(), []string{"reduce"}, stdio{in: bytes.NewReader(in), out: io.Discard, err: &errs}); code != 0 {
			b.Fatalf("status %d: %.200s", code, errs.Bytes())
		}
	}
	b.ReportMetric(float64(lines)*float64(b.N)/b.Elapsed().Seconds(), "lines/s")
}

func benchInput(b *testing.B, visitors int) []byte {
	var buf []byte
	items := []reducer.Item{
		{ProductID: "181503", SkuID: "181505", HasSku: true, Name: "Men's Running Shirt", Quantity: 2, UnitPrice: 123.45, PriceCurrencyCode: "EUR"},
		{ProductID: "34552", SkuID: "39912", HasSku: true, Name: "Men's Training Shoe", Quantity: 1, UnitPrice: 999, PriceCurrencyCode: "EUR"},
		{ProductID: "77001", Name: "Sports Socks", Quantity: 3, UnitPrice: 9.99, PriceCurrencyCode: "EUR"},
	}
	cust := &reducer.Customer{Present: reducer.FieldEmail | reducer.FieldFirstName | reducer.FieldNewsletter, Email: "devnull@nosto.com", FirstName: "Nosto", Newsletter: true}
	const t0 = 1795773600000
	for v := range visitors {
		id := fmt.Sprintf("visitor-%08d", v)
		evs := []reducer.Event{
			{Kind: reducer.KindCart, Cart: &reducer.Cart{Items: items}},
			{Kind: reducer.KindCustomer, Customer: cust},
			{Kind: reducer.KindAction, Action: &reducer.Action{Type: reducer.ActionViewFrontPage}},
			{Kind: reducer.KindAction, Action: &reducer.Action{Type: reducer.ActionViewProduct, ProductID: &items[0].ProductID}},
			{Kind: reducer.KindAction, Action: &reducer.Action{Type: reducer.ActionViewCategory, Categories: []string{"/Men/Shirts"}}},
			{Kind: reducer.KindAction, Action: &reducer.Action{Type: reducer.ActionViewCart}},
		}
		for i := range evs {
			evs[i].VisitorID, evs[i].EventID, evs[i].OccurredAt = id, fmt.Sprintf("%s-%d", id, i), t0+int64(v*10+i)
			buf = append(eventjson.AppendEvent(buf, &evs[i]), '\n')
		}
	}
	return buf
}
