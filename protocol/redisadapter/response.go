package redisadapter

import (
	"encoding/json"
	"fmt"
	"github.com/sockwasm/sockwasm/protocol/msgpack"
	"strconv"

	"github.com/sockwasm/sockwasm/protocol/socketio"
)

// Response is a message of a response channel: *SocketsResponse,
// *AllRoomsResponse, *LegacyResponse, *ServerSideEmitResponse,
// *ClientCountResponse or *BroadcastAckResponse. Only the last three say
// their type; a requester knows the others by the request their
// RequestID names.
type Response interface {
	// ResponseTo returns the requestId the response answers.
	ResponseTo() string
	appendResponse(dst []byte) ([]byte, error)
}

// SocketsResponse is {requestId, sockets}, the answer to a SocketsRequest
// (socket ids) and to a FetchSocketsRequest (socket details). Decoding
// fills SocketIDs when the elements are strings and Sockets when they
// are maps; an empty list fills neither. Encoding writes Sockets if it is
// not empty, SocketIDs otherwise.
type SocketsResponse struct {
	RequestID string
	SocketIDs []string
	Sockets   []FetchedSocket
}

// FetchedSocket is a socket's details in an answer to fetchSockets: {id,
// handshake, rooms, data}. Rooms includes the socket's own room, its id.
type FetchedSocket struct {
	ID string
	// Handshake is the JSON object socket.handshake (see Handshake),
	// without sessionStore.
	Handshake json.RawMessage
	Rooms     []string
	// Data is socket.data as JSON; nil leaves the member out, as
	// JSON.stringify does for undefined.
	Data json.RawMessage
}

// AllRoomsResponse is {requestId, rooms}, the answer to an
// AllRoomsRequest.
type AllRoomsResponse struct {
	RequestID string
	Rooms     []string
}

// LegacyResponse is {requestId}, the answer to a LegacyRequest.
type LegacyResponse struct {
	RequestID string
}

// ServerSideEmitResponse is {type: 6, requestId, data}, one server's
// answer to a ServerSideEmitRequest with a RequestID. Data is the one
// argument the listener passed to its acknowledgement callback, as JSON;
// nil leaves the member out (no argument).
type ServerSideEmitResponse struct {
	RequestID string
	Data      json.RawMessage
}

// ClientCountResponse is {type: 8, requestId, clientCount}: how many
// clients a server sent the packet of a BroadcastRequest to, that is how
// many BroadcastAckResponses to expect from it.
type ClientCountResponse struct {
	RequestID   string
	ClientCount int
}

// BroadcastAckResponse is the msgpack map {type: 9, requestId, packet}:
// one client's acknowledgement of a BroadcastRequest. Packet is the first
// argument of the client's ack (socket.io calls the adapter's callback
// with the ack's arguments, and the adapter publishes only the first), as
// JSON with placeholders for the binary values in Attachments; nil leaves
// the member out (an ack without arguments).
type BroadcastAckResponse struct {
	RequestID   string
	Packet      json.RawMessage
	Attachments [][]byte
}

// ResponseTo implements Response.
func (r *SocketsResponse) ResponseTo() string { return r.RequestID }

// ResponseTo implements Response.
func (r *AllRoomsResponse) ResponseTo() string { return r.RequestID }

// ResponseTo implements Response.
func (r *LegacyResponse) ResponseTo() string { return r.RequestID }

// ResponseTo implements Response.
func (r *ServerSideEmitResponse) ResponseTo() string { return r.RequestID }

// ResponseTo implements Response.
func (r *ClientCountResponse) ResponseTo() string { return r.RequestID }

// ResponseTo implements Response.
func (r *BroadcastAckResponse) ResponseTo() string { return r.RequestID }

// AppendResponse appends the message of resp as the classic adapter
// publishes it: JSON with the members in the adapter's order, msgpack
// for a *BroadcastAckResponse. On error dst is returned unchanged.
func AppendResponse(dst []byte, resp Response) ([]byte, error) {
	out, err := resp.appendResponse(dst)
	if err != nil {
		return dst, err
	}
	return out, nil
}

func appendRequestID(dst []byte, id string) []byte {
	dst = append(dst, `{"requestId":`...)
	return socketio.AppendString(dst, id)
}

func (r *SocketsResponse) appendResponse(dst []byte) ([]byte, error) {
	dst = appendRequestID(dst, r.RequestID)
	dst = append(dst, `,"sockets":`...)
	if len(r.Sockets) == 0 {
		dst = appendJSONStrings(dst, r.SocketIDs)
		return append(dst, '}'), nil
	}
	dst, err := appendJSONSockets(dst, r.Sockets)
	if err != nil {
		return dst, err
	}
	return append(dst, '}'), nil
}

// appendJSONSockets appends [{id, handshake, rooms, data}, ...].
func appendJSONSockets(dst []byte, sockets []FetchedSocket) ([]byte, error) {
	dst = append(dst, '[')
	for i := range sockets {
		s := &sockets[i]
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = append(dst, `{"id":`...)
		dst = socketio.AppendString(dst, s.ID)
		var err error
		if s.Handshake != nil {
			dst = append(dst, `,"handshake":`...)
			if dst, err = msgpack.AppendRawJSON(dst, s.Handshake, DefaultMaxDepth); err != nil {
				return dst, err
			}
		}
		dst = append(dst, `,"rooms":`...)
		dst = appendJSONStrings(dst, s.Rooms)
		if s.Data != nil {
			dst = append(dst, `,"data":`...)
			if dst, err = msgpack.AppendRawJSON(dst, s.Data, DefaultMaxDepth); err != nil {
				return dst, err
			}
		}
		dst = append(dst, '}')
	}
	return append(dst, ']'), nil
}

func (r *AllRoomsResponse) appendResponse(dst []byte) ([]byte, error) {
	dst = appendRequestID(dst, r.RequestID)
	dst = append(dst, `,"rooms":`...)
	dst = appendJSONStrings(dst, r.Rooms)
	return append(dst, '}'), nil
}

func (r *LegacyResponse) appendResponse(dst []byte) ([]byte, error) {
	return append(appendRequestID(dst, r.RequestID), '}'), nil
}

func (r *ServerSideEmitResponse) appendResponse(dst []byte) ([]byte, error) {
	dst = append(dst, `{"type":6,"requestId":`...)
	dst = socketio.AppendString(dst, r.RequestID)
	if r.Data != nil {
		dst = append(dst, `,"data":`...)
		var err error
		if dst, err = msgpack.AppendRawJSON(dst, r.Data, DefaultMaxDepth); err != nil {
			return dst, err
		}
	}
	return append(dst, '}'), nil
}

func (r *ClientCountResponse) appendResponse(dst []byte) ([]byte, error) {
	dst = append(dst, `{"type":8,"requestId":`...)
	dst = socketio.AppendString(dst, r.RequestID)
	dst = append(dst, `,"clientCount":`...)
	dst = strconv.AppendInt(dst, int64(r.ClientCount), 10)
	return append(dst, '}'), nil
}

func (r *BroadcastAckResponse) appendResponse(dst []byte) ([]byte, error) {
	w := getWriter(dst)
	if r.Packet == nil {
		w.MapLen(2)
	} else {
		w.MapLen(3)
	}
	w.Str("type")
	w.Uint(uint64(TypeBroadcastAck))
	w.Str("requestId")
	w.Str(r.RequestID)
	if r.Packet != nil {
		w.Str("packet")
		if err := w.JSONValue(r.Packet, r.Attachments, Limits{}); err != nil {
			w.Done()
			return dst, err
		}
	}
	return w.Done(), nil
}

// DecodeResponse decodes a message of a response channel, JSON or
// msgpack. A message with a type is a *ServerSideEmitResponse (6),
// *ClientCountResponse (8) or *BroadcastAckResponse (9), other types
// giving ErrUnknownType; without one, a message with sockets is a
// *SocketsResponse, one with rooms an *AllRoomsResponse, and anything
// else a *LegacyResponse. A response without a string requestId is
// refused, as Node.js ignores it. Strings and JSON are copied; the
// attachments of a *BroadcastAckResponse alias msg.
func DecodeResponse(msg []byte, lim Limits) (Response, error) {
	r, err := messageReader(msg, lim)
	if err != nil {
		return nil, err
	}
	defer r.Release()
	t, err := r.Next()
	if err != nil {
		return nil, err
	}
	var (
		id                   string
		typ                  int64
		hasID, hasType       bool
		hasSockets, hasRooms bool
		ids, rooms           []string
		sockets              []FetchedSocket
		data, packet         []byte
		atts                 [][]byte
		clientCount          int64
	)
	err = r.fields(t, "message", func(key []byte, v msgpack.Token) error {
		var err error
		switch string(key) {
		case "requestId":
			id, err = r.stringValue(v, "requestId")
			hasID = true
		case "type":
			if typ, err = intValue(v, "type"); err != nil {
				return fmt.Errorf("%w: type is not a number", ErrUnknownType)
			}
			hasType = true
		case "sockets":
			ids, sockets, err = r.socketList(v, "sockets", nil)
			hasSockets = true
		case "rooms":
			rooms, err = r.stringList(v, "rooms")
			hasRooms = true
		case "data":
			data, _, err = r.jsonValue(nil, v, nil, 0)
		case "packet":
			atts = atts[:0]
			packet, _, err = r.jsonValue(packet[:0], v, &atts, 0)
		case "clientCount":
			clientCount, err = intValue(v, "clientCount")
		default:
			err = r.Skip(v, 1)
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	if err := r.End(); err != nil {
		return nil, err
	}
	if !hasID {
		return nil, fieldErr("requestId", "missing")
	}
	if len(atts) == 0 {
		atts = nil
	}
	if hasType {
		switch RequestType(typ) {
		case TypeServerSideEmit:
			return &ServerSideEmitResponse{RequestID: id, Data: data}, nil
		case TypeBroadcastClientCount:
			return &ClientCountResponse{RequestID: id, ClientCount: int(clientCount)}, nil
		case TypeBroadcastAck:
			return &BroadcastAckResponse{RequestID: id, Packet: packet, Attachments: atts}, nil
		}
		return nil, fmt.Errorf("%w: response type %d", ErrUnknownType, typ)
	}
	switch {
	case hasSockets:
		return &SocketsResponse{RequestID: id, SocketIDs: ids, Sockets: sockets}, nil
	case hasRooms:
		return &AllRoomsResponse{RequestID: id, Rooms: rooms}, nil
	}
	return &LegacyResponse{RequestID: id}, nil
}

// socketList decodes a list of socket ids or of socket details. The
// JSON of the details' handshake and data goes with atts (nil refuses
// binary values).
func (r reader) socketList(v msgpack.Token, field string, atts *[][]byte) ([]string, []FetchedSocket, error) {
	if v.Kind != msgpack.KindArray {
		return nil, nil, fieldErr(field, "not an array")
	}
	if v.Len == 0 {
		return nil, nil, nil
	}
	var ids []string
	var sockets []FetchedSocket
	for i := range v.Len {
		e, err := r.Next()
		if err != nil {
			return nil, nil, err
		}
		switch {
		case e.Kind == msgpack.KindStr && sockets == nil:
			if ids == nil {
				ids = make([]string, 0, v.Len)
			}
			ids = append(ids, r.string(e.Bytes))
		case e.Kind == msgpack.KindMap && ids == nil:
			if sockets == nil {
				// A socket takes at least 5 bytes ({"id":""}): size the
				// slice by what the message can hold.
				sockets = make([]FetchedSocket, 0, min(v.Len, 1+r.Remaining()/5))
			}
			s, err := r.fetchedSocket(e, atts)
			if err != nil {
				return nil, nil, within(field+"["+strconv.Itoa(i)+"]", err)
			}
			sockets = append(sockets, s)
		default:
			return nil, nil, fieldErr(field, "neither socket ids nor socket details")
		}
	}
	return ids, sockets, nil
}

func (r reader) fetchedSocket(t msgpack.Token, atts *[][]byte) (FetchedSocket, error) {
	var s FetchedSocket
	hasID := false
	err := r.fields(t, "", func(key []byte, v msgpack.Token) error {
		var err error
		switch string(key) {
		case "id":
			s.ID, err = r.stringValue(v, "id")
			hasID = true
		case "handshake":
			s.Handshake, _, err = r.jsonValue(nil, v, atts, 0)
		case "rooms":
			s.Rooms, err = r.stringList(v, "rooms")
		case "data":
			s.Data, _, err = r.jsonValue(nil, v, atts, 0)
		default:
			err = r.Skip(v, 1)
		}
		return err
	})
	if err == nil && !hasID {
		err = fieldErr("id", "missing")
	}
	return s, err
}

// Handshake is socket.handshake as socket.io builds it, for the
// Handshake of a FetchedSocket: {headers, time, address, xdomain, secure,
// issued, url, query, auth}.
type Handshake struct {
	// Headers are the HTTP headers of the first request, a JSON object
	// with lower-case names; nil is written as {}.
	Headers json.RawMessage
	// Time is the connection time as JavaScript's Date.prototype.toString
	// writes it.
	Time    string
	Address string
	// XDomain is whether the request had an Origin header.
	XDomain bool
	Secure  bool
	// Issued is the connection time in milliseconds since the epoch.
	Issued int64
	URL    string
	// Query is the query string as a JSON object; nil is written as {}.
	Query json.RawMessage
	// Auth is the CONNECT packet's auth payload; nil is written as {}.
	Auth json.RawMessage
}

// AppendHandshake appends h as the JSON object socket.io's handshake
// serializes to, with its members in socket.io's order.
func AppendHandshake(dst []byte, h *Handshake) ([]byte, error) {
	out := append(dst, `{"headers":`...)
	var err error
	if out, err = appendRawObject(out, h.Headers); err != nil {
		return dst, err
	}
	out = append(out, `,"time":`...)
	out = socketio.AppendString(out, h.Time)
	out = append(out, `,"address":`...)
	out = socketio.AppendString(out, h.Address)
	out = append(out, `,"xdomain":`...)
	out = strconv.AppendBool(out, h.XDomain)
	out = append(out, `,"secure":`...)
	out = strconv.AppendBool(out, h.Secure)
	out = append(out, `,"issued":`...)
	out = strconv.AppendInt(out, h.Issued, 10)
	out = append(out, `,"url":`...)
	out = socketio.AppendString(out, h.URL)
	out = append(out, `,"query":`...)
	if out, err = appendRawObject(out, h.Query); err != nil {
		return dst, err
	}
	out = append(out, `,"auth":`...)
	if out, err = appendRawObject(out, h.Auth); err != nil {
		return dst, err
	}
	return append(out, '}'), nil
}

func appendRawObject(dst, raw []byte) ([]byte, error) {
	if raw == nil {
		return append(dst, '{', '}'), nil
	}
	return msgpack.AppendRawJSON(dst, raw, DefaultMaxDepth)
}
