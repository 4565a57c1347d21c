package resolve

import (
	"encoding/json"
	"math"
)

// defaultValue converts a field's JSON default into goavro's native value
// of type t (for a union: of its first branch, as the specification says).
func defaultValue(t *Type, v any, path string) (any, error) {
	bad := func() (any, error) {
		return nil, errorf(path, "sessiond's default %v is not a %s", v, t)
	}
	switch t.Kind {
	case Null:
		if v != nil {
			return bad()
		}
		return nil, nil
	case Boolean:
		if b, ok := v.(bool); ok {
			return b, nil
		}
	case Int, Long:
		n, ok := v.(json.Number)
		if !ok {
			return bad()
		}
		i, err := n.Int64()
		if err != nil || t.Kind == Int && (i < math.MinInt32 || i > math.MaxInt32) {
			return bad()
		}
		var out any = i
		if t.Kind == Int {
			out = int32(i)
		}
		if out, ok = logical(out, t.Logical); ok {
			return out, nil
		}
	case Float, Double:
		n, ok := v.(json.Number)
		if !ok {
			return bad()
		}
		f, err := n.Float64()
		if err != nil {
			return bad()
		}
		if t.Kind == Float {
			return float32(f), nil
		}
		return f, nil
	case String:
		if s, ok := v.(string); ok {
			return s, nil
		}
	case Bytes, Fixed:
		if s, ok := v.(string); ok && t.Logical == "" {
			b := make([]byte, 0, len(s))
			for _, r := range s { // each code point is one byte, as the specification says
				if r > 255 {
					return bad()
				}
				b = append(b, byte(r))
			}
			return b, nil
		}
	case Enum:
		if s, ok := v.(string); ok {
			for _, sym := range t.Symbols {
				if sym == s {
					return s, nil
				}
			}
		}
	case Array:
		a, ok := v.([]any)
		if !ok {
			return bad()
		}
		out := make([]any, len(a))
		for i, x := range a {
			y, err := defaultValue(t.Items, x, path)
			if err != nil {
				return nil, err
			}
			out[i] = y
		}
		return out, nil
	case Map:
		m, ok := v.(map[string]any)
		if !ok {
			return bad()
		}
		out := make(map[string]any, len(m))
		for k, x := range m {
			y, err := defaultValue(t.Values, x, path)
			if err != nil {
				return nil, err
			}
			out[k] = y
		}
		return out, nil
	case Record:
		m, ok := v.(map[string]any)
		if !ok {
			return bad()
		}
		out := make(map[string]any, len(t.Fields))
		for _, f := range t.Fields {
			x, has := m[f.Name]
			if !has {
				if !f.HasDefault {
					return bad()
				}
				x = f.Default
			}
			y, err := defaultValue(f.Type, x, join(path, f.Name))
			if err != nil {
				return nil, err
			}
			out[f.Name] = y
		}
		return out, nil
	case Union:
		first := t.Branches[0]
		y, err := defaultValue(first, v, path)
		if err != nil || first.Kind == Null {
			return nil, err
		}
		return map[string]any{unionKey(first): y}, nil
	}
	return bad()
}

// copyDefault returns a default for one datum: maps and slices are copied,
// since Apply's results may be modified by later plans in place.
func copyDefault(v any) any {
	switch v := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(v))
		for k, x := range v {
			out[k] = copyDefault(x)
		}
		return out
	case []any:
		out := make([]any, len(v))
		for i, x := range v {
			out[i] = copyDefault(x)
		}
		return out
	case []byte:
		return append([]byte(nil), v...)
	}
	return v
}
