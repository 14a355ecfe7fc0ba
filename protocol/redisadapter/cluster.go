package redisadapter

import (
	"encoding/json"
	"fmt"
	"github.com/sockwasm/sockwasm/protocol/msgpack"
	"strconv"
	"strings"

	"github.com/sockwasm/sockwasm/protocol/socketio"
)

// MessageType is the type of a ClusterAdapter message (socket.io-adapter's
// MessageType), the format of the sharded adapter.
type MessageType int

// ClusterAdapter message types.
const (
	MessageInitialHeartbeat       MessageType = 1
	MessageHeartbeat              MessageType = 2
	MessageBroadcast              MessageType = 3
	MessageSocketsJoin            MessageType = 4
	MessageSocketsLeave           MessageType = 5
	MessageDisconnectSockets      MessageType = 6
	MessageFetchSockets           MessageType = 7
	MessageFetchSocketsResponse   MessageType = 8
	MessageServerSideEmit         MessageType = 9
	MessageServerSideEmitResponse MessageType = 10
	MessageBroadcastClientCount   MessageType = 11
	MessageBroadcastAck           MessageType = 12
	MessageAdapterClose           MessageType = 13
)

var messageTypeNames = [...]string{
	"", "INITIAL_HEARTBEAT", "HEARTBEAT", "BROADCAST", "SOCKETS_JOIN", "SOCKETS_LEAVE",
	"DISCONNECT_SOCKETS", "FETCH_SOCKETS", "FETCH_SOCKETS_RESPONSE", "SERVER_SIDE_EMIT",
	"SERVER_SIDE_EMIT_RESPONSE", "BROADCAST_CLIENT_COUNT", "BROADCAST_ACK", "ADAPTER_CLOSE",
}

// String returns the type's name as the reference implementation spells it.
func (t MessageType) String() string {
	if t >= MessageInitialHeartbeat && int(t) < len(messageTypeNames) {
		return messageTypeNames[t]
	}
	return "MessageType(" + strconv.Itoa(int(t)) + ")"
}

// IsResponse reports whether messages of type t answer a request (and are
// published on the requester's response channel).
func (t MessageType) IsResponse() bool {
	switch t {
	case MessageFetchSocketsResponse, MessageServerSideEmitResponse, MessageBroadcastClientCount, MessageBroadcastAck:
		return true
	}
	return false
}

// mayContainBinary reports whether the sharded adapter may msgpack-encode
// messages of type t.
func (t MessageType) mayContainBinary() bool {
	switch t {
	case MessageBroadcast, MessageBroadcastAck, MessageFetchSocketsResponse, MessageServerSideEmit, MessageServerSideEmitResponse:
		return true
	}
	return false
}

// ClusterMessage is a message of the sharded adapter (a ClusterAdapter
// message or response): {type, data, uid, nsp}. Which data members a
// type has:
//
//	BROADCAST                  {packet, requestId?, opts}  Packet, RequestID (with acks), Opts
//	SOCKETS_JOIN, SOCKETS_LEAVE {opts, rooms}              Opts, Rooms
//	DISCONNECT_SOCKETS         {opts, close}               Opts, Close
//	FETCH_SOCKETS              {opts, requestId}           Opts, RequestID
//	FETCH_SOCKETS_RESPONSE     {requestId, sockets}        RequestID, Sockets
//	SERVER_SIDE_EMIT           {requestId?, packet}        RequestID (with an ack), Value = [event, ...args]
//	SERVER_SIDE_EMIT_RESPONSE  {requestId, packet}         RequestID, Value = the ack argument
//	BROADCAST_CLIENT_COUNT     {requestId, clientCount}    RequestID, ClientCount
//	BROADCAST_ACK              {requestId, packet}         RequestID, Value = the client's first ack argument
//	heartbeats, ADAPTER_CLOSE  no data
//
// A message is JSON unless its type may carry binary values and it does;
// then the whole message is msgpack, binary inline.
type ClusterMessage struct {
	Type MessageType
	// UID is the sender's uid, 16 hex digits (NewClusterUID).
	UID string
	// Nsp is the namespace; a server ignores messages of other namespaces.
	Nsp string

	// RequestID is data.requestId; "" leaves it out.
	RequestID string
	// Opts is data.opts, with flags.
	Opts BroadcastOptions
	// Packet is data.packet of a BROADCAST. Its Nsp is usually "" (not
	// sent).
	Packet Packet
	// Rooms is data.rooms of SOCKETS_JOIN and SOCKETS_LEAVE.
	Rooms []string
	// Close is data.close of DISCONNECT_SOCKETS.
	Close bool
	// Sockets is data.sockets of FETCH_SOCKETS_RESPONSE; their Handshake
	// and Data may hold placeholders for Attachments.
	Sockets []FetchedSocket
	// ClientCount is data.clientCount of BROADCAST_CLIENT_COUNT.
	ClientCount int
	// Value is data.packet of SERVER_SIDE_EMIT (the JSON array [event,
	// ...args]), SERVER_SIDE_EMIT_RESPONSE and BROADCAST_ACK (the ack
	// argument), as JSON with placeholders for Attachments; nil leaves it
	// out.
	Value json.RawMessage
	// Attachments are the binary values referred to by Value and Sockets,
	// numbered across the message in document order. (Packet has its
	// own.)
	Attachments [][]byte
}

// AppendClusterMessage appends m as the sharded adapter publishes it:
// msgpack when m carries binary values (Packet.Attachments of a
// BROADCAST, Attachments of the others that may have some), JSON
// otherwise, the members in socket.io-adapter's order. On error dst is
// returned unchanged.
func AppendClusterMessage(dst []byte, m *ClusterMessage) ([]byte, error) {
	if m.Type < MessageInitialHeartbeat || m.Type > MessageAdapterClose {
		return dst, fmt.Errorf("%w: cluster message type %d", ErrUnknownType, m.Type)
	}
	binary := len(m.Attachments) > 0 || (m.Type == MessageBroadcast && len(m.Packet.Attachments) > 0)
	if binary && !m.Type.mayContainBinary() {
		return dst, fmt.Errorf("%w: %v cannot carry binary values", ErrInvalidMessage, m.Type)
	}
	var out []byte
	var err error
	if binary {
		out, err = appendClusterMsgpack(dst, m)
	} else {
		out, err = appendClusterJSON(dst, m)
	}
	if err != nil {
		return dst, err
	}
	return out, nil
}

func appendClusterJSON(dst []byte, m *ClusterMessage) ([]byte, error) {
	dst = append(dst, `{"type":`...)
	dst = strconv.AppendInt(dst, int64(m.Type), 10)
	var err error
	if m.Type != MessageInitialHeartbeat && m.Type != MessageHeartbeat && m.Type != MessageAdapterClose {
		dst = append(dst, `,"data":{`...)
		id := func() {
			if m.RequestID != "" {
				dst = jsonKey(dst, "requestId")
				dst = socketio.AppendString(dst, m.RequestID)
			}
		}
		opts := func() {
			dst = jsonKey(dst, "opts")
			dst = appendJSONOptions(dst, &m.Opts, true)
		}
		value := func() error {
			if m.Value == nil {
				return nil
			}
			dst = jsonKey(dst, "packet")
			dst, err = msgpack.AppendRawJSON(dst, m.Value, DefaultMaxDepth)
			return err
		}
		switch m.Type {
		case MessageBroadcast:
			dst = jsonKey(dst, "packet")
			if dst, err = appendJSONPacket(dst, &m.Packet); err != nil {
				return dst, err
			}
			id()
			opts()
		case MessageSocketsJoin, MessageSocketsLeave:
			opts()
			dst = jsonKey(dst, "rooms")
			dst = appendJSONStrings(dst, m.Rooms)
		case MessageDisconnectSockets:
			opts()
			dst = jsonKey(dst, "close")
			dst = strconv.AppendBool(dst, m.Close)
		case MessageFetchSockets:
			opts()
			id()
		case MessageFetchSocketsResponse:
			id()
			dst = jsonKey(dst, "sockets")
			if dst, err = appendJSONSockets(dst, m.Sockets); err != nil {
				return dst, err
			}
		case MessageServerSideEmit, MessageServerSideEmitResponse, MessageBroadcastAck:
			id()
			if err := value(); err != nil {
				return dst, err
			}
		case MessageBroadcastClientCount:
			id()
			dst = jsonKey(dst, "clientCount")
			dst = strconv.AppendInt(dst, int64(m.ClientCount), 10)
		}
		dst = append(dst, '}')
	}
	dst = append(dst, `,"uid":`...)
	dst = socketio.AppendString(dst, m.UID)
	dst = append(dst, `,"nsp":`...)
	dst = socketio.AppendString(dst, m.Nsp)
	return append(dst, '}'), nil
}

// appendJSONPacket appends a packet without binary as JSON: {type, data,
// nsp}, nsp only when set.
func appendJSONPacket(dst []byte, p *Packet) ([]byte, error) {
	dst = append(dst, `{"type":`...)
	dst = strconv.AppendInt(dst, int64(normalType(p.Type)), 10)
	if p.Data != nil {
		dst = append(dst, `,"data":`...)
		var err error
		if dst, err = msgpack.AppendRawJSON(dst, p.Data, DefaultMaxDepth); err != nil {
			return dst, err
		}
	}
	if p.Nsp != "" {
		dst = append(dst, `,"nsp":`...)
		dst = socketio.AppendString(dst, p.Nsp)
	}
	return append(dst, '}'), nil
}

func appendClusterMsgpack(dst []byte, m *ClusterMessage) ([]byte, error) {
	w := getWriter(dst)
	if err := w.clusterMessage(m); err != nil {
		w.Done()
		return dst, err
	}
	return w.Done(), nil
}

// clusterMessage writes m as the msgpack map {type, data, uid, nsp}.
func (w writer) clusterMessage(m *ClusterMessage) error {
	w.MapLen(4)
	w.Str("type")
	w.Uint(uint64(m.Type))
	w.Str("data")
	withID := m.RequestID != ""
	withValue := m.Value != nil
	count := func(n ...bool) int {
		c := 0
		for _, b := range n {
			if b {
				c++
			}
		}
		return c
	}
	id := func() {
		if withID {
			w.Str("requestId")
			w.Str(m.RequestID)
		}
	}
	switch m.Type {
	case MessageBroadcast:
		w.MapLen(count(true, withID, true))
		w.Str("packet")
		if err := w.packet(&m.Packet, false); err != nil {
			return err
		}
		id()
		w.Str("opts")
		w.options(&m.Opts, true)
	case MessageFetchSocketsResponse:
		w.MapLen(count(withID, true))
		id()
		w.Str("sockets")
		w.ArrayLen(len(m.Sockets))
		for i := range m.Sockets {
			if err := w.fetchedSocket(&m.Sockets[i], m.Attachments); err != nil {
				return err
			}
		}
	default: // SERVER_SIDE_EMIT, SERVER_SIDE_EMIT_RESPONSE, BROADCAST_ACK
		w.MapLen(count(withID, withValue))
		id()
		if withValue {
			w.Str("packet")
			if err := w.JSONValue(m.Value, m.Attachments, Limits{}); err != nil {
				return err
			}
		}
	}
	w.Str("uid")
	w.Str(m.UID)
	w.Str("nsp")
	w.Str(m.Nsp)
	return nil
}

// fetchedSocket writes the msgpack map {id, handshake, rooms, data}.
func (w writer) fetchedSocket(s *FetchedSocket, atts [][]byte) error {
	n := 2
	if s.Handshake != nil {
		n++
	}
	if s.Data != nil {
		n++
	}
	w.MapLen(n)
	w.Str("id")
	w.Str(s.ID)
	if s.Handshake != nil {
		w.Str("handshake")
		if err := w.JSONValue(s.Handshake, atts, Limits{}); err != nil {
			return err
		}
	}
	w.Str("rooms")
	w.strList(s.Rooms)
	if s.Data != nil {
		w.Str("data")
		if err := w.JSONValue(s.Data, atts, Limits{}); err != nil {
			return err
		}
	}
	return nil
}

// DecodeClusterMessage decodes a message of the sharded adapter, JSON or
// msgpack (told apart by the first byte, '{' for JSON). Members that
// m.Type does not have are ignored; the members Node.js needs must be
// there (opts for the operations, packet for BROADCAST and
// SERVER_SIDE_EMIT). Strings and JSON are copied; attachments alias msg.
func DecodeClusterMessage(msg []byte, lim Limits) (ClusterMessage, error) {
	var m ClusterMessage
	r, err := messageReader(msg, lim)
	if err != nil {
		return m, err
	}
	defer r.Release()
	t, err := r.Next()
	if err != nil {
		return m, err
	}
	if t.Kind != msgpack.KindMap {
		return m, fieldErr("message", "not a map")
	}
	// The meaning of data.packet depends on the type, which Node.js
	// writes first but others may not: find the type, then decode.
	start := r.Offset()
	typ := int64(-1)
	err = r.fields(t, "message", func(key []byte, v msgpack.Token) error {
		if string(key) == "type" {
			n, err := intValue(v, "type")
			if err != nil {
				return fmt.Errorf("%w: type is not a number", ErrUnknownType)
			}
			typ = n
			return nil
		}
		return r.Skip(v, 1)
	})
	if err != nil {
		return m, err
	}
	if typ < int64(MessageInitialHeartbeat) || typ > int64(MessageAdapterClose) {
		return m, fmt.Errorf("%w: cluster message type %d", ErrUnknownType, typ)
	}
	m.Type = MessageType(typ)
	r.Seek(start)
	var hasData, hasOpts, hasPacket bool
	err = r.fields(t, "message", func(key []byte, v msgpack.Token) error {
		var err error
		switch string(key) {
		case "uid":
			m.UID, err = r.stringValue(v, "uid")
		case "nsp":
			m.Nsp, err = r.stringValue(v, "nsp")
		case "data":
			hasData = true
			err = r.clusterData(v, &m, &hasOpts, &hasPacket)
		default:
			err = r.Skip(v, 1)
		}
		return err
	})
	if err != nil {
		return m, err
	}
	if err := r.End(); err != nil {
		return m, err
	}
	if len(m.Attachments) == 0 {
		m.Attachments = nil
	}
	switch m.Type {
	case MessageInitialHeartbeat, MessageHeartbeat, MessageAdapterClose:
		return m, nil
	}
	switch {
	case !hasData:
		return m, fieldErr("data", "missing")
	case !hasOpts && (m.Type >= MessageBroadcast && m.Type <= MessageFetchSockets):
		return m, fieldErr("data.opts", "missing")
	case !hasPacket && (m.Type == MessageBroadcast || m.Type == MessageServerSideEmit):
		return m, fieldErr("data.packet", "missing")
	}
	return m, nil
}

// clusterMembers lists the data members of each message type.
var clusterMembers = [...]string{
	MessageBroadcast:              "packet requestId opts",
	MessageSocketsJoin:            "opts rooms",
	MessageSocketsLeave:           "opts rooms",
	MessageDisconnectSockets:      "opts close",
	MessageFetchSockets:           "opts requestId",
	MessageFetchSocketsResponse:   "requestId sockets",
	MessageServerSideEmit:         "requestId packet",
	MessageServerSideEmitResponse: "requestId packet",
	MessageBroadcastClientCount:   "requestId clientCount",
	MessageBroadcastAck:           "requestId packet",
	MessageAdapterClose:           "",
}

// hasMember reports whether messages of type t have the data member key.
func (t MessageType) hasMember(key []byte) bool {
	if len(key) == 0 {
		return false
	}
	for _, m := range strings.Fields(clusterMembers[t]) {
		if m == string(key) {
			return true
		}
	}
	return false
}

// clusterData decodes the data member of a message of type m.Type,
// ignoring the members that type does not have.
func (r reader) clusterData(v msgpack.Token, m *ClusterMessage, hasOpts, hasPacket *bool) error {
	return r.fields(v, "data", func(key []byte, v msgpack.Token) error {
		if !m.Type.hasMember(key) {
			return r.Skip(v, 1)
		}
		var err error
		switch string(key) {
		case "requestId":
			m.RequestID, err = r.stringValue(v, "data.requestId")
		case "opts":
			m.Opts, err = r.options(v, "data.opts")
			*hasOpts = true
		case "packet":
			*hasPacket = true
			switch m.Type {
			case MessageBroadcast:
				m.Packet, err = r.packet(v, "data.packet", "")
			case MessageServerSideEmit:
				if v.Kind != msgpack.KindArray {
					return fieldErr("data.packet", "not an array")
				}
				fallthrough
			default:
				m.Value, _, err = r.jsonValue(m.Value[:0], v, &m.Attachments, 0)
			}
		case "rooms":
			m.Rooms, err = r.stringList(v, "data.rooms")
		case "close":
			m.Close, err = r.boolValue(v)
		case "sockets":
			_, m.Sockets, err = r.socketList(v, "data.sockets", &m.Attachments)
		case "clientCount":
			var n int64
			n, err = intValue(v, "data.clientCount")
			m.ClientCount = int(n)
		default:
			err = r.Skip(v, 1)
		}
		return err
	})
}
