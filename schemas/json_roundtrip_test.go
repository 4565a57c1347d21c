package schemas_test

import (
	"bufio"
	"os"
	"path/filepath"
	"testing"

	"github.com/sessiond/sessiond/internal/gen"
	"github.com/sessiond/sessiond/schemas"
	"github.com/sessiond/sessiond/schemas/eventjson"
)

// TestJSONAvroJSON round-trips every valid event of the golden cases and a
// generated stream from the JSON contract to Avro binary and back: the JSON
// written again must be byte-identical to the canonical form of the input.
func TestJSONAvroJSON(t *testing.T) {
	t.Parallel()
	codecs, err := schemas.Load()
	if err != nil {
		t.Fatal(err)
	}
	check := func(t *testing.T, line []byte) bool {
		t.Helper()
		ev, err := eventjson.DecodeEvent(line)
		if err != nil {
			return false // a bad line of the bad_lines case
		}
		want := eventjson.AppendEvent(nil, ev)
		bin, err := codecs.EncodeEvent(nil, ev)
		if err != nil {
			t.Fatalf("encode %s: %v", line, err)
		}
		back, err := codecs.DecodeEvent(ev.Kind, bin)
		if err != nil {
			t.Fatalf("decode %s: %v", line, err)
		}
		if got := eventjson.AppendEvent(nil, back); string(got) != string(want) {
			t.Errorf("round trip changed the event:\n got %s\nwant %s", got, want)
		}
		return true
	}
	files, _ := filepath.Glob("../testdata/*/events.jsonl")
	n := 0
	for _, f := range files {
		fh, err := os.Open(f)
		if err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(fh)
		sc.Buffer(nil, 1<<20)
		for sc.Scan() {
			if check(t, sc.Bytes()) {
				n++
			}
		}
		fh.Close()
	}
	g, err := gen.New(gen.Config{Seed: 7})
	if err != nil {
		t.Fatal(err)
	}
	for _, ev := range g.Take(20000) {
		if check(t, eventjson.AppendEvent(nil, ev)) {
			n++
		}
	}
	if n < 20000 {
		t.Fatalf("only %d events checked", n)
	}
}
