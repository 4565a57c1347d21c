package confluent

import (
	"context"
	"fmt"

	"github.com/sessiond/sessiond/reducer"
	"github.com/sessiond/sessiond/schemas"
	"github.com/sessiond/sessiond/schemas/resolve"
)

// Decoder reads Confluent-framed input events. It is safe for concurrent
// use (each partition's sources call it).
type Decoder struct {
	reg     *Registry
	codecs  *schemas.Codecs
	readers [reducer.NumKinds]*resolve.Type
}

// plan is the resolution of one writer's schema to one reader's.
type plan struct {
	resolve  *resolve.Plan
	identity bool
	err      error // the schemas are incompatible: every record dead-letters
}

// NewDecoder builds a decoder resolving to sessiond's event schemas.
func NewDecoder(reg *Registry, codecs *schemas.Codecs) (*Decoder, error) {
	d := &Decoder{reg: reg, codecs: codecs}
	for _, k := range []reducer.Kind{reducer.KindCart, reducer.KindCustomer, reducer.KindAction} {
		s, _ := schemas.EventSchema(k)
		t, err := resolve.Parse(s.Text())
		if err != nil {
			return nil, fmt.Errorf("parse %s: %w", s.File(), err)
		}
		d.readers[k] = t
	}
	return d, nil
}

// DecodeEvent reads one framed event of the given kind. It waits (retrying)
// while the registry cannot give a schema it has not cached yet; if ctx
// ends first, the error is ctx's. Every other error is the record's, for
// its dead letter.
func (d *Decoder) DecodeEvent(ctx context.Context, kind reducer.Kind, value []byte) (*reducer.Event, error) {
	if int(kind) >= len(d.readers) || d.readers[kind] == nil {
		return nil, fmt.Errorf("decode: %w: %d", schemas.ErrKind, kind)
	}
	id, payload, err := ParseHeader(value)
	if err != nil {
		return nil, err
	}
	w, err := d.reg.schema(ctx, id)
	if err != nil {
		return nil, err
	}
	p := d.plan(w, kind)
	switch {
	case p.err != nil:
		return nil, p.err
	case p.identity: // the writer's schema is sessiond's: the raw path
		return d.codecs.DecodeEvent(kind, payload)
	}
	return d.resolved(kind, w, p, payload)
}

// plan returns the (cached) plan of w for the kind's reader.
func (d *Decoder) plan(w *writer, kind reducer.Kind) *plan {
	if p, ok := w.plans.Load(kind); ok {
		return p.(*plan)
	}
	p := &plan{err: w.err}
	if p.err == nil {
		rp, err := resolve.Compile(w.parsed, d.readers[kind])
		if err != nil {
			s, _ := schemas.EventSchema(kind)
			p.err = fmt.Errorf("schema id %d cannot be read as sessiond's %s: %w", w.id, s.File(), err)
		} else {
			p.resolve, p.identity = rp, rp.Identity()
		}
	}
	actual, _ := w.plans.LoadOrStore(kind, p)
	return actual.(*plan)
}

// resolved decodes with the writer's schema, resolves to the reader's and
// reads the event from that.
func (d *Decoder) resolved(kind reducer.Kind, w *writer, p *plan, payload []byte) (ev *reducer.Event, err error) {
	defer func() {
		if r := recover(); r != nil {
			ev, err = nil, fmt.Errorf("decode with schema id %d: %w: panic: %v", w.id, schemas.ErrDecode, r)
		}
	}()
	native, rest, err := w.codec.NativeFromBinary(payload)
	if err != nil {
		return nil, fmt.Errorf("decode with schema id %d: %w: %w", w.id, schemas.ErrDecode, err)
	}
	if len(rest) != 0 {
		return nil, fmt.Errorf("decode with schema id %d: %w: %d trailing bytes", w.id, schemas.ErrDecode, len(rest))
	}
	out, err := p.resolve.Apply(native)
	if err != nil {
		return nil, fmt.Errorf("resolve schema id %d: %w", w.id, err)
	}
	rec, ok := out.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("resolve schema id %d: %w: got %T, want a record", w.id, schemas.ErrDecode, out)
	}
	return d.codecs.EventFromNative(kind, rec)
}
