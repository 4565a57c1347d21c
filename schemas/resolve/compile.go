package resolve

// Plan converts data decoded with a writer's schema into the reader's
// native form. It is immutable and safe for concurrent use.
type Plan struct {
	root     node
	identity bool
}

// Identity reports whether the two schemas are the same (names, fields,
// order, logical types): data decoded with the writer's schema is already
// in the reader's form and Apply returns it unchanged.
func (p *Plan) Identity() bool { return p.identity }

// Apply converts v, a value goavro decoded with the writer's schema, into
// the value goavro would have decoded with the reader's. It may modify v's
// maps and slices in place. Errors wrap ErrIncompatible and name the field.
func (p *Plan) Apply(v any) (any, error) { return p.root.apply(v) }

// Compile plans the resolution of data written with writer as reader. It
// fails, naming the field, when no datum of the writer's could be read:
// a reader field missing from the writer's record without a default, a
// type that cannot be promoted, a named type whose name does not match.
// Mismatches that only some data hit (a union branch the reader lacks, an
// enum symbol without a reader default) are left to Apply.
func Compile(writer, reader *Type) (*Plan, error) {
	c := compiler{memo: map[[2]*Type]*lazy{}}
	root, err := c.compile(writer, reader, "", true)
	if err != nil {
		return nil, err
	}
	return &Plan{root: root, identity: root == identity{}}, nil
}

type compiler struct {
	memo map[[2]*Type]*lazy
}

// compile plans one (writer, reader) pair at path. top is true for the
// top-level record, whose name is not compared.
func (c *compiler) compile(w, r *Type, path string, top bool) (node, error) {
	if w.Kind == Union || r.Kind == Union {
		return c.union(w, r, path)
	}
	if !top && !namesMatch(w, r) {
		return nil, errorf(path, "writer type %s cannot be read as %s: the names differ", w, r)
	}
	switch {
	case w.Kind == Record && r.Kind == Record:
		return c.record(w, r, path)
	case w.Kind == Enum && r.Kind == Enum:
		return enumPlan(w, r, path), nil
	case w.Kind == Array && r.Kind == Array:
		items, err := c.compile(w.Items, r.Items, path, false)
		if err != nil || items == (identity{}) {
			return items, err
		}
		return arrayNode{items}, nil
	case w.Kind == Map && r.Kind == Map:
		values, err := c.compile(w.Values, r.Values, path, false)
		if err != nil || values == (identity{}) {
			return values, err
		}
		return mapNode{values}, nil
	case w.Kind == Fixed && r.Kind == Fixed:
		if w.Size != r.Size {
			return nil, errorf(path, "writer type %s has size %d, the reader's %d", w, w.Size, r.Size)
		}
		if w.Logical != r.Logical || w.Scale != r.Scale {
			return nil, errorf(path, "writer type %s cannot be read as %s: the logical types differ", w, r)
		}
		return identity{}, nil
	}
	return primitive(w, r, path)
}

// record plans a record pair, memoised so that recursive types terminate.
func (c *compiler) record(w, r *Type, path string) (node, error) {
	key := [2]*Type{w, r}
	if l, ok := c.memo[key]; ok {
		if l.n != nil { // planned already: a named type used twice
			return l.n, nil
		}
		l.used = true // in progress: a recursive type
		return l, nil
	}
	l := &lazy{}
	c.memo[key] = l
	rn := &recordNode{}
	same := len(w.Fields) == len(r.Fields)
	for i, rf := range r.Fields {
		fp, err := c.field(w, rf, join(path, rf.Name))
		if err != nil {
			delete(c.memo, key)
			return nil, err
		}
		same = same && fp.node == (identity{}) && w.Fields[i].Name == rf.Name
		rn.fields = append(rn.fields, fp)
		if fp.from != rf.Name || fp.node != (identity{}) {
			rn.changed = append(rn.changed, fp)
		}
		if fp.from != rf.Name && fp.from != "" {
			rn.renames = true
		}
	}
	if same {
		l.n = identity{}
	} else {
		rn.drop = writerOnly(w, rn.fields)
		l.n = rn
	}
	if l.used { // referenced from inside itself: keep the indirection
		return l, nil
	}
	return l.n, nil
}

// field plans one reader field: read from the writer's field of the same
// name (or of one of the reader field's aliases), or take the default.
func (c *compiler) field(w *Type, rf *Field, path string) (fieldPlan, error) {
	wf := writerField(w, rf)
	if wf == nil {
		if !rf.HasDefault {
			return fieldPlan{}, errorf(path, "the writer's record %s has no such field and sessiond's has no default for it", w.Name)
		}
		def, err := defaultValue(rf.Type, rf.Default, path)
		if err != nil {
			return fieldPlan{}, err
		}
		return fieldPlan{to: rf.Name, def: def}, nil
	}
	n, err := c.compile(wf.Type, rf.Type, path, false)
	if err != nil {
		return fieldPlan{}, err
	}
	return fieldPlan{to: rf.Name, from: wf.Name, node: n}, nil
}

func writerField(w *Type, rf *Field) *Field {
	for _, f := range w.Fields {
		if f.Name == rf.Name {
			return f
		}
	}
	for _, a := range rf.Aliases {
		for _, f := range w.Fields {
			if f.Name == a {
				return f
			}
		}
	}
	return nil
}

// writerOnly lists the writer's fields no reader field reads.
func writerOnly(w *Type, fields []fieldPlan) []string {
	read := map[string]bool{}
	for _, f := range fields {
		read[f.from] = true
	}
	var out []string
	for _, f := range w.Fields {
		if !read[f.Name] {
			out = append(out, f.Name)
		}
	}
	return out
}

// namesMatch compares named types by unqualified name or the reader's
// aliases; unnamed types always match here (their kinds are compared later).
func namesMatch(w, r *Type) bool {
	if w.Name == "" || r.Name == "" {
		return true
	}
	if shortName(w.Name) == shortName(r.Name) {
		return true
	}
	for _, a := range r.Aliases {
		if a == w.Name || shortName(a) == shortName(w.Name) {
			return true
		}
	}
	return false
}

func enumPlan(w, r *Type, path string) node {
	same := len(w.Symbols) == len(r.Symbols)
	to := make(map[string]string, len(w.Symbols))
	in := make(map[string]bool, len(r.Symbols))
	for i, s := range r.Symbols {
		in[s] = true
		same = same && i < len(w.Symbols) && w.Symbols[i] == s
	}
	for _, s := range w.Symbols {
		switch {
		case in[s]:
			to[s] = s
		case r.HasDef:
			to[s] = r.Default
		}
	}
	if same {
		return identity{}
	}
	return enumNode{to: to, path: path, reader: r.Name}
}
