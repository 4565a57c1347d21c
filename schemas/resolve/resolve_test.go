package resolve

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/linkedin/goavro/v2"
)

// rec builds a record schema from field JSON snippets.
func rec(name string, fields ...string) string {
	return `{"type":"record","name":"` + name + `","namespace":"t","fields":[` + strings.Join(fields, ",") + `]}`
}

// resolveDatum writes datum with the writer's schema (goavro), decodes it
// with the writer's schema (goavro) and applies the compiled plan. A
// successful result must also be a value goavro can encode with the
// reader's schema: the plan produced goavro's native form.
func resolveDatum(t *testing.T, writer, reader string, datum any) (any, error) {
	t.Helper()
	wc, err := goavro.NewCodec(writer)
	if err != nil {
		t.Fatalf("writer schema: %v", err)
	}
	rc, err := goavro.NewCodec(reader)
	if err != nil {
		t.Fatalf("reader schema: %v", err)
	}
	bin, err := wc.BinaryFromNative(nil, datum)
	if err != nil {
		t.Fatalf("encode datum: %v", err)
	}
	native, _, err := wc.NativeFromBinary(bin)
	if err != nil {
		t.Fatalf("decode datum: %v", err)
	}
	plan, err := compileText(writer, reader)
	if err != nil {
		return nil, err
	}
	out, err := plan.Apply(native)
	if err != nil {
		return nil, err
	}
	if _, err := rc.BinaryFromNative(nil, out); err != nil {
		t.Fatalf("the result %#v is not the reader's native form: %v", out, err)
	}
	return out, nil
}

func compileText(writer, reader string) (*Plan, error) {
	w, err := Parse(writer)
	if err != nil {
		return nil, err
	}
	r, err := Parse(reader)
	if err != nil {
		return nil, err
	}
	return Compile(w, r)
}

func TestResolutionRules(t *testing.T) {
	t.Parallel()
	nullStr := `["null","string"]`
	cases := []struct {
		name           string
		writer, reader string
		datum          any
		want           any    // when err is ""
		err            string // a substring of the error, naming the field
	}{
		{name: "fields reordered",
			writer: rec("E", `{"name":"b","type":"int"}`, `{"name":"a","type":"string"}`),
			reader: rec("E", `{"name":"a","type":"string"}`, `{"name":"b","type":"int"}`),
			datum:  map[string]any{"a": "x", "b": int32(2)}, want: map[string]any{"a": "x", "b": int32(2)}},
		{name: "writer field the reader lacks is dropped",
			writer: rec("E", `{"name":"a","type":"string"}`, `{"name":"extra","type":{"type":"array","items":"long"}}`),
			reader: rec("E", `{"name":"a","type":"string"}`),
			datum:  map[string]any{"a": "x", "extra": []any{int64(1)}}, want: map[string]any{"a": "x"}},
		{name: "reader field the writer lacks takes its default",
			writer: rec("E", `{"name":"a","type":"string"}`),
			reader: rec("E", `{"name":"a","type":"string"}`, `{"name":"o","type":`+nullStr+`,"default":null}`,
				`{"name":"s","type":"string","default":"d"}`, `{"name":"n","type":"int","default":7}`,
				`{"name":"l","type":{"type":"array","items":"string"},"default":["p"]}`,
				`{"name":"u","type":["string","null"],"default":"first"}`,
				`{"name":"r","type":{"type":"record","name":"R","fields":[{"name":"x","type":"double","default":1.5}]},"default":{}}`),
			datum: map[string]any{"a": "x"},
			want: map[string]any{"a": "x", "o": nil, "s": "d", "n": int32(7), "l": []any{"p"},
				"u": map[string]any{"string": "first"}, "r": map[string]any{"x": 1.5}}},
		{name: "reader field the writer lacks without a default",
			writer: rec("E", `{"name":"a","type":"string"}`),
			reader: rec("E", `{"name":"a","type":"string"}`, `{"name":"required","type":"string"}`),
			datum:  map[string]any{"a": "x"}, err: "field required: the writer's record t.E has no such field"},
		{name: "int promotes to long, float, double",
			writer: rec("E", `{"name":"l","type":"int"}`, `{"name":"f","type":"int"}`, `{"name":"d","type":"int"}`),
			reader: rec("E", `{"name":"l","type":"long"}`, `{"name":"f","type":"float"}`, `{"name":"d","type":"double"}`),
			datum:  map[string]any{"l": int32(3), "f": int32(4), "d": int32(5)},
			want:   map[string]any{"l": int64(3), "f": float32(4), "d": float64(5)}},
		{name: "long promotes to float and double, float to double",
			writer: rec("E", `{"name":"f","type":"long"}`, `{"name":"d","type":"long"}`, `{"name":"g","type":"float"}`),
			reader: rec("E", `{"name":"f","type":"float"}`, `{"name":"d","type":"double"}`, `{"name":"g","type":"double"}`),
			datum:  map[string]any{"f": int64(1 << 40), "d": int64(-9), "g": float32(0.5)},
			want:   map[string]any{"f": float32(1 << 40), "d": float64(-9), "g": 0.5}},
		{name: "string and bytes read as each other",
			writer: rec("E", `{"name":"s","type":"string"}`, `{"name":"b","type":"bytes"}`),
			reader: rec("E", `{"name":"s","type":"bytes"}`, `{"name":"b","type":"string"}`),
			datum:  map[string]any{"s": "héllo", "b": []byte("raw")},
			want:   map[string]any{"s": []byte("héllo"), "b": "raw"}},
		{name: "long cannot be read as int",
			writer: rec("E", `{"name":"q","type":"long"}`), reader: rec("E", `{"name":"q","type":"int"}`),
			datum: map[string]any{"q": int64(1)}, err: "field q: writer type long cannot be read as int"},
		{name: "string cannot be read as double",
			writer: rec("E", `{"name":"p","type":"string"}`), reader: rec("E", `{"name":"p","type":"double"}`),
			datum: map[string]any{"p": "1.5"}, err: "field p: writer type string cannot be read as double"},
		{name: "enum symbol the reader lacks becomes its default",
			writer: rec("E", `{"name":"k","type":{"type":"enum","name":"K","symbols":["a","b","new"]}}`),
			reader: rec("E", `{"name":"k","type":{"type":"enum","name":"K","symbols":["unknown","b","a"],"default":"unknown"}}`),
			datum:  map[string]any{"k": "new"}, want: map[string]any{"k": "unknown"}},
		{name: "enum symbols reordered",
			writer: rec("E", `{"name":"k","type":{"type":"enum","name":"K","symbols":["a","b"]}}`),
			reader: rec("E", `{"name":"k","type":{"type":"enum","name":"K","symbols":["b","a"]}}`),
			datum:  map[string]any{"k": "a"}, want: map[string]any{"k": "a"}},
		{name: "enum symbol the reader lacks, no default",
			writer: rec("E", `{"name":"k","type":{"type":"enum","name":"K","symbols":["a","new"]}}`),
			reader: rec("E", `{"name":"k","type":{"type":"enum","name":"K","symbols":["a"]}}`),
			datum:  map[string]any{"k": "new"}, err: `field k: symbol "new" is not in sessiond's enum t.K`},
		{name: "union branches reordered",
			writer: rec("E", `{"name":"u","type":["null","int","string"]}`),
			reader: rec("E", `{"name":"u","type":["string","int","null"],"default":"x"}`),
			datum:  map[string]any{"u": goavro.Union("int", int32(5))}, want: map[string]any{"u": map[string]any{"int": int32(5)}}},
		{name: "union branch promoted",
			writer: rec("E", `{"name":"u","type":["null","int"]}`), reader: rec("E", `{"name":"u","type":["null","long"]}`),
			datum: map[string]any{"u": goavro.Union("int", int32(5))}, want: map[string]any{"u": map[string]any{"long": int64(5)}}},
		{name: "union null branch",
			writer: rec("E", `{"name":"u","type":["null","int"]}`), reader: rec("E", `{"name":"u","type":["long","null"]}`),
			datum: map[string]any{"u": nil}, want: map[string]any{"u": nil}},
		{name: "plain value read into a union",
			writer: rec("E", `{"name":"u","type":"string"}`), reader: rec("E", `{"name":"u","type":`+nullStr+`}`),
			datum: map[string]any{"u": "s"}, want: map[string]any{"u": map[string]any{"string": "s"}}},
		{name: "union read as a plain value",
			writer: rec("E", `{"name":"u","type":`+nullStr+`}`), reader: rec("E", `{"name":"u","type":"string"}`),
			datum: map[string]any{"u": goavro.Union("string", "s")}, want: map[string]any{"u": "s"}},
		{name: "union read as a plain value: a null datum",
			writer: rec("E", `{"name":"u","type":`+nullStr+`}`), reader: rec("E", `{"name":"u","type":"string"}`),
			datum: map[string]any{"u": nil}, err: "field u: writer type null cannot be read as string"},
		{name: "union branch the reader lacks: only that datum fails",
			writer: rec("E", `{"name":"u","type":["null","string","boolean"]}`), reader: rec("E", `{"name":"u","type":`+nullStr+`}`),
			datum: map[string]any{"u": goavro.Union("boolean", true)}, err: "field u: writer type boolean matches no branch"},
		{name: "union branch the reader lacks: other data pass",
			writer: rec("E", `{"name":"u","type":["null","string","boolean"]}`), reader: rec("E", `{"name":"u","type":`+nullStr+`}`),
			datum: map[string]any{"u": goavro.Union("string", "s")}, want: map[string]any{"u": map[string]any{"string": "s"}}},
		{name: "plain value no reader branch takes",
			writer: rec("E", `{"name":"u","type":"boolean"}`), reader: rec("E", `{"name":"u","type":`+nullStr+`}`),
			datum: map[string]any{"u": true}, err: "field u: writer type boolean matches no branch"},
		{name: "reader field alias reads the writer's old name",
			writer: rec("E", `{"name":"old","type":"string"}`), reader: rec("E", `{"name":"new","type":"string","aliases":["old"]}`),
			datum: map[string]any{"old": "v"}, want: map[string]any{"new": "v"}},
		{name: "named type matched by alias",
			writer: rec("E", `{"name":"c","type":["null",{"type":"record","name":"Basket","fields":[{"name":"n","type":"int"}]}]}`),
			reader: rec("E", `{"name":"c","type":["null",{"type":"record","name":"Cart","aliases":["Basket"],"fields":[{"name":"n","type":"long"}]}]}`),
			datum:  map[string]any{"c": goavro.Union("t.Basket", map[string]any{"n": int32(1)})},
			want:   map[string]any{"c": map[string]any{"t.Cart": map[string]any{"n": int64(1)}}}},
		{name: "named type matched by unqualified name in another namespace",
			writer: `{"type":"record","name":"com.shop.Ev","fields":[{"name":"c","type":{"type":"record","name":"com.shop.Cart","fields":[{"name":"n","type":"int"}]}}]}`,
			reader: rec("E", `{"name":"c","type":{"type":"record","name":"Cart","fields":[{"name":"n","type":"int"}]}}`),
			datum:  map[string]any{"c": map[string]any{"n": int32(1)}}, want: map[string]any{"c": map[string]any{"n": int32(1)}}},
		{name: "named types whose names differ",
			writer: rec("E", `{"name":"c","type":{"type":"record","name":"Basket","fields":[]}}`),
			reader: rec("E", `{"name":"c","type":{"type":"record","name":"Cart","fields":[]}}`),
			datum:  map[string]any{"c": map[string]any{}}, err: "field c: writer type record t.Basket cannot be read as record t.Cart: the names differ"},
		{name: "long read as timestamp-millis",
			writer: rec("E", `{"name":"at","type":"long"}`), reader: rec("E", `{"name":"at","type":{"type":"long","logicalType":"timestamp-millis"}}`),
			datum: map[string]any{"at": int64(1700000000123)}, want: map[string]any{"at": time.UnixMilli(1700000000123).UTC()}},
		{name: "timestamp-micros read as timestamp-millis",
			writer: rec("E", `{"name":"at","type":{"type":"long","logicalType":"timestamp-micros"}}`),
			reader: rec("E", `{"name":"at","type":{"type":"long","logicalType":"timestamp-millis"}}`),
			datum:  map[string]any{"at": time.UnixMilli(1700000000123).UTC()}, want: map[string]any{"at": time.UnixMilli(1700000000123).UTC()}},
		{name: "optional field added inside an array of records",
			writer: rec("E", `{"name":"items","type":{"type":"array","items":{"type":"record","name":"I","fields":[{"name":"q","type":"int"},{"name":"gift","type":["null","boolean"],"default":null}]}}}`),
			reader: rec("E", `{"name":"items","type":{"type":"array","items":{"type":"record","name":"I","fields":[{"name":"sku","type":`+nullStr+`,"default":null},{"name":"q","type":"int"}]}}}`),
			datum:  map[string]any{"items": []any{map[string]any{"q": int32(2), "gift": goavro.Union("boolean", true)}}},
			want:   map[string]any{"items": []any{map[string]any{"q": int32(2), "sku": nil}}}},
		{name: "map values promoted",
			writer: rec("E", `{"name":"m","type":{"type":"map","values":"int"}}`), reader: rec("E", `{"name":"m","type":{"type":"map","values":"double"}}`),
			datum: map[string]any{"m": map[string]any{"a": int32(1)}}, want: map[string]any{"m": map[string]any{"a": 1.0}}},
		{name: "fixed sizes differ",
			writer: rec("E", `{"name":"f","type":{"type":"fixed","name":"F","size":2}}`), reader: rec("E", `{"name":"f","type":{"type":"fixed","name":"F","size":3}}`),
			datum: map[string]any{"f": []byte("ab")}, err: "field f: writer type fixed t.F has size 2"},
		{name: "the top-level record's name is not compared",
			writer: rec("ProducersName", `{"name":"a","type":"string"}`), reader: rec("E", `{"name":"a","type":"string"}`),
			datum: map[string]any{"a": "x"}, want: map[string]any{"a": "x"}},
		{name: "recursive type",
			writer: rec("L", `{"name":"v","type":"int"}`, `{"name":"next","type":["null","L"]}`),
			reader: rec("L", `{"name":"next","type":["null","L"]}`, `{"name":"v","type":"long"}`),
			datum:  map[string]any{"v": int32(1), "next": goavro.Union("t.L", map[string]any{"v": int32(2), "next": nil})},
			want:   map[string]any{"v": int64(1), "next": map[string]any{"t.L": map[string]any{"v": int64(2), "next": nil}}}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := resolveDatum(t, tc.writer, tc.reader, tc.datum)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) || !errors.Is(err, ErrIncompatible) {
					t.Fatalf("error = %v, want one containing %q and wrapping ErrIncompatible", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("got  %#v\nwant %#v", got, tc.want)
			}
		})
	}
}

func TestIdentityPlan(t *testing.T) {
	t.Parallel()
	s := rec("E", `{"name":"a","type":"string"}`, `{"name":"u","type":["null",{"type":"array","items":"int"}]}`,
		`{"name":"k","type":{"type":"enum","name":"K","symbols":["x","y"]}}`,
		`{"name":"at","type":{"type":"long","logicalType":"timestamp-millis"}}`)
	p, err := compileText(s, s)
	if err != nil || !p.Identity() {
		t.Fatalf("same schema: identity %v, err %v", p != nil && p.Identity(), err)
	}
	other := rec("Other", `{"name":"a","type":"string"}`, `{"name":"u","type":["null",{"type":"array","items":"int"}]}`,
		`{"name":"k","type":{"type":"enum","name":"K","symbols":["x","y"]}}`,
		`{"name":"at","type":{"type":"long","logicalType":"timestamp-millis"}}`)
	if p, err := compileText(other, s); err != nil || !p.Identity() {
		t.Fatalf("only the top-level name differs: identity %v, err %v", p != nil && p.Identity(), err)
	}
	for name, w := range map[string]string{
		"enum order":      strings.Replace(s, `["x","y"]`, `["y","x"]`, 1),
		"logical type":    strings.Replace(s, `{"type":"long","logicalType":"timestamp-millis"}`, `"long"`, 1),
		"union order":     strings.Replace(s, `["null",{"type":"array","items":"int"}]`, `[{"type":"array","items":"int"},"null"]`, 1),
		"extra field":     rec("E", `{"name":"a","type":"string"}`, `{"name":"u","type":["null",{"type":"array","items":"int"}]}`, `{"name":"k","type":{"type":"enum","name":"K","symbols":["x","y"]}}`, `{"name":"at","type":{"type":"long","logicalType":"timestamp-millis"}}`, `{"name":"z","type":"int"}`),
		"array promotion": strings.Replace(s, `"items":"int"`, `"items":"long"`, 1),
	} {
		p, err := compileText(w, s)
		if err == nil && p.Identity() {
			t.Errorf("%s: a plan that is not the identity reported identity", name)
		}
	}
}

func TestParseRejects(t *testing.T) {
	t.Parallel()
	for name, s := range map[string]string{
		"not json":        `{`,
		"unknown type":    rec("E", `{"name":"a","type":"Nope"}`),
		"empty union":     rec("E", `{"name":"a","type":[]}`),
		"nested union":    rec("E", `{"name":"a","type":["null",["int"]]}`),
		"repeated field":  rec("E", `{"name":"a","type":"int"}`, `{"name":"a","type":"int"}`),
		"record no name":  `{"type":"record","fields":[]}`,
		"fixed no size":   `{"type":"fixed","name":"F"}`,
		"deep nesting":    strings.Repeat(`{"type":"array","items":`, 100) + `"int"` + strings.Repeat(`}`, 100),
		"defined twice":   rec("E", `{"name":"a","type":{"type":"fixed","name":"F","size":1}}`, `{"name":"b","type":{"type":"fixed","name":"F","size":1}}`),
		"a number":        `3`,
		"enum no symbols": `{"type":"enum","name":"K"}`,
	} {
		if _, err := Parse(s); err == nil {
			t.Errorf("%s: Parse accepted %s", name, s)
		}
	}
}

func TestBadDefaultIsACompileError(t *testing.T) {
	t.Parallel()
	_, err := compileText(rec("E"), rec("E", `{"name":"n","type":"int","default":"seven"}`))
	if err == nil || !strings.Contains(err.Error(), "field n: sessiond's default seven is not a int") {
		t.Fatalf("err = %v", err)
	}
}
