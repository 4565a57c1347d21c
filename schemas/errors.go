package schemas

import "errors"

// Sentinel errors. Decode failures wrap ErrDecode; validation failures are
// reducer's own errors and wrap reducer.ErrInvalid.
var (
	// ErrDecode is wrapped by every failure to read Avro binary: truncated or
	// garbage input, trailing bytes, a value of the wrong shape.
	ErrDecode = errors.New("malformed avro")
	// ErrEncode is wrapped by every failure to write Avro binary: a value the
	// schema cannot represent, such as an action event without an action.
	ErrEncode = errors.New("cannot encode avro")
	// ErrKind reports an event kind this package has no schema for.
	ErrKind = errors.New("unknown event kind")
	// ErrSnapshotVersion reports a changelog record written in a layout
	// this version cannot read. It is returned wrapped with ErrDecode.
	ErrSnapshotVersion = errors.New("unsupported snapshot version")
)
