package redisadapter

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

// envelopeDepth is the nesting of a message around its payload values
// (message map, "packet" map, "data" array), allowed on top of MaxDepth
// when a whole JSON message is transcoded.
const envelopeDepth = 4

// Limits bounds what the decoders accept from an untrusted peer. Zero
// fields mean the defaults. Whatever the limits, a decoder allocates no
// more than a small multiple of the message's size: every array or map
// must fit in the bytes that remain, every string or binary value is read
// from the message itself, and JSON output is sized by a first reading.
// (The worst case, about 20 times, is a list of one-byte room names, each
// taking a 16-byte Go string header.)
type Limits struct {
	// MaxDepth bounds the nesting of arrays and maps in a payload value
	// (the data of a packet, an ack argument, a handshake). A binary value
	// counts as one level, for the placeholder object that replaces it in
	// JSON.
	MaxDepth int
	// MaxAttachments bounds the binary values of one message.
	MaxAttachments int
}

func (l Limits) withDefaults() Limits {
	if l.MaxDepth <= 0 {
		l.MaxDepth = DefaultMaxDepth
	}
	if l.MaxAttachments <= 0 {
		l.MaxAttachments = DefaultMaxAttachments
	}
	return l
}

// Errors returned by the encoders and decoders. Wrapped errors,
// *SyntaxError and *FieldError values match them with errors.Is.
var (
	// ErrInvalidMsgpack reports bytes that are not one complete msgpack
	// value as notepack.io would decode it.
	ErrInvalidMsgpack = errors.New("redisadapter: invalid msgpack")
	// ErrInvalidJSON reports JSON text that does not parse.
	ErrInvalidJSON = errors.New("redisadapter: invalid JSON")
	// ErrTooDeep reports a value nested deeper than Limits.MaxDepth.
	ErrTooDeep = errors.New("redisadapter: value nested too deep")
	// ErrTooManyAttachments reports more binary values than
	// Limits.MaxAttachments.
	ErrTooManyAttachments = errors.New("redisadapter: too many binary attachments")
	// ErrBadPlaceholder reports a placeholder whose num does not name an
	// attachment, or, when decoding msgpack, a map that would read as a
	// placeholder.
	ErrBadPlaceholder = errors.New("redisadapter: invalid binary placeholder")
	// ErrMapKey reports a msgpack map key that is neither a string nor a
	// number.
	ErrMapKey = errors.New("redisadapter: map key is not a string or a number")
	// ErrInvalidMessage reports a well-formed value without the shape the
	// message requires (a member of the wrong type, a missing member).
	ErrInvalidMessage = errors.New("redisadapter: invalid message")
	// ErrUnknownType reports a request, response or cluster message type
	// this package does not know.
	ErrUnknownType = errors.New("redisadapter: unknown message type")
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
	return "redisadapter: invalid " + what + " at offset " + strconv.Itoa(e.Offset) + ": " + e.Msg
}

// Unwrap makes a SyntaxError match ErrInvalidJSON or ErrInvalidMsgpack.
func (e *SyntaxError) Unwrap() error {
	if e.JSON {
		return ErrInvalidJSON
	}
	return ErrInvalidMsgpack
}

// FieldError reports a message member of the wrong shape. It matches
// ErrInvalidMessage.
type FieldError struct {
	// Field names the member, like "opts.rooms".
	Field string
	// Msg describes what is wrong with it.
	Msg string
}

// Error implements error.
func (e *FieldError) Error() string {
	return "redisadapter: invalid message: " + e.Field + ": " + e.Msg
}

// Unwrap makes a FieldError match ErrInvalidMessage.
func (e *FieldError) Unwrap() error { return ErrInvalidMessage }

func fieldErr(field, msg string) error { return &FieldError{Field: field, Msg: msg} }

// within names the member of parent that a *FieldError reports; the name
// is only built for an error.
func within(parent string, err error) error {
	if fe, ok := err.(*FieldError); ok && parent != "" {
		if fe.Field == "" {
			return &FieldError{Field: parent, Msg: fe.Msg}
		}
		return &FieldError{Field: parent + "." + fe.Field, Msg: fe.Msg}
	}
	return err
}
