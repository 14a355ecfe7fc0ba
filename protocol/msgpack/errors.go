package msgpack

import (
	"errors"
	"strconv"

	"github.com/sockwasm/sockwasm/protocol/socketio"
)

// Default limits, used where a Limits field is zero.
const (
	// DefaultMaxDepth bounds the nesting of arrays and maps (objects) inside
	// one payload value, the same bound socketio applies to JSON data.
	DefaultMaxDepth = socketio.DefaultMaxDepth
	// DefaultMaxAttachments bounds the binary values of one message. It is
	// socket.io-parser's own bound: a packet with more attachments would be
	// refused by every JavaScript client it is delivered to.
	DefaultMaxAttachments = socketio.DefaultMaxAttachments
)

// Limits bounds what the decoders accept from an untrusted peer. Zero
// fields mean the defaults. Whatever the limits, a decoder allocates no
// more than a small multiple of the message's size: every array or map
// must fit in the bytes that remain, every string or binary value is read
// from the message itself, and JSON output is sized by a first reading.
type Limits struct {
	// MaxDepth bounds the nesting of arrays and maps in a payload value
	// (the data of a packet, an ack argument, a handshake). A binary value
	// counts as one level, for the placeholder object that replaces it in
	// JSON.
	MaxDepth int
	// MaxAttachments bounds the binary values of one message.
	MaxAttachments int
}

// WithDefaults returns l with its zero fields set to the defaults.
func (l Limits) WithDefaults() Limits {
	if l.MaxDepth <= 0 {
		l.MaxDepth = DefaultMaxDepth
	}
	if l.MaxAttachments <= 0 {
		l.MaxAttachments = DefaultMaxAttachments
	}
	return l
}

// Errors returned by the encoders and decoders. Wrapped errors and
// *SyntaxError values match them with errors.Is.
var (
	// ErrInvalidMsgpack reports bytes that are not one complete msgpack
	// value as notepack.io would decode it.
	ErrInvalidMsgpack = errors.New("msgpack: invalid msgpack")
	// ErrInvalidJSON reports JSON text that does not parse.
	ErrInvalidJSON = errors.New("msgpack: invalid JSON")
	// ErrTooDeep reports a value nested deeper than Limits.MaxDepth.
	ErrTooDeep = errors.New("msgpack: value nested too deep")
	// ErrTooManyAttachments reports more binary values than
	// Limits.MaxAttachments.
	ErrTooManyAttachments = errors.New("msgpack: too many binary attachments")
	// ErrBadPlaceholder reports a placeholder whose num does not name an
	// attachment, or, when decoding msgpack, a map that would read as a
	// placeholder.
	ErrBadPlaceholder = errors.New("msgpack: invalid binary placeholder")
	// ErrMapKey reports a msgpack map key that is neither a string nor a
	// number.
	ErrMapKey = errors.New("msgpack: map key is not a string or a number")
	// ErrUnexpectedBinary reports a binary value where only JSON values
	// may be (Reader.AppendJSONValue without attachments).
	ErrUnexpectedBinary = errors.New("msgpack: binary value in a JSON-only member")
)

// SyntaxError is a msgpack or JSON syntax error at a byte offset. It
// matches ErrInvalidMsgpack or ErrInvalidJSON.
type SyntaxError struct {
	// Offset is the byte offset of the error in the input.
	Offset int
	// Msg describes the error.
	Msg string
	// JSON is set for errors in JSON text, clear for msgpack.
	JSON bool
}

// Error implements error.
func (e *SyntaxError) Error() string {
	what := "msgpack"
	if e.JSON {
		what = "JSON"
	}
	return "msgpack: invalid " + what + " at offset " + strconv.Itoa(e.Offset) + ": " + e.Msg
}

// Unwrap makes a SyntaxError match ErrInvalidJSON or ErrInvalidMsgpack.
func (e *SyntaxError) Unwrap() error {
	if e.JSON {
		return ErrInvalidJSON
	}
	return ErrInvalidMsgpack
}
