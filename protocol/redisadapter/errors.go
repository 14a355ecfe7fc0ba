package redisadapter

import (
	"errors"

	"github.com/sockwasm/sockwasm/protocol/msgpack"
)

// Limits bounds what the decoders accept from an untrusted peer: the
// msgpack package's Limits, which decodes the values of every message.
// Zero fields mean the defaults. (The worst case of a decoder's
// allocations, about 20 times the message's size, is a list of one-byte
// room names, each taking a 16-byte Go string header.)
type Limits = msgpack.Limits

// Default limits, used where a Limits field is zero.
const (
	DefaultMaxDepth       = msgpack.DefaultMaxDepth
	DefaultMaxAttachments = msgpack.DefaultMaxAttachments
)

// envelopeDepth is the nesting of a message around its payload values
// (message map, "packet" map, "data" array), allowed on top of MaxDepth
// when a whole JSON message is transcoded.
const envelopeDepth = 4

// Errors returned by the encoders and decoders. Wrapped errors,
// *SyntaxError and *FieldError values match them with errors.Is. The
// errors of msgpack values are the msgpack package's.
var (
	// ErrInvalidMsgpack reports bytes that are not one complete msgpack
	// value as notepack.io would decode it.
	ErrInvalidMsgpack = msgpack.ErrInvalidMsgpack
	// ErrInvalidJSON reports JSON text that does not parse.
	ErrInvalidJSON = msgpack.ErrInvalidJSON
	// ErrTooDeep reports a value nested deeper than Limits.MaxDepth.
	ErrTooDeep = msgpack.ErrTooDeep
	// ErrTooManyAttachments reports more binary values than
	// Limits.MaxAttachments.
	ErrTooManyAttachments = msgpack.ErrTooManyAttachments
	// ErrBadPlaceholder reports a placeholder whose num does not name an
	// attachment, or, when decoding msgpack, a map that would read as a
	// placeholder.
	ErrBadPlaceholder = msgpack.ErrBadPlaceholder
	// ErrMapKey reports a msgpack map key that is neither a string nor a
	// number.
	ErrMapKey = msgpack.ErrMapKey
	// ErrInvalidMessage reports a well-formed value without the shape the
	// message requires (a member of the wrong type, a missing member).
	ErrInvalidMessage = errors.New("redisadapter: invalid message")
	// ErrUnknownType reports a request, response or cluster message type
	// this package does not know.
	ErrUnknownType = errors.New("redisadapter: unknown message type")
)

// SyntaxError is a msgpack or JSON syntax error at a byte offset (the
// msgpack package's). It matches ErrInvalidMsgpack or ErrInvalidJSON.
type SyntaxError = msgpack.SyntaxError

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
