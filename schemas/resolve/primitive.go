package resolve

import (
	"math/big"
	"time"
)

// primitive plans a pair of primitive types (with their logical types).
func primitive(w, r *Type, path string) (node, error) {
	if w.Kind != r.Kind && !promotes(w, r) {
		return nil, errorf(path, "writer type %s cannot be read as %s", w, r)
	}
	if (w.Logical == "decimal" || r.Logical == "decimal") && (w.Logical != r.Logical || w.Scale != r.Scale || w.Kind != r.Kind) {
		return nil, errorf(path, "writer type %s cannot be read as %s: decimals resolve only to the same decimal", w, r)
	}
	if w.Kind == r.Kind && w.Logical == r.Logical {
		return identity{}, nil
	}
	return convertNode{w: w, r: r, path: path}, nil
}

// convert reads a writer's primitive value as the reader's type: first to
// the writer's underlying Avro value, then promoted, then into the
// reader's logical type.
func convert(v any, w, r *Type) (any, bool) {
	if instants[w.Logical] && instants[r.Logical] { // the same instant, in the reader's precision
		t, ok := v.(time.Time)
		if r.Logical == "timestamp-millis" {
			t = time.UnixMilli(t.UnixMilli()).UTC()
		}
		return t, ok
	}
	u, ok := underlying(v, w.Logical)
	if !ok {
		return nil, false
	}
	if u, ok = promote(u, r.Kind); !ok {
		return nil, false
	}
	return logical(u, r.Logical)
}

// instants are the logical types goavro decodes to a time.Time instant.
var instants = map[string]bool{"timestamp-millis": true, "timestamp-micros": true}

// underlying turns goavro's logical value back into the Avro value.
func underlying(v any, lt string) (any, bool) {
	switch lt {
	case "timestamp-millis":
		t, ok := v.(time.Time)
		return t.UnixMilli(), ok
	case "timestamp-micros":
		t, ok := v.(time.Time)
		return t.UnixMicro(), ok
	case "time-millis":
		d, ok := v.(time.Duration)
		return int32(d / time.Millisecond), ok
	case "time-micros":
		d, ok := v.(time.Duration)
		return int64(d / time.Microsecond), ok
	case "date":
		t, ok := v.(time.Time)
		return int32(t.Unix() / 86400), ok
	case "decimal":
		_, ok := v.(*big.Rat)
		return v, ok
	}
	return v, true
}

// promote converts an Avro value to kind k by the specification's rules.
func promote(v any, k Kind) (any, bool) {
	switch v := v.(type) {
	case int32:
		switch k {
		case Int:
			return v, true
		case Long:
			return int64(v), true
		case Float:
			return float32(v), true
		case Double:
			return float64(v), true
		}
	case int64:
		switch k {
		case Long:
			return v, true
		case Float:
			return float32(v), true
		case Double:
			return float64(v), true
		}
	case float32:
		switch k {
		case Float:
			return v, true
		case Double:
			return float64(v), true
		}
	case float64:
		return v, k == Double
	case string:
		switch k {
		case String:
			return v, true
		case Bytes:
			return []byte(v), true
		}
	case []byte:
		switch k {
		case Bytes:
			return v, true
		case String:
			return string(v), true
		}
	case bool:
		return v, k == Boolean
	case *big.Rat:
		return v, k == Bytes || k == Fixed
	}
	return nil, false
}

// logical turns an Avro value into goavro's value for logical type lt.
func logical(v any, lt string) (any, bool) {
	switch lt {
	case "timestamp-millis":
		n, ok := v.(int64)
		return time.UnixMilli(n).UTC(), ok
	case "timestamp-micros":
		n, ok := v.(int64)
		return time.UnixMicro(n).UTC(), ok
	case "time-millis":
		n, ok := v.(int32)
		return time.Duration(n) * time.Millisecond, ok
	case "time-micros":
		n, ok := v.(int64)
		return time.Duration(n) * time.Microsecond, ok
	case "date":
		n, ok := v.(int32)
		return time.Unix(int64(n)*86400, 0).UTC(), ok
	}
	return v, true
}
