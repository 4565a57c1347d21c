package schemas

import (
	"fmt"
	"time"
)

// Union branch names as goavro reports them: a non-null union value decodes
// as map[string]any{branch: value}, keyed by the branch's full type name.
const (
	branchString   = "string"
	branchBoolean  = "boolean"
	branchArray    = "array"
	branchCart     = "com.sessiond.Cart"
	branchCustomer = "com.sessiond.Customer"
	branchOrder    = "com.sessiond.Order"
)

// reader converts goavro's native values into reducer types. The codecs
// guarantee the shapes, but nothing here trusts them: the first mismatch is
// kept in err and every later read returns a zero value.
type reader struct{ err error }

func (r *reader) fail(field string, v any) {
	if r.err == nil {
		r.err = fmt.Errorf("%w: field %s: unexpected %T", ErrDecode, field, v)
	}
}

func (r *reader) record(v any, field string) map[string]any {
	m, ok := v.(map[string]any)
	if !ok {
		r.fail(field, v)
	}
	return m
}

func (r *reader) str(m map[string]any, field string) string {
	s, ok := m[field].(string)
	if !ok {
		r.fail(field, m[field])
	}
	return s
}

func (r *reader) int(m map[string]any, field string) int32 {
	n, ok := m[field].(int32)
	if !ok {
		r.fail(field, m[field])
	}
	return n
}

func (r *reader) double(m map[string]any, field string) float64 {
	f, ok := m[field].(float64)
	if !ok {
		r.fail(field, m[field])
	}
	return f
}

// millis reads a timestamp-millis field, which goavro decodes as a UTC
// time.Time.
func (r *reader) millis(m map[string]any, field string) int64 {
	t, ok := m[field].(time.Time)
	if !ok {
		r.fail(field, m[field])
	}
	return t.UnixMilli()
}

func (r *reader) array(m map[string]any, field string) []any {
	a, ok := m[field].([]any)
	if !ok {
		r.fail(field, m[field])
	}
	return a
}

// union unwraps a ["null", X] field: nil for null, else the X value.
func (r *reader) union(m map[string]any, field, branch string) any {
	v := m[field]
	if v == nil {
		return nil
	}
	u, ok := v.(map[string]any)
	if !ok || len(u) != 1 || u[branch] == nil {
		r.fail(field, v)
		return nil
	}
	return u[branch]
}

func (r *reader) optStr(m map[string]any, field string) (string, bool) {
	v := r.union(m, field, branchString)
	if v == nil {
		return "", false
	}
	s, ok := v.(string)
	if !ok {
		r.fail(field, v)
	}
	return s, ok
}

func (r *reader) optBool(m map[string]any, field string) (bool, bool) {
	v := r.union(m, field, branchBoolean)
	if v == nil {
		return false, false
	}
	b, ok := v.(bool)
	if !ok {
		r.fail(field, v)
	}
	return b, ok
}

// optStrings reads a ["null", array<string>] field: nil for null, a non-nil
// (possibly empty) slice otherwise, so that [] and absent stay distinct.
func (r *reader) optStrings(m map[string]any, field string) []string {
	v := r.union(m, field, branchArray)
	if v == nil {
		return nil
	}
	a, ok := v.([]any)
	if !ok {
		r.fail(field, v)
		return nil
	}
	return r.strings(a, field)
}

func (r *reader) strings(a []any, field string) []string {
	out := make([]string, len(a))
	for i, v := range a {
		s, ok := v.(string)
		if !ok {
			r.fail(field, v)
		}
		out[i] = s
	}
	return out
}
