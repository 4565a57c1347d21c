package eventjson

import (
	"math/bits"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/sessiond/sessiond/reducer"
)

// DecodeEvent decodes one JSON line into an event and validates it with
// reducer.Validate, so that an event it returns is always valid. Every
// error it returns wraps reducer.ErrInvalid and names the field and the
// rule it breaks; it never quotes a value, except an unknown type name
// shaped like an enum symbol (see the package doc).
//
// The event's strings may share memory with one copy of the line; line
// itself is not retained and may be reused by the caller.
func DecodeEvent(line []byte) (*reducer.Event, error) {
	if !utf8.Valid(line) {
		return nil, &SyntaxError{Column: firstInvalidUTF8(line) + 1, Msg: "invalid UTF-8"}
	}
	s := scanner{buf: line, line: string(line)}
	ev, err := s.event()
	if err != nil {
		return nil, err
	}
	if err := reducer.Validate(ev); err != nil {
		return nil, err
	}
	return ev, nil
}

func firstInvalidUTF8(b []byte) int {
	for i := 0; i < len(b); {
		r, size := utf8.DecodeRune(b[i:])
		if r == utf8.RuneError && size == 1 {
			return i
		}
		i += size
	}
	return len(b)
}

// The top-level keys, as bits of header.seen and header.have. The payload
// keys come first, at the bit of their reducer.Kind.
const (
	keyCart uint16 = 1 << iota
	keyCustomer
	keyAction
	keyType
	keyVisitorID
	keyEventID
	keyOccurredAt
)

// keyNames names the top-level keys by bit number.
var keyNames = [...]string{"cart", "customer", "action", "type", "visitor_id", "event_id", "occurred_at"}

func keyName(bit uint16) string { return keyNames[bits.TrailingZeros16(bit)] }

// headerKey returns the bit of a top-level key, 0 for an unknown one.
func headerKey(key []byte) uint16 {
	switch string(key) {
	case "type":
		return keyType
	case "visitor_id":
		return keyVisitorID
	case "event_id":
		return keyEventID
	case "occurred_at":
		return keyOccurredAt
	case "cart":
		return keyCart
	case "customer":
		return keyCustomer
	case "action":
		return keyAction
	}
	return 0
}

// header is the top level of an event line, read before the payload.
type header struct {
	kind       reducer.Kind
	visitorID  string
	eventID    string
	occurredAt int64
	payload    [3]int // where each payload's value starts, by reducer.Kind
	seen       uint16 // keys read, to reject duplicates
	have       uint16 // keys read with a non-null value
}

// event reads the whole top-level object, then decodes the payload of the
// event's type from where it was seen, wherever "type" comes in the object.
// Payload keys of the other types are ignored like any unknown key.
func (s *scanner) event() (*reducer.Event, error) {
	var h header
	if err := s.header(&h); err != nil {
		return nil, err
	}
	if err := s.end(); err != nil {
		return nil, err
	}
	for _, k := range [...]uint16{keyType, keyVisitorID, keyEventID, keyOccurredAt} {
		if h.have&k == 0 {
			return nil, within(keyName(k), fieldErr("is required"))
		}
	}
	ev := reducer.Event{Kind: h.kind, VisitorID: h.visitorID, EventID: h.eventID, OccurredAt: h.occurredAt}
	present := h.have&(1<<h.kind) != 0
	s.pos = h.payload[h.kind]
	switch h.kind {
	case reducer.KindCart:
		return s.cartEvent(ev, present)
	case reducer.KindCustomer:
		return s.customerEvent(ev, present)
	}
	return s.actionEvent(ev, present)
}

func (s *scanner) header(h *header) error {
	if s.peek() != '{' {
		if s.pos == len(s.buf) {
			return s.syntaxErr("blank line")
		}
		return s.syntaxErr("expected an object")
	}
	s.pos++
	for n := 0; ; n++ {
		key, ok, err := s.member(n)
		if err != nil || !ok {
			return err
		}
		if err := s.headerMember(h, key); err != nil {
			return err
		}
	}
}

// headerMember reads one top-level member. Null counts as absent. A
// payload is only checked for syntax here.
func (s *scanner) headerMember(h *header, key []byte) error {
	bit := headerKey(key)
	if bit == 0 {
		return s.skip(1)
	}
	if err := once(&h.seen, bit); err != nil {
		return within(keyName(bit), err)
	}
	if isNull, err := s.null(); isNull || err != nil {
		return err
	}
	h.have |= bit
	var err error
	switch bit {
	case keyType:
		h.kind, err = s.eventKind()
	case keyVisitorID:
		h.visitorID, err = s.str()
		h.visitorID = strings.Clone(h.visitorID) // reducer keys: do not pin the line
	case keyEventID:
		h.eventID, err = s.str()
	case keyOccurredAt:
		h.occurredAt, err = s.timestamp()
	default:
		h.payload[bits.TrailingZeros16(bit)] = s.pos // the payload bits are 1<<Kind
		return s.skip(1)
	}
	if err != nil {
		return within(keyName(bit), err)
	}
	return nil
}

// eventKind reads the event's "type".
func (s *scanner) eventKind() (reducer.Kind, error) {
	v, err := s.str()
	if err != nil {
		return 0, err
	}
	k, ok := reducer.ParseKind(v)
	if !ok {
		return 0, fieldErr("unknown event type" + quoteSymbol(v))
	}
	return k, nil
}

// timestamp reads an RFC 3339 string as milliseconds since the epoch,
// truncating finer digits.
func (s *scanner) timestamp() (int64, error) {
	const rule = "must be an RFC 3339 timestamp string"
	if s.peek() != '"' {
		return 0, s.typeErr(rule)
	}
	v, err := s.str()
	if err != nil {
		return 0, err
	}
	t, err := time.Parse(time.RFC3339Nano, v)
	if err != nil {
		return 0, fieldErr(rule)
	}
	return t.UnixMilli(), nil
}

// quoteSymbol returns ` "v"` when v looks like an enum symbol (a letter or
// '_', then letters, digits and '_', at most 64 bytes), and "" otherwise:
// an error may name an unknown type, but must never echo shopper data that
// landed in the wrong field.
func quoteSymbol(v string) string {
	if len(v) == 0 || len(v) > 64 || '0' <= v[0] && v[0] <= '9' {
		return ""
	}
	for i := 0; i < len(v); i++ {
		c := v[i]
		if !(c == '_' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9') {
			return ""
		}
	}
	return ` "` + v + `"`
}
