package eventjson

import (
	"errors"
	"strconv"

	"github.com/sessiond/sessiond/reducer"
)

// SyntaxError reports a line that is not a well-formed JSON object. It
// wraps reducer.ErrInvalid: a malformed line is a rejected event like any
// other. The message never quotes the input.
type SyntaxError struct {
	Column int    // 1-based byte column of the offending byte
	Msg    string // e.g. "expected ':' after object key"
}

func (e *SyntaxError) Error() string {
	return "invalid JSON at column " + strconv.Itoa(e.Column) + ": " + e.Msg
}

// Unwrap makes errors.Is(err, reducer.ErrInvalid) hold.
func (e *SyntaxError) Unwrap() error { return reducer.ErrInvalid }

// Shape errors are reducer.FieldErrors, so that JSON decoding and
// reducer.Validate report rejections alike. A reader that does not know
// where it is leaves Field empty; each enclosing decoder adds its part of
// the path on the way out (see within), so the path is only built for a
// line that is rejected.
func fieldErr(reason string) error { return &reducer.FieldError{Reason: reason} }

// within prefixes the path of a FieldError coming out of a nested value
// with the name or index of that value: "quantity" within "[0]" within
// "items" within "cart" is "cart.items[0].quantity". Other errors, and nil,
// pass through.
func within(prefix string, err error) error {
	var fe *reducer.FieldError
	if err == nil || !errors.As(err, &fe) {
		return err
	}
	switch {
	case fe.Field == "":
		fe.Field = prefix
	case fe.Field[0] == '[':
		fe.Field = prefix + fe.Field
	default:
		fe.Field = prefix + "." + fe.Field
	}
	return err
}

// index names element i of a list, to be used with within.
func index(i int) string { return "[" + strconv.Itoa(i) + "]" }

// once records a key in the bit set of keys already read in an object and
// rejects a repeated one: a JSON object with two values for one name is
// ambiguous, and readers disagree on which one wins.
func once(seen *uint16, bit uint16) error {
	if *seen&bit != 0 {
		return fieldErr("duplicate key")
	}
	*seen |= bit
	return nil
}
