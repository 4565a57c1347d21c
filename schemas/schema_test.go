package schemas

import (
	"encoding/json"
	"os"
	"reflect"
	"regexp"
	"testing"

	"github.com/sessiond/sessiond/reducer"
)

func parseSchema(t *testing.T, s Schema) map[string]any {
	t.Helper()
	var v map[string]any
	if err := json.Unmarshal([]byte(s.Text()), &v); err != nil {
		t.Fatalf("%s: %v", s.File(), err)
	}
	return v
}

func TestEmbeddedTextIsTheFile(t *testing.T) {
	t.Parallel()
	for _, s := range All() {
		b, err := os.ReadFile(s.File())
		if err != nil {
			t.Fatal(err)
		}
		if string(b) != s.Text() || s.Text() == "" {
			t.Errorf("%s: embedded text differs from the file", s.File())
		}
	}
}

func TestEventSchemasHaveTheEnvelope(t *testing.T) {
	t.Parallel()
	ts := map[string]any{"type": "long", "logicalType": "timestamp-millis"}
	for _, k := range []reducer.Kind{reducer.KindCart, reducer.KindCustomer, reducer.KindAction} {
		s, ok := EventSchema(k)
		if !ok || s.String() != k.String() {
			t.Fatalf("EventSchema(%s) = %s, %v", k, s, ok)
		}
		fields := parseSchema(t, s)["fields"].([]any)
		want := []map[string]any{
			{"name": "visitor_id", "type": "string"},
			{"name": "event_id", "type": "string"},
			{"name": "occurred_at", "type": ts},
		}
		for i, w := range want {
			f := fields[i].(map[string]any)
			if f["name"] != w["name"] || !reflect.DeepEqual(f["type"], w["type"]) {
				t.Errorf("%s field %d = %v, want %v", s.File(), i, f, w)
			}
		}
	}
	if _, ok := EventSchema(reducer.Kind(9)); ok {
		t.Error("EventSchema accepted an unknown kind")
	}
}

var snakeCase = regexp.MustCompile(`^[a-z][a-z0-9]*(_[a-z0-9]+)*$`)

// walk calls fn for every JSON object in v, depth first.
func walk(v any, fn func(map[string]any)) {
	switch v := v.(type) {
	case map[string]any:
		fn(v)
		for _, x := range v {
			walk(x, fn)
		}
	case []any:
		for _, x := range v {
			walk(x, fn)
		}
	}
}

func TestFieldRules(t *testing.T) {
	t.Parallel()
	for _, s := range All() {
		root := parseSchema(t, s)
		if root["namespace"] != "com.sessiond" {
			t.Errorf("%s: namespace %v", s.File(), root["namespace"])
		}
		walk(root, func(m map[string]any) {
			if m["type"] == "enum" {
				if d, ok := m["default"].(string); !ok || d != m["symbols"].([]any)[0] {
					t.Errorf("%s: enum %v: default must be its first symbol", s.File(), m["name"])
				}
			}
			fields, ok := m["fields"].([]any)
			if !ok {
				return
			}
			for _, f := range fields {
				f := f.(map[string]any)
				name, _ := f["name"].(string)
				if !snakeCase.MatchString(name) {
					t.Errorf("%s: %v.%s is not snake_case", s.File(), m["name"], name)
				}
				union, ok := f["type"].([]any)
				if !ok {
					continue
				}
				d, hasDefault := f["default"]
				if union[0] != "null" || !hasDefault || d != nil || len(union) != 2 {
					t.Errorf("%s: %v.%s: optional fields are [null, X] with default null", s.File(), m["name"], name)
				}
			}
		})
	}
}

func TestActionTypeSymbols(t *testing.T) {
	t.Parallel()
	for _, s := range []Schema{Action, SessionUpdate} {
		found := false
		walk(parseSchema(t, s), func(m map[string]any) {
			if m["name"] != "ActionType" {
				return
			}
			found = true
			var syms []string
			for _, x := range m["symbols"].([]any) {
				syms = append(syms, x.(string))
			}
			mustEqual(t, s.File()+" symbols", syms, reducer.ActionTypeNames())
			if m["default"] != "unknown" {
				t.Errorf("%s: ActionType default %v", s.File(), m["default"])
			}
		})
		if !found {
			t.Errorf("%s: no ActionType enum", s.File())
		}
	}
}

// definitions collects the named types a schema defines, each with named
// references replaced by their definitions, so that a type defined inline in
// one file and referenced by name in another compares equal.
func definitions(t *testing.T, s Schema) map[string]any {
	t.Helper()
	defs := map[string]any{}
	walk(parseSchema(t, s), func(m map[string]any) {
		if n, ok := m["name"].(string); ok && (m["type"] == "record" || m["type"] == "enum") {
			if _, dup := defs[n]; dup {
				t.Errorf("%s: %s defined twice", s.File(), n)
			}
			defs[n] = m
		}
	})
	for n, d := range defs {
		defs[n] = expand(d, defs)
	}
	return defs
}

func expand(v any, defs map[string]any) any {
	switch v := v.(type) {
	case string:
		if d, ok := defs[v]; ok {
			return expand(d, defs)
		}
		return v
	case map[string]any:
		out := make(map[string]any, len(v))
		for k, x := range v {
			if k == "name" || k == "doc" || k == "symbols" {
				out[k] = x
				continue
			}
			out[k] = expand(x, defs)
		}
		return out
	case []any:
		out := make([]any, len(v))
		for i, x := range v {
			out[i] = expand(x, defs)
		}
		return out
	}
	return v
}

func TestNamedTypesAgreeAcrossFiles(t *testing.T) {
	t.Parallel()
	first := map[string]Schema{}
	defs := map[Schema]map[string]any{}
	for _, s := range All() {
		defs[s] = definitions(t, s)
		for n, d := range defs[s] {
			f, seen := first[n]
			if !seen {
				first[n] = s
				continue
			}
			if !reflect.DeepEqual(d, defs[f][n]) {
				t.Errorf("%s differs between %s and %s", n, f.File(), s.File())
			}
		}
	}
	for _, n := range []string{"Item", "Cart", "Customer", "Action", "ActionType", "Order"} {
		if _, ok := first[n]; !ok {
			t.Errorf("no schema defines %s", n)
		}
	}
}

func TestSchemaNames(t *testing.T) {
	t.Parallel()
	for i, s := range All() {
		if Schema(i) != s || s.Text() == "" || s.File() != s.String()+".avsc" {
			t.Errorf("schema %d: %s %s", i, s, s.File())
		}
	}
	if numSchemas.String() != "unknown" || numSchemas.Text() != "" {
		t.Error("an out-of-range schema has a name or text")
	}
	c := loadCodecs(t)
	if c.Codec(Snapshot) == nil || c.Codec(numSchemas) != nil {
		t.Error("Codec")
	}
}
