package redisadapter

import (
	"encoding/json"
	"fmt"
	"github.com/sockwasm/sockwasm/protocol/msgpack"
	"strconv"

	"github.com/sockwasm/sockwasm/protocol/socketio"
)

// RequestType is the type of a request or of a typed response of the
// classic adapter, @socket.io/redis-adapter's RequestType.
type RequestType int

// Request and response types.
const (
	// TypeSockets asks every server for the ids of its sockets in some
	// rooms (allSockets of socket.io 2 and 3; not sent by adapter 8.x).
	TypeSockets RequestType = 0
	// TypeAllRooms asks every server for its rooms.
	TypeAllRooms RequestType = 1
	// TypeRemoteJoin makes matching sockets join rooms.
	TypeRemoteJoin RequestType = 2
	// TypeRemoteLeave makes matching sockets leave rooms.
	TypeRemoteLeave RequestType = 3
	// TypeRemoteDisconnect disconnects matching sockets.
	TypeRemoteDisconnect RequestType = 4
	// TypeRemoteFetch asks every server for the details of matching
	// sockets (fetchSockets).
	TypeRemoteFetch RequestType = 5
	// TypeServerSideEmit emits an event to the other servers.
	TypeServerSideEmit RequestType = 6
	// TypeBroadcast is a broadcast with acknowledgements (msgpack).
	TypeBroadcast RequestType = 7
	// TypeBroadcastClientCount answers a TypeBroadcast with the number of
	// clients that were sent the packet.
	TypeBroadcastClientCount RequestType = 8
	// TypeBroadcastAck carries one client's acknowledgement (msgpack).
	TypeBroadcastAck RequestType = 9
)

var requestTypeNames = [...]string{
	"SOCKETS", "ALL_ROOMS", "REMOTE_JOIN", "REMOTE_LEAVE", "REMOTE_DISCONNECT",
	"REMOTE_FETCH", "SERVER_SIDE_EMIT", "BROADCAST", "BROADCAST_CLIENT_COUNT", "BROADCAST_ACK",
}

// String returns the type's name as the reference implementation spells it.
func (t RequestType) String() string {
	if t >= 0 && int(t) < len(requestTypeNames) {
		return requestTypeNames[t]
	}
	return "RequestType(" + strconv.Itoa(int(t)) + ")"
}

// Request is a message of the request channel: *SocketsRequest,
// *AllRoomsRequest, *JoinRequest, *LeaveRequest, *DisconnectRequest,
// *LegacyRequest, *FetchSocketsRequest, *ServerSideEmitRequest or
// *BroadcastRequest.
type Request interface {
	// RequestType returns the request's type.
	RequestType() RequestType
	appendRequest(dst []byte) ([]byte, error)
}

// SocketsRequest is {uid, requestId, type: 0, rooms}: every server
// answers with a SocketsResponse listing the ids of its sockets in any
// of Rooms (all of them when Rooms is empty).
type SocketsRequest struct {
	UID       string
	RequestID string
	Rooms     []string
}

// AllRoomsRequest is {uid, requestId, type: 1}: every server answers with
// an AllRoomsResponse.
type AllRoomsRequest struct {
	UID       string
	RequestID string
}

// JoinRequest is {uid, type: 2, opts: {rooms, except}, rooms}: the
// sockets Opts selects, on every server including the sender, join
// Rooms. Nobody answers. The emitter's requests have no uid.
type JoinRequest struct {
	UID   string
	Opts  BroadcastOptions
	Rooms []string
}

// LeaveRequest is {uid, type: 3, opts: {rooms, except}, rooms}: the
// sockets Opts selects leave Rooms, as for JoinRequest.
type LeaveRequest struct {
	UID   string
	Opts  BroadcastOptions
	Rooms []string
}

// DisconnectRequest is {uid, type: 4, opts: {rooms, except}, close}: the
// sockets Opts selects, on every server including the sender, are
// disconnected, with their whole connection when Close.
type DisconnectRequest struct {
	UID   string
	Opts  BroadcastOptions
	Close bool
}

// LegacyRequest is the form of types 2, 3 and 4 that names one socket,
// sent by adapters before 8.0: {uid, requestId, type, sid, room} for
// join and leave, {uid, requestId, type, sid, close} for disconnect. The
// server that has socket SID acts and answers with a LegacyResponse.
type LegacyRequest struct {
	// Type is TypeRemoteJoin, TypeRemoteLeave or TypeRemoteDisconnect.
	Type      RequestType
	UID       string
	RequestID string
	SID       string
	// Room is the room to join or leave.
	Room string
	// Close is the close flag of a disconnect.
	Close bool
}

// FetchSocketsRequest is {uid, requestId, type: 5, opts: {rooms,
// except}}: every server answers with a SocketsResponse carrying the
// details of the sockets Opts selects.
type FetchSocketsRequest struct {
	UID       string
	RequestID string
	Opts      BroadcastOptions
}

// ServerSideEmitRequest is {uid, requestId, type: 6, data}: the other
// servers emit the event Data, the JSON array [event, ...args], to their
// serverSideEmit listeners. With a RequestID the sender expects one
// ServerSideEmitResponse from each; without, the message has no
// requestId. Data is JSON only: the classic adapter sends it with
// JSON.stringify.
type ServerSideEmitRequest struct {
	UID       string
	RequestID string
	Data      json.RawMessage
}

// BroadcastRequest is the msgpack map {uid, requestId, type: 7, packet,
// opts: {rooms, except, flags}} of a broadcast with acknowledgements
// (flags.timeout is the ack timeout). Every other server broadcasts the
// packet locally, answers at once with a ClientCountResponse, then with
// one BroadcastAckResponse per client acknowledgement.
type BroadcastRequest struct {
	UID       string
	RequestID string
	Packet    Packet
	Opts      BroadcastOptions
}

// RequestType implements Request.
func (*SocketsRequest) RequestType() RequestType { return TypeSockets }

// RequestType implements Request.
func (*AllRoomsRequest) RequestType() RequestType { return TypeAllRooms }

// RequestType implements Request.
func (*JoinRequest) RequestType() RequestType { return TypeRemoteJoin }

// RequestType implements Request.
func (*LeaveRequest) RequestType() RequestType { return TypeRemoteLeave }

// RequestType implements Request.
func (*DisconnectRequest) RequestType() RequestType { return TypeRemoteDisconnect }

// RequestType implements Request.
func (r *LegacyRequest) RequestType() RequestType { return r.Type }

// RequestType implements Request.
func (*FetchSocketsRequest) RequestType() RequestType { return TypeRemoteFetch }

// RequestType implements Request.
func (*ServerSideEmitRequest) RequestType() RequestType { return TypeServerSideEmit }

// RequestType implements Request.
func (*BroadcastRequest) RequestType() RequestType { return TypeBroadcast }

// AppendRequest appends the message of req as the classic adapter
// publishes it: JSON with the members in the adapter's order, msgpack for
// a *BroadcastRequest. An empty UID is left out, as in the emitter's
// requests. On error dst is returned unchanged.
func AppendRequest(dst []byte, req Request) ([]byte, error) {
	out, err := req.appendRequest(dst)
	if err != nil {
		return dst, err
	}
	return out, nil
}

// jsonKey appends the key of the next member of the object being written.
func jsonKey(dst []byte, key string) []byte {
	if dst[len(dst)-1] != '{' {
		dst = append(dst, ',')
	}
	dst = append(dst, '"')
	dst = append(dst, key...)
	return append(dst, '"', ':')
}

func appendUIDAndID(dst []byte, uid, requestID string, withID bool) []byte {
	dst = append(dst, '{')
	if uid != "" {
		dst = jsonKey(dst, "uid")
		dst = socketio.AppendString(dst, uid)
	}
	if withID {
		dst = jsonKey(dst, "requestId")
		dst = socketio.AppendString(dst, requestID)
	}
	return dst
}

func appendJSONType(dst []byte, t int) []byte {
	dst = jsonKey(dst, "type")
	return strconv.AppendInt(dst, int64(t), 10)
}

func appendJSONStrings(dst []byte, list []string) []byte {
	dst = append(dst, '[')
	for i, s := range list {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = socketio.AppendString(dst, s)
	}
	return append(dst, ']')
}

// appendJSONOptions appends {rooms, except[, flags]}.
func appendJSONOptions(dst []byte, o *BroadcastOptions, withFlags bool) []byte {
	dst = append(dst, `{"rooms":`...)
	dst = appendJSONStrings(dst, o.Rooms)
	dst = append(dst, `,"except":`...)
	dst = appendJSONStrings(dst, o.Except)
	if withFlags {
		dst = append(dst, `,"flags":`...)
		dst = appendJSONFlags(dst, &o.Flags)
	}
	return append(dst, '}')
}

// appendJSONFlags appends the flags that are set, in the order of
// writer.flags.
func appendJSONFlags(dst []byte, f *Flags) []byte {
	dst = append(dst, '{')
	if f.ExpectSingleResponse {
		dst = jsonKey(dst, "expectSingleResponse")
		dst = append(dst, "true"...)
	}
	if f.Volatile {
		dst = jsonKey(dst, "volatile")
		dst = append(dst, "true"...)
	}
	if f.HasCompress {
		dst = jsonKey(dst, "compress")
		dst = strconv.AppendBool(dst, f.Compress)
	}
	if f.Local {
		dst = jsonKey(dst, "local")
		dst = append(dst, "true"...)
	}
	if f.HasTimeout {
		dst = jsonKey(dst, "timeout")
		dst = msgpack.AppendJSONNumber(dst, timeoutMS(f.Timeout))
	}
	return append(dst, '}')
}

func (r *SocketsRequest) appendRequest(dst []byte) ([]byte, error) {
	dst = appendUIDAndID(dst, r.UID, r.RequestID, true)
	dst = appendJSONType(dst, int(TypeSockets))
	dst = append(dst, `,"rooms":`...)
	dst = appendJSONStrings(dst, r.Rooms)
	return append(dst, '}'), nil
}

func (r *AllRoomsRequest) appendRequest(dst []byte) ([]byte, error) {
	dst = appendUIDAndID(dst, r.UID, r.RequestID, true)
	dst = appendJSONType(dst, int(TypeAllRooms))
	return append(dst, '}'), nil
}

func appendRoomsRequest(dst []byte, uid string, t RequestType, o *BroadcastOptions, rooms []string) []byte {
	dst = appendUIDAndID(dst, uid, "", false)
	dst = appendJSONType(dst, int(t))
	dst = append(dst, `,"opts":`...)
	dst = appendJSONOptions(dst, o, false)
	dst = append(dst, `,"rooms":`...)
	dst = appendJSONStrings(dst, rooms)
	return append(dst, '}')
}

func (r *JoinRequest) appendRequest(dst []byte) ([]byte, error) {
	return appendRoomsRequest(dst, r.UID, TypeRemoteJoin, &r.Opts, r.Rooms), nil
}

func (r *LeaveRequest) appendRequest(dst []byte) ([]byte, error) {
	return appendRoomsRequest(dst, r.UID, TypeRemoteLeave, &r.Opts, r.Rooms), nil
}

func (r *DisconnectRequest) appendRequest(dst []byte) ([]byte, error) {
	dst = appendUIDAndID(dst, r.UID, "", false)
	dst = appendJSONType(dst, int(TypeRemoteDisconnect))
	dst = append(dst, `,"opts":`...)
	dst = appendJSONOptions(dst, &r.Opts, false)
	dst = append(dst, `,"close":`...)
	dst = strconv.AppendBool(dst, r.Close)
	return append(dst, '}'), nil
}

func (r *LegacyRequest) appendRequest(dst []byte) ([]byte, error) {
	switch r.Type {
	case TypeRemoteJoin, TypeRemoteLeave, TypeRemoteDisconnect:
	default:
		return dst, fmt.Errorf("%w: legacy request of type %v", ErrUnknownType, r.Type)
	}
	dst = appendUIDAndID(dst, r.UID, r.RequestID, true)
	dst = appendJSONType(dst, int(r.Type))
	dst = append(dst, `,"sid":`...)
	dst = socketio.AppendString(dst, r.SID)
	if r.Type == TypeRemoteDisconnect {
		dst = append(dst, `,"close":`...)
		dst = strconv.AppendBool(dst, r.Close)
	} else {
		dst = append(dst, `,"room":`...)
		dst = socketio.AppendString(dst, r.Room)
	}
	return append(dst, '}'), nil
}

func (r *FetchSocketsRequest) appendRequest(dst []byte) ([]byte, error) {
	dst = appendUIDAndID(dst, r.UID, r.RequestID, true)
	dst = appendJSONType(dst, int(TypeRemoteFetch))
	dst = append(dst, `,"opts":`...)
	dst = appendJSONOptions(dst, &r.Opts, false)
	return append(dst, '}'), nil
}

func (r *ServerSideEmitRequest) appendRequest(dst []byte) ([]byte, error) {
	if c, _ := firstByte(r.Data); c != '[' {
		return dst, fieldErr("data", "not a JSON array")
	}
	dst = appendUIDAndID(dst, r.UID, r.RequestID, r.RequestID != "")
	dst = appendJSONType(dst, int(TypeServerSideEmit))
	dst = append(dst, `,"data":`...)
	dst, err := msgpack.AppendRawJSON(dst, r.Data, DefaultMaxDepth)
	if err != nil {
		return dst, err
	}
	return append(dst, '}'), nil
}

func (r *BroadcastRequest) appendRequest(dst []byte) ([]byte, error) {
	w := getWriter(dst)
	n := 4
	if r.UID != "" {
		n++
	}
	w.MapLen(n)
	if r.UID != "" {
		w.Str("uid")
		w.Str(r.UID)
	}
	w.Str("requestId")
	w.Str(r.RequestID)
	w.Str("type")
	w.Uint(uint64(TypeBroadcast))
	w.Str("packet")
	if err := w.packet(&r.Packet, true); err != nil {
		w.Done()
		return dst, err
	}
	w.Str("opts")
	w.options(&r.Opts, true)
	return w.Done(), nil
}

// firstByte returns the first byte of data after whitespace, or 0.
func firstByte(data []byte) (byte, int) {
	for i, c := range data {
		switch c {
		case ' ', '\t', '\n', '\r':
			continue
		}
		return c, i
	}
	return 0, len(data)
}

// messageReader returns a reader over a message of a request or response
// channel, to be released by the caller. Node.js tells the encodings
// apart by the first byte: '{' is JSON, anything else msgpack. JSON is
// transcoded to msgpack first (as notepack.io would encode what
// JSON.parse returns), so both decode through the same code; it has no
// binary values.
func messageReader(msg []byte, lim Limits) (reader, error) {
	lim = lim.WithDefaults()
	if len(msg) > 0 && msg[0] == '{' {
		buf, err := msgpack.AppendMsgpackText(make([]byte, 0, len(msg)), msg, lim.MaxDepth+envelopeDepth)
		if err != nil {
			return reader{}, err
		}
		return newReader(buf, lim), nil
	}
	return newReader(msg, lim), nil
}

// requestFields are the members of a request map. Each name has one
// shape whatever the request's type.
type requestFields struct {
	uid, requestID, sid, room string
	typ                       int64
	hasType, hasID            bool
	rooms                     []string
	opts                      BroadcastOptions
	hasOpts                   bool
	close, badData            bool
	data                      []byte
	packet                    Packet
	hasPacket                 bool
}

func (r reader) requestFields(t msgpack.Token) (requestFields, error) {
	var f requestFields
	err := r.fields(t, "message", func(key []byte, v msgpack.Token) error {
		var err error
		switch string(key) {
		case "uid":
			f.uid, err = r.stringValue(v, "uid")
		case "requestId":
			f.requestID, err = r.stringValue(v, "requestId")
			f.hasID = true
		case "type":
			f.typ, err = intValue(v, "type")
			if err != nil {
				return fmt.Errorf("%w: type is not a number", ErrUnknownType)
			}
			f.hasType = true
		case "rooms":
			f.rooms, err = r.stringList(v, "rooms")
		case "opts":
			// Node.js tests request.opts for truthiness.
			if f.hasOpts = v.Truthy(); f.hasOpts {
				f.opts, err = r.options(v, "opts")
			}
		case "close":
			f.close, err = r.boolValue(v)
		case "sid":
			f.sid, err = r.stringValue(v, "sid")
		case "room":
			f.room, err = r.roomValue(v, "room")
		case "data":
			// Only SERVER_SIDE_EMIT has data, an array.
			if f.data, f.badData = nil, v.Kind != msgpack.KindArray; f.badData {
				return r.Skip(v, 1)
			}
			f.data, _, err = r.jsonValue(nil, v, nil, 0)
		case "packet":
			// Only BROADCAST has a packet, a map.
			if f.hasPacket = v.Kind == msgpack.KindMap; !f.hasPacket {
				return r.Skip(v, 1)
			}
			f.packet, err = r.packet(v, "packet", socketio.DefaultNamespace)
		default:
			err = r.Skip(v, 1)
		}
		return err
	})
	return f, err
}

// DecodeRequest decodes a message of the request channel, JSON or
// msgpack, into its typed value. Types 2, 3 and 4 without opts are
// *LegacyRequest values. Types the request channel does not carry give
// ErrUnknownType. Strings and JSON are copied; the attachments of a
// *BroadcastRequest alias msg.
func DecodeRequest(msg []byte, lim Limits) (Request, error) {
	r, err := messageReader(msg, lim)
	if err != nil {
		return nil, err
	}
	defer r.Release()
	t, err := r.Next()
	if err != nil {
		return nil, err
	}
	f, err := r.requestFields(t)
	if err != nil {
		return nil, err
	}
	if err := r.End(); err != nil {
		return nil, err
	}
	if !f.hasType {
		return nil, fmt.Errorf("%w: no type", ErrUnknownType)
	}
	switch RequestType(f.typ) {
	case TypeSockets:
		return &SocketsRequest{UID: f.uid, RequestID: f.requestID, Rooms: f.rooms}, nil
	case TypeAllRooms:
		return &AllRoomsRequest{UID: f.uid, RequestID: f.requestID}, nil
	case TypeRemoteJoin, TypeRemoteLeave, TypeRemoteDisconnect:
		if !f.hasOpts {
			return &LegacyRequest{Type: RequestType(f.typ), UID: f.uid, RequestID: f.requestID, SID: f.sid, Room: f.room, Close: f.close}, nil
		}
		switch RequestType(f.typ) {
		case TypeRemoteJoin:
			return &JoinRequest{UID: f.uid, Opts: f.opts, Rooms: f.rooms}, nil
		case TypeRemoteLeave:
			return &LeaveRequest{UID: f.uid, Opts: f.opts, Rooms: f.rooms}, nil
		}
		return &DisconnectRequest{UID: f.uid, Opts: f.opts, Close: f.close}, nil
	case TypeRemoteFetch:
		if !f.hasOpts {
			return nil, fieldErr("opts", "missing")
		}
		return &FetchSocketsRequest{UID: f.uid, RequestID: f.requestID, Opts: f.opts}, nil
	case TypeServerSideEmit:
		switch {
		case f.badData:
			return nil, fieldErr("data", "not an array")
		case f.data == nil:
			return nil, fieldErr("data", "missing")
		}
		return &ServerSideEmitRequest{UID: f.uid, RequestID: f.requestID, Data: f.data}, nil
	case TypeBroadcast:
		if !f.hasPacket {
			return nil, fieldErr("packet", "missing or not a map")
		}
		if !f.hasOpts {
			return nil, fieldErr("opts", "missing")
		}
		return &BroadcastRequest{UID: f.uid, RequestID: f.requestID, Packet: f.packet, Opts: f.opts}, nil
	}
	return nil, fmt.Errorf("%w: request type %d", ErrUnknownType, f.typ)
}

// roomValue decodes one room name: a string, or a number in its
// JavaScript string form.
func (r reader) roomValue(v msgpack.Token, field string) (string, error) {
	switch v.Kind {
	case msgpack.KindStr:
		return r.string(v.Bytes), nil
	case msgpack.KindInt, msgpack.KindUint, msgpack.KindFloat:
		var buf [32]byte
		k, _ := msgpack.AppendMapKey(buf[:0], v)
		return string(k[1 : len(k)-1]), nil
	}
	return "", fieldErr(field, "not a string")
}
