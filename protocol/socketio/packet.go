package socketio

import (
	"errors"
	"strconv"
)

// Type is a Socket.IO packet type.
type Type byte

// Packet types of protocol version 5.
const (
	Connect      Type = 0
	Disconnect   Type = 1
	Event        Type = 2
	Ack          Type = 3
	ConnectError Type = 4
	BinaryEvent  Type = 5
	BinaryAck    Type = 6
)

// String returns the type's name as the reference implementation spells it.
func (t Type) String() string {
	switch t {
	case Connect:
		return "CONNECT"
	case Disconnect:
		return "DISCONNECT"
	case Event:
		return "EVENT"
	case Ack:
		return "ACK"
	case ConnectError:
		return "CONNECT_ERROR"
	case BinaryEvent:
		return "BINARY_EVENT"
	case BinaryAck:
		return "BINARY_ACK"
	}
	return "Type(" + strconv.Itoa(int(t)) + ")"
}

// IsBinary reports whether packets of this type carry binary attachments.
func (t Type) IsBinary() bool { return t == BinaryEvent || t == BinaryAck }

// DefaultNamespace is the main namespace, written as nothing on the wire.
const DefaultNamespace = "/"

// Errors returned by the decoder and the helpers. Wrapped errors and
// *SyntaxError values match them with errors.Is.
var (
	ErrEmptyPacket        = errors.New("socketio: empty packet")
	ErrUnknownType        = errors.New("socketio: unknown packet type")
	ErrBadAttachments     = errors.New("socketio: invalid attachment count")
	ErrTooManyAttachments = errors.New("socketio: too many attachments")
	ErrBadAckID           = errors.New("socketio: invalid ack id")
	ErrInvalidJSON        = errors.New("socketio: invalid JSON")
	ErrTooDeep            = errors.New("socketio: JSON nested too deep")
	ErrNotArray           = errors.New("socketio: payload is not an array")
	ErrEventName          = errors.New("socketio: event name is not a string")
	ErrReservedEvent      = errors.New("socketio: reserved event name")
	ErrConnectPayload     = errors.New("socketio: CONNECT payload is not an object")
	ErrUnexpectedPayload  = errors.New("socketio: payload not allowed for this packet type")
	ErrBadPlaceholder     = errors.New("socketio: invalid binary placeholder")
	ErrUnexpectedBinary   = errors.New("socketio: binary message without a pending binary packet")
	ErrUnexpectedText     = errors.New("socketio: text message while binary attachments are pending")
)

// SyntaxError is a JSON syntax error at a byte offset of the JSON data.
type SyntaxError struct {
	// Offset is the byte offset in the JSON data where the error was found.
	Offset int
	// Msg describes the error.
	Msg string
}

// Error implements error.
func (e *SyntaxError) Error() string {
	return "socketio: invalid JSON at offset " + strconv.Itoa(e.Offset) + ": " + e.Msg
}

// Unwrap makes a SyntaxError match ErrInvalidJSON.
func (e *SyntaxError) Unwrap() error { return ErrInvalidJSON }

// Packet is one decoded Socket.IO packet. Data and Attachments alias the
// decoded messages.
type Packet struct {
	Type Type
	// Namespace is the packet's namespace, "/" for the main one.
	Namespace string
	// ID is the ack id; valid when HasID.
	ID    uint64
	HasID bool
	// Data is the raw JSON payload, nil when the packet has none.
	Data []byte
	// Attachments are the binary attachments of a BINARY_* packet, in
	// placeholder order.
	Attachments [][]byte

	// event is what a Decoder found of an EVENT's name (SplitEvent).
	event eventSplit
}

// eventSplit records where the event name of a decoded EVENT packet ends,
// for Packet.SplitEvent. It holds for the Data it was recorded on: data
// and n identify that slice, so that a Packet whose Data was replaced
// since is split anew.
type eventSplit struct {
	name string
	at   int   // offset in Data of the ',' or ']' after the name; 0: none
	data *byte // &Data[0]
	n    int   // len(Data)
}

// Header is the part of a text packet before its JSON data.
type Header struct {
	Type Type
	// Namespace is written as "/nsp," unless it is "" or "/".
	Namespace string
	// Attachments is the attachment count, written for BINARY_* types only.
	Attachments int
	// ID is the ack id, written when HasID.
	ID    uint64
	HasID bool
}

// AppendHeader appends the encoded header h to dst.
func AppendHeader(dst []byte, h Header) []byte {
	dst = append(dst, '0'+byte(h.Type))
	if h.Type.IsBinary() {
		dst = strconv.AppendInt(dst, int64(h.Attachments), 10)
		dst = append(dst, '-')
	}
	if h.Namespace != "" && h.Namespace != DefaultNamespace {
		dst = append(dst, h.Namespace...)
		dst = append(dst, ',')
	}
	if h.HasID {
		dst = strconv.AppendUint(dst, h.ID, 10)
	}
	return dst
}

// AppendPacket appends the text message of p (header and data) to dst. The
// attachment count of a BINARY_* packet is len(p.Attachments); the
// attachments themselves are sent as separate binary messages.
func AppendPacket(dst []byte, p *Packet) []byte {
	dst = AppendHeader(dst, Header{
		Type:        p.Type,
		Namespace:   p.Namespace,
		Attachments: len(p.Attachments),
		ID:          p.ID,
		HasID:       p.HasID,
	})
	return append(dst, p.Data...)
}
