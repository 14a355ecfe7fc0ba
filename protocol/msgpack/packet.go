package msgpack

import (
	"errors"
	"math"

	"github.com/sockwasm/sockwasm/protocol/socketio"
)

// Errors of DecodePacket for a msgpack value that is not a valid packet,
// with the messages of socket.io-msgpack-parser's checkPacket. They match
// ErrInvalidPacket.
var (
	// ErrInvalidPacket reports a well-formed msgpack value that is not a
	// packet socket.io-msgpack-parser accepts.
	ErrInvalidPacket = errors.New("msgpack: invalid packet")

	errNotMap      = &PacketError{"not a map"}
	errPacketType  = &PacketError{"invalid packet type"}
	errNamespace   = &PacketError{"invalid namespace"}
	errPayload     = &PacketError{"invalid payload"}
	errPacketID    = &PacketError{"invalid packet id"}
	errPayloadData = &PacketError{"invalid payload: binary value in a CONNECT or CONNECT_ERROR payload"}
)

// PacketError describes why a msgpack value is not a valid packet. It
// matches ErrInvalidPacket.
type PacketError struct {
	// Msg is socket.io-msgpack-parser's message, like "invalid packet type".
	Msg string
}

// Error implements error.
func (e *PacketError) Error() string { return "msgpack: " + e.Msg }

// Unwrap makes a PacketError match ErrInvalidPacket.
func (e *PacketError) Unwrap() error { return ErrInvalidPacket }

// DecodePacket decodes msg, one binary message of socket.io-msgpack-parser
// 3.0.2: the msgpack map {type, nsp, data?, id?} notepack.io encodes. It
// checks the packet as the parser's checkPacket does: type an integer of
// 0 (CONNECT) to 4 (CONNECT_ERROR), nsp a string, data absent or a map
// for CONNECT, absent for DISCONNECT, a string or a map for CONNECT_ERROR,
// an array for EVENT and ACK, and id absent or an integer. A member whose
// value is undefined is absent; other members (socket.io-client sends
// "options") are skipped.
//
// Packet.Data is the data as JSON text, what the JSON parser would deliver
// (see AppendJSON): binary values become placeholders
// {"_placeholder":true,"num":N} and their bytes Packet.Attachments, which
// alias msg; nil when the packet has no data. The type stays EVENT or ACK
// whatever the data holds (the format has no BINARY_* types).
//
// Stricter than the parser, as the JSON decoder is: an EVENT's first
// element must be a string that is not a reserved event name
// (socketio.CheckEventName); an ack id must be a non-negative integer
// below 2^64; binary values in a CONNECT or CONNECT_ERROR payload are
// refused (the JSON parser cannot carry them either).
func DecodePacket(msg []byte, lim Limits) (socketio.Packet, error) {
	r := NewReader(msg, lim)
	defer r.Release()
	p := socketio.Packet{}
	t, err := r.Next()
	if err != nil {
		return p, err
	}
	if t.Kind != KindMap {
		if err := r.Skip(t, 1); err != nil {
			return p, err
		}
		return p, errNotMap
	}
	typ, hasType, hasNsp := int64(-1), false, false
	badType, badNsp, badID := false, false, false
	var data Token // valid when hasData
	hasData := false
	var dataJSON []byte // in r.json, until the packet is read
	var atts [][]byte
	for range t.Len {
		k, err := r.Next()
		if err != nil {
			return p, err
		}
		var key []byte
		switch k.Kind {
		case KindStr:
			key = k.Bytes
		case KindInt, KindUint, KindFloat:
		default:
			return p, ErrMapKey
		}
		v, err := r.Next()
		if err != nil {
			return p, err
		}
		if v.Kind == KindUndefined {
			// JavaScript reads the member as absent: a later one with
			// the same key undoes an earlier one.
			switch string(key) {
			case "type":
				hasType, badType = false, false
			case "nsp":
				hasNsp, badNsp = false, false
			case "data":
				hasData, dataJSON, atts = false, nil, atts[:0]
			case "id":
				p.HasID, badID = false, false
			}
			continue
		}
		switch string(key) {
		case "type":
			n, ok := integer(v)
			hasType, badType, typ = true, !ok, n
		case "nsp":
			hasNsp, badNsp = true, v.Kind != KindStr
			if !badNsp {
				p.Namespace = namespace(v.Bytes)
			}
		case "id":
			p.HasID = true
			if v.Kind == KindUint {
				p.ID, badID = v.Uint, false
				break
			}
			n, ok := integer(v)
			p.ID, badID = uint64(n), !ok || n < 0
		case "data":
			data, hasData = v, true
			atts = atts[:0]
			var defined bool
			r.json, defined, err = r.AppendJSONValue(r.json[:0], v, &atts, 0)
			if err != nil {
				return p, err
			}
			dataJSON = nil
			if defined {
				dataJSON = r.json
			}
			continue
		}
		if err := r.Skip(v, 1); err != nil {
			return p, err
		}
	}
	if err := r.End(); err != nil {
		return p, err
	}
	if !hasType || badType || typ < int64(socketio.Connect) || typ > int64(socketio.ConnectError) {
		return p, errPacketType
	}
	p.Type = socketio.Type(typ)
	if !hasNsp || badNsp {
		return p, errNamespace
	}
	if hasData && dataJSON != nil {
		// The JSON was written in the reader's buffer, in one pass: it
		// is copied out at its size.
		p.Data = append(make([]byte, 0, len(dataJSON)), dataJSON...)
	}
	switch p.Type {
	case socketio.Connect:
		if p.Data != nil && data.Kind != KindMap {
			return p, errPayload
		}
	case socketio.Disconnect:
		if p.Data != nil {
			return p, errPayload
		}
	case socketio.ConnectError:
		if p.Data == nil || (data.Kind != KindMap && data.Kind != KindStr) {
			return p, errPayload
		}
	default:
		if p.Data == nil || data.Kind != KindArray {
			return p, errPayload
		}
	}
	if p.HasID && badID {
		return p, errPacketID
	}
	if len(atts) > 0 {
		if p.Type == socketio.Connect || p.Type == socketio.ConnectError {
			return p, errPayloadData
		}
		p.Attachments = atts
	}
	if p.Type == socketio.Event {
		if err := socketio.CheckEventName(p.Data); err != nil {
			return p, err
		}
	}
	return p, nil
}

// integer returns the integral number v, as Number.isInteger accepts it.
func integer(v Token) (int64, bool) {
	switch v.Kind {
	case KindInt:
		return v.Int, true
	case KindFloat:
		if v.Float == math.Trunc(v.Float) && math.Abs(v.Float) < 1<<63 {
			return int64(v.Float), true
		}
	}
	return 0, false
}

// namespace returns the namespace in the bytes of a msgpack str, without
// allocating for the main one.
func namespace(b []byte) string {
	if string(b) == socketio.DefaultNamespace {
		return socketio.DefaultNamespace
	}
	return socketio.NodeString(b)
}

// AppendPacket appends the msgpack message of p as socket.io-msgpack-parser
// encodes the packet object a Node.js socket.io 4.8 server builds, member
// for member: {type, data, nsp} for CONNECT, CONNECT_ERROR and a broadcast
// EVENT, {type, data, id, nsp} for an EVENT with an ack id, {id, type,
// data, nsp} for an ACK and {type, nsp} for DISCONNECT. BINARY_EVENT and
// BINARY_ACK are written as EVENT and ACK: p.Data is JSON text whose
// placeholders {"_placeholder":true,"num":N} stand for p.Attachments[N],
// written inline as bin (see AppendMsgpack). An empty p.Namespace is
// written as "/". Nesting beyond lim.MaxDepth is refused; on error dst is
// returned unchanged.
//
// Node.js also writes the CONNECT payload's pid member, undefined unless
// connection state recovery is on; p.Data has none.
func AppendPacket(dst []byte, p *socketio.Packet, lim Limits) ([]byte, error) {
	lim = lim.WithDefaults()
	w := Writer{buf: dst}
	typ := p.Type
	switch typ {
	case socketio.BinaryEvent:
		typ = socketio.Event
	case socketio.BinaryAck:
		typ = socketio.Ack
	}
	nsp := p.Namespace
	if nsp == "" {
		nsp = socketio.DefaultNamespace
	}
	hasData := p.Data != nil && typ != socketio.Disconnect
	n := 2
	if hasData {
		n++
	}
	if p.HasID {
		n++
	}
	w.MapLen(n)
	if p.HasID && typ == socketio.Ack {
		w.Str("id")
		w.Uint(p.ID)
	}
	w.Str("type")
	w.Uint(uint64(typ))
	if hasData {
		w.Str("data")
		if err := w.JSONValue(p.Data, p.Attachments, lim); err != nil {
			return dst, err
		}
	}
	if p.HasID && typ != socketio.Ack {
		w.Str("id")
		w.Uint(p.ID)
	}
	w.Str("nsp")
	w.Str(nsp)
	return w.buf, nil
}
