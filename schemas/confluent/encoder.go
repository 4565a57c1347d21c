package confluent

import (
	"context"
	"errors"

	"github.com/sessiond/sessiond/reducer"
	"github.com/sessiond/sessiond/schemas"
)

// Subject is the topic-name strategy's subject of a topic's values.
func Subject(topic string) string { return topic + "-value" }

// ErrNotRegistered: an encoder used before its schema was registered.
var ErrNotRegistered = errors.New("schema not registered yet")

// UpdateEncoder frames session updates with the id of session_update.avsc
// under the output topic's subject. Register it before use.
type UpdateEncoder struct {
	Codecs *schemas.Codecs
	id     int
}

// RegisterUpdates registers session_update.avsc under topic's subject and
// returns the encoder for that topic.
func RegisterUpdates(ctx context.Context, reg *Registry, codecs *schemas.Codecs, topic string) (*UpdateEncoder, error) {
	e := &UpdateEncoder{Codecs: codecs}
	return e, e.Register(ctx, reg, topic)
}

// Register registers session_update.avsc under topic's subject, for the
// encoder's later use. Call it before the encoder is shared.
func (e *UpdateEncoder) Register(ctx context.Context, reg *Registry, topic string) error {
	id, err := reg.Register(ctx, Subject(topic), schemas.SessionUpdate.Text())
	e.id = id
	return err
}

// ID is the registered schema id.
func (e *UpdateEncoder) ID() int { return e.id }

// EncodeUpdate appends the framed update to dst.
func (e *UpdateEncoder) EncodeUpdate(dst []byte, u *reducer.Update) ([]byte, error) {
	if e.id == 0 {
		return dst, ErrNotRegistered
	}
	out, err := e.Codecs.EncodeUpdate(AppendHeader(dst, e.id), u)
	if err != nil {
		return dst, err
	}
	return out, nil
}

// EventEncoder frames input events, each kind with the id of its schema
// under its topic's subject (what `sessiond produce --wire-format
// confluent` writes).
type EventEncoder struct {
	Codecs *schemas.Codecs
	ids    [reducer.NumKinds]int
}

// RegisterEvents registers each input schema under its topic's subject;
// topics is indexed by reducer.Kind.
func RegisterEvents(ctx context.Context, reg *Registry, codecs *schemas.Codecs, topics [reducer.NumKinds]string) (*EventEncoder, error) {
	e := &EventEncoder{Codecs: codecs}
	for k, topic := range topics {
		s, ok := schemas.EventSchema(reducer.Kind(k))
		if !ok || topic == "" {
			continue
		}
		id, err := reg.Register(ctx, Subject(topic), s.Text())
		if err != nil {
			return nil, err
		}
		e.ids[k] = id
	}
	return e, nil
}

// EncodeEvent appends the framed event to dst.
func (e *EventEncoder) EncodeEvent(dst []byte, ev *reducer.Event) ([]byte, error) {
	if int(ev.Kind) >= len(e.ids) || e.ids[ev.Kind] == 0 {
		return dst, ErrNotRegistered
	}
	out, err := e.Codecs.EncodeEvent(AppendHeader(dst, e.ids[ev.Kind]), ev)
	if err != nil {
		return dst, err
	}
	return out, nil
}

// DecodeUpdate reads one of sessiond's updates in either wire format. No
// bare Avro update starts with byte 0 (that would be an empty update_id,
// which the rules forbid), so a leading 0 is the Confluent header: checked
// and stripped (the schema is sessiond's own).
func DecodeUpdate(codecs *schemas.Codecs, v []byte) (*reducer.Update, error) {
	if len(v) > 0 && v[0] == magic {
		_, payload, err := ParseHeader(v)
		if err != nil {
			return nil, err
		}
		v = payload
	}
	return codecs.DecodeUpdate(v)
}
