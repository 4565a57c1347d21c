package resolve

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
)

// Kind is an Avro type.
type Kind uint8

// The Avro types.
const (
	Null Kind = iota
	Boolean
	Int
	Long
	Float
	Double
	Bytes
	String
	Record
	Enum
	Array
	Map
	Union
	Fixed
)

var kindNames = [...]string{"null", "boolean", "int", "long", "float", "double", "bytes", "string",
	"record", "enum", "array", "map", "union", "fixed"}

func (k Kind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return "invalid"
}

// Type is one node of a parsed schema. Named types are shared: a reference
// to a name points at its definition, so a recursive schema is a cyclic
// graph.
type Type struct {
	Kind    Kind
	Name    string   // full name of a record, enum or fixed
	Aliases []string // full names
	// Logical is the logical type goavro applies ("timestamp-millis",
	// "timestamp-micros", "time-millis", "time-micros", "date", "decimal"),
	// or "" (unknown logical types are ignored, as goavro ignores them).
	Logical  string
	Scale    int      // decimal
	Fields   []*Field // record
	Symbols  []string // enum
	Default  string   // enum default symbol, when HasDefault
	HasDef   bool     // enum has a default symbol
	Items    *Type    // array
	Values   *Type    // map
	Branches []*Type  // union
	Size     int      // fixed
}

// Field is one field of a record.
type Field struct {
	Name       string
	Aliases    []string
	Type       *Type
	Default    any // the JSON default, decoded with json.Number
	HasDefault bool
}

// Parse reads an Avro schema in its JSON form.
func Parse(text string) (*Type, error) {
	d := json.NewDecoder(bytes.NewReader([]byte(text)))
	d.UseNumber()
	var v any
	if err := d.Decode(&v); err != nil {
		return nil, fmt.Errorf("parse schema: %w", err)
	}
	p := parser{names: map[string]*Type{}}
	t, err := p.parse(v, "")
	if err != nil {
		return nil, fmt.Errorf("parse schema: %w", err)
	}
	return t, nil
}

type parser struct {
	names map[string]*Type
	depth int
}

// maxDepth bounds nesting, so that a hostile schema cannot exhaust the stack.
const maxDepth = 64

var primitives = map[string]Kind{"null": Null, "boolean": Boolean, "int": Int, "long": Long,
	"float": Float, "double": Double, "bytes": Bytes, "string": String}

// goavroLogical lists the logical types goavro decodes to other Go types;
// it ignores every other logical type.
var goavroLogical = map[Kind]map[string]bool{
	Long:  {"timestamp-millis": true, "timestamp-micros": true, "time-micros": true},
	Int:   {"time-millis": true, "date": true},
	Bytes: {"decimal": true},
	Fixed: {"decimal": true},
}

func (p *parser) parse(v any, ns string) (*Type, error) {
	p.depth++
	defer func() { p.depth-- }()
	if p.depth > maxDepth {
		return nil, fmt.Errorf("nested deeper than %d", maxDepth)
	}
	switch v := v.(type) {
	case string:
		return p.named(v, ns)
	case []any:
		u := &Type{Kind: Union}
		for _, b := range v {
			t, err := p.parse(b, ns)
			if err != nil {
				return nil, err
			}
			if t.Kind == Union {
				return nil, fmt.Errorf("a union directly inside a union")
			}
			u.Branches = append(u.Branches, t)
		}
		if len(u.Branches) == 0 {
			return nil, fmt.Errorf("an empty union")
		}
		return u, nil
	case map[string]any:
		return p.object(v, ns)
	}
	return nil, fmt.Errorf("unexpected %T where a type is expected", v)
}

// named resolves a primitive name or a reference to a named type.
func (p *parser) named(name, ns string) (*Type, error) {
	if k, ok := primitives[name]; ok {
		return &Type{Kind: k}, nil
	}
	if t, ok := p.names[fullName(name, ns)]; ok {
		return t, nil
	}
	if t, ok := p.names[name]; ok {
		return t, nil
	}
	return nil, fmt.Errorf("unknown type %q", name)
}

func (p *parser) object(m map[string]any, ns string) (*Type, error) {
	switch typ := m["type"].(type) {
	case string:
		switch typ {
		case "record", "error":
			return p.record(m, ns)
		case "enum":
			return p.enum(m, ns)
		case "fixed":
			t, err := p.define(m, ns, Fixed)
			if err != nil {
				return nil, err
			}
			size, err := intAttr(m, "size")
			t.Size = size
			p.logical(t, m)
			return t, err
		case "array":
			items, err := p.parse(m["items"], ns)
			return &Type{Kind: Array, Items: items}, err
		case "map":
			values, err := p.parse(m["values"], ns)
			return &Type{Kind: Map, Values: values}, err
		}
		t, err := p.named(typ, ns)
		if err != nil {
			return nil, err
		}
		if t.Kind <= String { // a primitive, perhaps with a logical type: a fresh node
			t = &Type{Kind: t.Kind}
			p.logical(t, m)
		}
		return t, nil
	case map[string]any, []any:
		return p.parse(typ, ns)
	}
	return nil, fmt.Errorf("a type object without a valid \"type\"")
}

func (p *parser) logical(t *Type, m map[string]any) {
	lt, _ := m["logicalType"].(string)
	if !goavroLogical[t.Kind][lt] {
		return
	}
	t.Logical = lt
	if lt == "decimal" {
		t.Scale, _ = intAttr(m, "scale")
	}
}

// define registers a new named type and returns it.
func (p *parser) define(m map[string]any, ns string, k Kind) (*Type, error) {
	name, _ := m["name"].(string)
	if name == "" {
		return nil, fmt.Errorf("a %s without a name", k)
	}
	if space, ok := m["namespace"].(string); ok && !strings.Contains(name, ".") {
		ns = space
	}
	full := fullName(name, ns)
	if _, dup := p.names[full]; dup {
		return nil, fmt.Errorf("type %q defined twice", full)
	}
	t := &Type{Kind: k, Name: full, Aliases: aliases(m, namespaceOf(full))}
	p.names[full] = t
	return t, nil
}

func (p *parser) record(m map[string]any, ns string) (*Type, error) {
	t, err := p.define(m, ns, Record)
	if err != nil {
		return nil, err
	}
	fields, ok := m["fields"].([]any)
	if !ok {
		return nil, fmt.Errorf("record %s: no fields array", t.Name)
	}
	inner := namespaceOf(t.Name)
	seen := map[string]bool{}
	for _, f := range fields {
		fm, ok := f.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("record %s: a field that is not an object", t.Name)
		}
		name, _ := fm["name"].(string)
		if name == "" || seen[name] {
			return nil, fmt.Errorf("record %s: field name %q missing or repeated", t.Name, name)
		}
		seen[name] = true
		ft, err := p.parse(fm["type"], inner)
		if err != nil {
			return nil, fmt.Errorf("record %s: field %s: %w", t.Name, name, err)
		}
		def, has := fm["default"]
		t.Fields = append(t.Fields, &Field{Name: name, Aliases: aliases(fm, ""), Type: ft, Default: def, HasDefault: has})
	}
	return t, nil
}

func (p *parser) enum(m map[string]any, ns string) (*Type, error) {
	t, err := p.define(m, ns, Enum)
	if err != nil {
		return nil, err
	}
	syms, ok := m["symbols"].([]any)
	if !ok {
		return nil, fmt.Errorf("enum %s: no symbols array", t.Name)
	}
	for _, s := range syms {
		str, ok := s.(string)
		if !ok {
			return nil, fmt.Errorf("enum %s: a symbol that is not a string", t.Name)
		}
		t.Symbols = append(t.Symbols, str)
	}
	if d, ok := m["default"].(string); ok {
		t.Default, t.HasDef = d, true
	}
	return t, nil
}

func intAttr(m map[string]any, key string) (int, error) {
	n, ok := m[key].(json.Number)
	if !ok {
		return 0, fmt.Errorf("%q is not a number", key)
	}
	i, err := n.Int64()
	return int(i), err
}

// aliases reads an "aliases" attribute; for named types they are made full
// names in ns (field aliases are plain names: ns is "").
func aliases(m map[string]any, ns string) []string {
	list, _ := m["aliases"].([]any)
	var out []string
	for _, a := range list {
		if s, ok := a.(string); ok {
			if ns != "" {
				s = fullName(s, ns)
			}
			out = append(out, s)
		}
	}
	return out
}

func fullName(name, ns string) string {
	if strings.Contains(name, ".") || ns == "" {
		return name
	}
	return ns + "." + name
}

func namespaceOf(full string) string {
	if i := strings.LastIndexByte(full, '.'); i >= 0 {
		return full[:i]
	}
	return ""
}

func shortName(full string) string { return full[strings.LastIndexByte(full, '.')+1:] }

// unionKey is the key goavro uses for a value of type t in a union: the
// full name of a named type, "type.logical" for a logical type goavro
// knows, else the type's name.
func unionKey(t *Type) string {
	switch {
	case t.Name != "":
		return t.Name
	case t.Logical != "":
		return t.Kind.String() + "." + t.Logical
	}
	return t.Kind.String()
}

// String describes t for an error message: its name or kind.
func (t *Type) String() string {
	switch {
	case t.Name != "":
		return t.Kind.String() + " " + t.Name
	case t.Logical != "":
		return t.Kind.String() + " (" + t.Logical + ")"
	case t.Kind == Array:
		return "array of " + t.Items.String()
	case t.Kind == Map:
		return "map of " + t.Values.String()
	case t.Kind == Union:
		parts := make([]string, len(t.Branches))
		for i, b := range t.Branches {
			parts[i] = b.String()
		}
		return "union [" + strings.Join(parts, ", ") + "]"
	}
	return t.Kind.String()
}
