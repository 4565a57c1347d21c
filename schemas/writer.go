package schemas

import "sync"

// writer builds goavro's native form of a record from maps and slices it
// reuses across calls: goavro reads them while encoding and keeps none, and
// building them was most of the cost of encoding. A writer serves one
// encode at a time; writers are pooled.
//
// Null fields are left out of records: goavro then writes the field's
// default, which is null for every optional field (the schemas guarantee
// it, and a test checks).
type writer struct {
	maps []map[string]any // maps[:used] are in use
	used int
	anys []any // backing store for arrays; anys[:off] in use
	off  int
}

var writers = sync.Pool{New: func() any { return new(writer) }}

func getWriter() *writer { return writers.Get().(*writer) }

// Writers that grew past these sizes (a huge cart) are dropped rather than
// pooled, so that one outlier does not pin its memory.
const (
	maxPooledMaps = 256
	maxPooledAnys = 1024
)

// release clears what the writer handed out, so that the pool holds no
// references to the caller's data, and returns it to the pool.
func (w *writer) release() {
	if len(w.maps) > maxPooledMaps || len(w.anys) > maxPooledAnys {
		return
	}
	for _, m := range w.maps[:w.used] {
		clear(m)
	}
	clear(w.anys[:w.off])
	w.used, w.off = 0, 0
	writers.Put(w)
}

// record returns an empty map.
func (w *writer) record() map[string]any {
	if w.used == len(w.maps) {
		w.maps = append(w.maps, make(map[string]any, 8))
	}
	m := w.maps[w.used]
	w.used++
	return m
}

// array returns a slice of n nil values.
func (w *writer) array(n int) []any {
	if w.off+n > len(w.anys) {
		w.anys = make([]any, max(2*len(w.anys), n, 64)) // earlier slices keep the old store
		w.off = 0
	}
	a := w.anys[w.off : w.off+n : w.off+n]
	w.off += n
	return a
}

// union returns the native form of a non-null union value.
func (w *writer) union(branch string, v any) map[string]any {
	m := w.record()
	m[branch] = v
	return m
}

// optStr sets m[field] to a ["null", string] value when ok.
func (w *writer) optStr(m map[string]any, field, s string, ok bool) {
	if ok {
		m[field] = w.union(branchString, s)
	}
}

func (w *writer) optStrPtr(m map[string]any, field string, p *string) {
	if p != nil {
		m[field] = w.union(branchString, *p)
	}
}

func (w *writer) optBool(m map[string]any, field string, b, ok bool) {
	if ok {
		m[field] = w.union(branchBoolean, b)
	}
}

// optStrings sets a ["null", array<string>] field, keeping nil (null) and
// empty ([]) distinct.
func (w *writer) optStrings(m map[string]any, field string, ss []string) {
	if ss == nil {
		return
	}
	a := w.array(len(ss))
	for i, s := range ss {
		a[i] = s
	}
	m[field] = w.union(branchArray, a)
}
