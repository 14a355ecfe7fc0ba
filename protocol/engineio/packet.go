package engineio

import (
	"encoding/base64"
	"errors"
	"strconv"
	"unicode/utf8"
)

// PacketType is the type of an Engine.IO packet.
type PacketType byte

// Packet types, with their wire characters '0' to '6'.
const (
	PacketOpen    PacketType = 0
	PacketClose   PacketType = 1
	PacketPing    PacketType = 2
	PacketPong    PacketType = 3
	PacketMessage PacketType = 4
	PacketUpgrade PacketType = 5
	PacketNoop    PacketType = 6
)

// Separator joins the packets of a long-polling payload.
const Separator byte = 0x1e

// binaryPrefix marks a base64-encoded binary message inside a payload.
const binaryPrefix byte = 'b'

var packetTypeNames = [...]string{"open", "close", "ping", "pong", "message", "upgrade", "noop"}

// String returns the protocol's name of the type ("open", "message", ...).
func (t PacketType) String() string {
	if int(t) < len(packetTypeNames) {
		return packetTypeNames[t]
	}
	return "PacketType(" + strconv.Itoa(int(t)) + ")"
}

// Valid reports whether t is one of the seven Engine.IO packet types.
func (t PacketType) Valid() bool { return t <= PacketNoop }

// Char returns the wire character of t ('0' to '6').
func (t PacketType) Char() byte { return '0' + byte(t) }

// Packet is one Engine.IO packet. Binary is only meaningful for messages: it
// marks a binary message, whose Data is raw bytes.
type Packet struct {
	Type   PacketType
	Data   []byte
	Binary bool
}

// Errors returned by the decoders; test them with errors.Is.
var (
	// ErrEmptyPacket is returned for a packet with no bytes at all.
	ErrEmptyPacket = errors.New("engineio: empty packet")
	// ErrUnknownType is returned when a packet's first byte is not a known type.
	ErrUnknownType = errors.New("engineio: unknown packet type")
	// ErrBadBase64 is returned when a 'b' packet does not hold valid base64.
	ErrBadBase64 = errors.New("engineio: bad base64 in binary packet")
	// ErrInvalidUTF8 is returned when a text packet is not valid UTF-8: a
	// WebSocket text frame and a polling payload must be UTF-8 text
	// (RFC 6455 §5.6; the reference server decodes payloads as UTF-8).
	ErrInvalidUTF8 = errors.New("engineio: text packet is not valid UTF-8")
)

// DecodeError says where in its input a decoder failed. It wraps one of the
// package's sentinel errors.
type DecodeError struct {
	// Offset is the byte offset of the failing packet in the input.
	Offset int
	// Err is the sentinel error: ErrEmptyPacket, ErrUnknownType,
	// ErrBadBase64 or ErrInvalidUTF8.
	Err error
}

// Error implements error.
func (e *DecodeError) Error() string {
	return e.Err.Error() + " at offset " + strconv.Itoa(e.Offset)
}

// Unwrap returns the sentinel error.
func (e *DecodeError) Unwrap() error { return e.Err }

// DecodeText decodes one text packet: a WebSocket text frame or one element
// of a polling payload. A packet starting with 'b' is a base64 binary message.
// A text packet's data must be valid UTF-8. For text packets Data aliases
// frame; for binary ones it is newly allocated. Errors are *DecodeError with
// Offset 0.
func DecodeText(frame []byte) (Packet, error) {
	p, err := decodeText(frame)
	if err != nil {
		return Packet{}, &DecodeError{Err: err}
	}
	return p, nil
}

// decodeText is DecodeText returning the bare sentinel error.
func decodeText(frame []byte) (Packet, error) {
	if len(frame) == 0 {
		return Packet{}, ErrEmptyPacket
	}
	c := frame[0]
	if c == binaryPrefix {
		enc := frame[1:]
		data := make([]byte, base64.StdEncoding.DecodedLen(len(enc)))
		n, err := base64.StdEncoding.Decode(data, enc)
		if err != nil {
			return Packet{}, ErrBadBase64
		}
		return Packet{Type: PacketMessage, Data: data[:n], Binary: true}, nil
	}
	t := PacketType(c - '0')
	if c < '0' || !t.Valid() {
		return Packet{}, ErrUnknownType
	}
	p := Packet{Type: t}
	if len(frame) > 1 {
		// utf8.Valid checks eight ASCII bytes at a time: cheap for the
		// JSON that Socket.IO sends.
		if !utf8.Valid(frame[1:]) {
			return Packet{}, ErrInvalidUTF8
		}
		p.Data = frame[1:]
	}
	return p, nil
}

// DecodeBinary decodes a WebSocket binary frame: always a binary message
// whose Data is frame itself.
func DecodeBinary(frame []byte) Packet {
	return Packet{Type: PacketMessage, Data: frame, Binary: true}
}

// DecodePayload decodes a long-polling payload and calls fn with each packet
// in order. It stops at the first malformed packet (including a text packet
// that is not valid UTF-8), returning a *DecodeError,
// or at the first error fn returns, returning it unchanged. Packets already
// handed to fn stay delivered. Text Data aliases payload.
func DecodePayload(payload []byte, fn func(Packet) error) error {
	off := 0
	for {
		end := off
		for end < len(payload) && payload[end] != Separator {
			end++
		}
		p, err := decodeText(payload[off:end])
		if err != nil {
			return &DecodeError{Offset: off, Err: err}
		}
		if err := fn(p); err != nil {
			return err
		}
		if end == len(payload) {
			return nil
		}
		off = end + 1
	}
}

// AppendText appends the text encoding of p to dst: the type character and
// the data, or for a binary message 'b' and the base64 of the data (the form
// used inside polling payloads).
func AppendText(dst []byte, p Packet) []byte {
	if p.Binary && p.Type == PacketMessage {
		dst = append(dst, binaryPrefix)
		return base64.StdEncoding.AppendEncode(dst, p.Data)
	}
	dst = append(dst, p.Type.Char())
	return append(dst, p.Data...)
}

// AppendPayload appends the long-polling payload of packets to dst.
func AppendPayload(dst []byte, packets ...Packet) []byte {
	for i, p := range packets {
		if i > 0 {
			dst = append(dst, Separator)
		}
		dst = AppendText(dst, p)
	}
	return dst
}

// TextLen returns the length of p's text encoding, as AppendText writes it.
func TextLen(p Packet) int {
	if p.Binary && p.Type == PacketMessage {
		return 1 + base64.StdEncoding.EncodedLen(len(p.Data))
	}
	return 1 + len(p.Data)
}
