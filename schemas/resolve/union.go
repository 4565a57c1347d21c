package resolve

// union plans a pair where either side is a union.
func (c *compiler) union(w, r *Type, path string) (node, error) {
	switch {
	case w.Kind == Union && r.Kind == Union:
		n := &unionNode{branches: map[string]branchPlan{}, path: path}
		same := len(w.Branches) == len(r.Branches)
		for i, wb := range w.Branches {
			bp := c.branch(wb, r, path)
			n.branches[unionKey(wb)] = bp
			if wb.Kind == Null {
				n.null = bp
			}
			same = same && bp.err == nil && bp.node == (identity{}) && bp.to == unionKey(r.Branches[i]) &&
				(wb.Kind == Null) == (r.Branches[i].Kind == Null)
		}
		if same {
			return identity{}, nil
		}
		return n, nil
	case w.Kind == Union: // reader is not a union: each writer branch must resolve to it
		n := &unwrapNode{branches: map[string]branchPlan{}, path: path}
		for _, wb := range w.Branches {
			bp := branchPlan{}
			bp.node, bp.err = c.compile(wb, r, path, false)
			n.branches[unionKey(wb)] = bp
			if wb.Kind == Null {
				n.null = bp
			}
		}
		return n, nil
	}
	// The writer is not a union: it must resolve to one of the reader's branches.
	bp := c.branch(w, r, path)
	if bp.err != nil {
		return nil, bp.err
	}
	return wrapNode{branchPlan: bp}, nil
}

// branch finds the reader branch for a writer type, by the specification's
// rule: the first branch of the same type (and name), else the first one
// the writer's type promotes to. Failing that, the plan holds the error,
// returned when a datum of that branch is met.
func (c *compiler) branch(w, r *Type, path string) branchPlan {
	for pass := 0; pass < 2; pass++ {
		for _, rb := range r.Branches {
			if pass == 0 && !sameType(w, rb) || pass == 1 && !promotes(w, rb) {
				continue
			}
			n, err := c.compile(w, rb, path, false)
			return branchPlan{to: unionKey(rb), null: rb.Kind == Null, node: n, err: err}
		}
	}
	return branchPlan{err: errorf(path, "writer type %s matches no branch of %s", w, r)}
}

// sameType: same kind and, for named types, matching names.
func sameType(w, r *Type) bool {
	return w.Kind == r.Kind && namesMatch(w, r)
}

// promotes reports whether the specification promotes w to r.
func promotes(w, r *Type) bool {
	switch w.Kind {
	case Int:
		return r.Kind == Long || r.Kind == Float || r.Kind == Double
	case Long:
		return r.Kind == Float || r.Kind == Double
	case Float:
		return r.Kind == Double
	case String:
		return r.Kind == Bytes
	case Bytes:
		return r.Kind == String
	}
	return false
}
