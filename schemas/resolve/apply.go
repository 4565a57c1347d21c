package resolve

import "fmt"

// node converts one value decoded with the writer's schema.
type node interface {
	apply(v any) (any, error)
}

// identity: the writer's and the reader's types are the same.
type identity struct{}

func (identity) apply(v any) (any, error) { return v, nil }

// lazy is a record plan referenced from inside itself (a recursive type);
// n is set once the record is planned.
type lazy struct {
	n    node
	used bool
}

func (l *lazy) apply(v any) (any, error) { return l.n.apply(v) }

// fieldPlan fills reader field to: from the writer's field from through
// node, or, when from is "", with the default def.
type fieldPlan struct {
	to, from string
	node     node
	def      any
}

type recordNode struct {
	fields  []fieldPlan
	changed []fieldPlan // the fields whose value changes: all but same-named identities
	drop    []string    // writer fields the reader does not have
	renames bool        // some field is read from a writer field of another name
}

func (n *recordNode) apply(v any) (any, error) {
	m, ok := v.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("%w: a record decoded as %T", ErrIncompatible, v)
	}
	if n.renames { // fields read under other names: fill a new map
		out := make(map[string]any, len(n.fields))
		for _, f := range n.fields {
			nv, err := f.value(m)
			if err != nil {
				return nil, err
			}
			out[f.to] = nv
		}
		return out, nil
	}
	for _, f := range n.changed { // in place: fields kept as they are cost nothing
		nv, err := f.value(m)
		if err != nil {
			return nil, err
		}
		m[f.to] = nv
	}
	for _, d := range n.drop {
		delete(m, d)
	}
	return m, nil
}

func (f *fieldPlan) value(m map[string]any) (any, error) {
	if f.from == "" {
		return copyDefault(f.def), nil
	}
	return f.node.apply(m[f.from])
}

// enumNode maps the writer's symbols to the reader's.
type enumNode struct {
	to     map[string]string
	path   string
	reader string
}

func (n enumNode) apply(v any) (any, error) {
	s, _ := v.(string)
	if out, ok := n.to[s]; ok {
		return out, nil
	}
	return nil, errorf(n.path, "symbol %q is not in sessiond's enum %s, which has no default", s, n.reader)
}

type arrayNode struct{ items node }

func (n arrayNode) apply(v any) (any, error) {
	a, ok := v.([]any)
	if !ok {
		return nil, fmt.Errorf("%w: an array decoded as %T", ErrIncompatible, v)
	}
	for i, x := range a {
		y, err := n.items.apply(x)
		if err != nil {
			return nil, err
		}
		a[i] = y
	}
	return a, nil
}

type mapNode struct{ values node }

func (n mapNode) apply(v any) (any, error) {
	m, ok := v.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("%w: a map decoded as %T", ErrIncompatible, v)
	}
	for k, x := range m {
		y, err := n.values.apply(x)
		if err != nil {
			return nil, err
		}
		m[k] = y
	}
	return m, nil
}

// branchPlan resolves one writer union branch: to the reader's branch
// with key to (null: the reader's null branch), or, when the reader is
// not a union, straight to its type. err: this branch does not resolve.
type branchPlan struct {
	to   string
	null bool
	node node
	err  error
}

// branchOf finds the writer's branch of a goavro union value: nil is the
// null branch, else a map with one key.
func branchOf(v any, branches map[string]branchPlan, null branchPlan, path string) (branchPlan, any, error) {
	if v == nil {
		if null.node == nil && null.err == nil {
			return branchPlan{}, nil, errorf(path, "null is not a branch of the writer's union")
		}
		return null, nil, null.err
	}
	u, ok := v.(map[string]any)
	if !ok || len(u) != 1 {
		return branchPlan{}, nil, errorf(path, "a union value decoded as %T", v)
	}
	for k, x := range u {
		bp, ok := branches[k]
		if !ok {
			return branchPlan{}, nil, errorf(path, "branch %q is not in the writer's union", k)
		}
		return bp, x, bp.err
	}
	panic("unreachable")
}

// unionNode: writer and reader are unions.
type unionNode struct {
	branches map[string]branchPlan
	null     branchPlan
	path     string
}

func (n *unionNode) apply(v any) (any, error) {
	bp, x, err := branchOf(v, n.branches, n.null, n.path)
	if err != nil {
		return nil, err
	}
	y, err := bp.node.apply(x)
	if err != nil || bp.null {
		return nil, err
	}
	if u, ok := v.(map[string]any); ok {
		if _, same := u[bp.to]; same { // same key: update in place
			u[bp.to] = y
			return u, nil
		}
	}
	return map[string]any{bp.to: y}, nil
}

// unwrapNode: the writer is a union, the reader is not.
type unwrapNode struct {
	branches map[string]branchPlan
	null     branchPlan
	path     string
}

func (n *unwrapNode) apply(v any) (any, error) {
	bp, x, err := branchOf(v, n.branches, n.null, n.path)
	if err != nil {
		return nil, err
	}
	return bp.node.apply(x)
}

// wrapNode: the reader is a union, the writer is not.
type wrapNode struct{ branchPlan }

func (n wrapNode) apply(v any) (any, error) {
	y, err := n.node.apply(v)
	if err != nil || n.null {
		return nil, err
	}
	return map[string]any{n.to: y}, nil
}

// convertNode promotes a primitive or changes its logical type.
type convertNode struct {
	w, r *Type
	path string
}

func (n convertNode) apply(v any) (any, error) {
	out, ok := convert(v, n.w, n.r)
	if !ok {
		return nil, errorf(n.path, "a %T cannot be read as %s", v, n.r)
	}
	return out, nil
}
