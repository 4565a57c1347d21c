// Package confluenttest holds what tests, the demo and the load command
// need around the Confluent wire format: an in-memory Schema Registry over
// HTTP (Registry, Serve), and a producer whose schemas evolved (Producer):
// the same events sessiond's schemas carry, written with later versions
// of them.
package confluenttest

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"github.com/linkedin/goavro/v2"
	"github.com/sessiond/sessiond/reducer"
	"github.com/sessiond/sessiond/schemas"
	"github.com/sessiond/sessiond/schemas/confluent"
)

// EvolvedSchema is a producer's later version of sessiond's schema for
// kind: the top-level record renamed and its fields in reverse order, an
// optional field added at the top, in the cart, customer and action
// records, and a boolean with a default in each item; for actions, the
// enum's symbols reordered with a new one ("wishlist") and no "unknown",
// and occurred_at a plain long instead of a timestamp-millis.
func EvolvedSchema(kind reducer.Kind) string {
	s, _ := schemas.EventSchema(kind)
	var m map[string]any
	if err := json.Unmarshal([]byte(s.Text()), &m); err != nil {
		panic(err)
	}
	m["name"] = "Shop" + m["name"].(string)
	fields := m["fields"].([]any)
	slices.Reverse(fields)
	m["fields"] = append(fields, optional("source"))
	walk(m, kind == reducer.KindAction)
	b, err := json.Marshal(m)
	if err != nil {
		panic(err)
	}
	return string(b)
}

func optional(name string) map[string]any {
	return map[string]any{"name": name, "type": []any{"null", "string"}, "default": nil}
}

// walk evolves the named types inside v.
func walk(v any, action bool) {
	switch v := v.(type) {
	case []any:
		for _, x := range v {
			walk(x, action)
		}
	case map[string]any:
		switch v["name"] {
		case "Item":
			fields := v["fields"].([]any)
			slices.Reverse(fields)
			v["fields"] = append(fields, map[string]any{"name": "gift", "type": "boolean", "default": false})
		case "Cart":
			v["fields"] = append(v["fields"].([]any), optional("coupon"))
		case "Customer":
			v["fields"] = append(v["fields"].([]any), optional("loyalty_tier"))
		case "Action":
			v["fields"] = append(v["fields"].([]any), optional("referrer"))
		case "ActionType":
			syms := slices.Clone(v["symbols"].([]any)[1:]) // no "unknown"
			slices.Reverse(syms)
			v["symbols"] = append(syms, "wishlist")
			delete(v, "default")
		case "occurred_at":
			if action {
				v["type"] = "long"
			}
		}
		for k, x := range v {
			if k != "symbols" {
				walk(x, action)
			}
		}
	}
}

// Producer writes events with the evolved schemas, framed with the ids the
// registry gave them under "<topic>-value" (register them with
// compatibility NONE: the new enum has no "unknown").
type Producer struct {
	codecs *schemas.Codecs
	v1, v2 [reducer.NumKinds]*goavro.Codec
	ids    [reducer.NumKinds]int
}

// NewProducer registers the evolved schemas under topics' subjects.
func NewProducer(ctx context.Context, reg *confluent.Registry, topics [reducer.NumKinds]string) (*Producer, error) {
	codecs, err := schemas.Load()
	if err != nil {
		return nil, err
	}
	p := &Producer{codecs: codecs}
	for k, topic := range topics {
		kind := reducer.Kind(k)
		s, ok := schemas.EventSchema(kind)
		if !ok {
			continue
		}
		p.v1[k] = codecs.Codec(s)
		if p.v2[k], err = goavro.NewCodec(EvolvedSchema(kind)); err != nil {
			return nil, fmt.Errorf("evolved %s: %w", s, err)
		}
		if p.ids[k], err = reg.Register(ctx, confluent.Subject(topic), EvolvedSchema(kind)); err != nil {
			return nil, err
		}
	}
	return p, nil
}

// ID is the evolved schema's id for kind.
func (p *Producer) ID(kind reducer.Kind) int { return p.ids[kind] }

// Encode writes ev with the evolved schema of its kind; the added fields
// take their defaults, except "source", which says who wrote it.
func (p *Producer) Encode(ev *reducer.Event) ([]byte, error) {
	raw, err := p.codecs.EncodeEvent(nil, ev)
	if err != nil {
		return nil, err
	}
	native, _, err := p.v1[ev.Kind].NativeFromBinary(raw)
	if err != nil {
		return nil, err
	}
	rec := native.(map[string]any)
	rec["source"] = goavro.Union("string", "evolved-producer")
	if ev.Kind == reducer.KindAction {
		rec["occurred_at"] = rec["occurred_at"].(time.Time).UnixMilli()
	}
	return p.v2[ev.Kind].BinaryFromNative(confluent.AppendHeader(nil, p.ids[ev.Kind]), rec)
}

// Wishlist writes an action of the type only the evolved schema has.
func (p *Producer) Wishlist(visitor, eventID string, at int64) ([]byte, error) {
	rec := map[string]any{"visitor_id": visitor, "event_id": eventID, "occurred_at": at, "source": nil,
		"action": map[string]any{"type": "wishlist", "product_id": goavro.Union("string", "p-1")}}
	return p.v2[reducer.KindAction].BinaryFromNative(confluent.AppendHeader(nil, p.ids[reducer.KindAction]), rec)
}
