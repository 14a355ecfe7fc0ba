package sockwasm

import (
	"time"
	"unsafe"
)

// ABI v1 values of the socket-facing additions (sdk/ABI.md).
const (
	kindEventMiddleware = 9
	flagBroadcastAck    = 1 << 2
	broadcastVolatile   = 1 << 1
	broadcastCompress   = 1 << 2
)

// Rejection refuses an event in per-event middleware: its handler is not
// called and, when the client asked for an ack, the host answers it with
// [{"error": Message, "data": Data}] ("data" omitted when empty). Data
// must be JSON.
type Rejection struct {
	Message string
	Data    []byte
}

// Error implements error.
func (r *Rejection) Error() string { return "event rejected: " + r.Message }

// Reject returns a Rejection with message and no data.
func Reject(message string) *Rejection { return &Rejection{Message: message} }

// eventMiddleware is the registered per-event middleware. Like the other
// handlers it is set in init and only read afterwards.
var eventMiddleware func(*Socket, *Event) *Rejection

// OnEventMiddleware registers the per-event middleware (Socket.IO's
// socket.use): it sees each event routed through it before the event's
// handler and returns nil to pass it on or a *Rejection to refuse it. It
// may read the event and change the socket's data (Socket.SetData), but
// emitting, acking, joining and leaving fail with ErrNotAllowed.
func OnEventMiddleware(fn func(s *Socket, e *Event) *Rejection) { eventMiddleware = fn }

// dispatchEventMiddleware runs the per-event middleware of the current
// frame.
func dispatchEventMiddleware(s *Socket, in *input) {
	if eventMiddleware == nil {
		return
	}
	curEvent = Event{Name: string(in.name), args: in.args, natts: in.natts, ackID: in.ackID, hasAck: in.flags&flagHasAck != 0, s: s}
	if r := eventMiddleware(s, &curEvent); r != nil {
		hostRejectEvent(sptr(r.Message), uint32(len(r.Message)), ptr(r.Data), uint32(len(r.Data)))
	}
}

// Handshake is what the client sent when its connection was opened
// (Socket.IO's socket.handshake).
type Handshake struct {
	// Headers of the first HTTP request, names in lower case, repeated
	// values joined with ", ".
	Headers map[string]string
	// Query holds the query parameters; a repeated one keeps its first value.
	Query map[string]string
	// Address is the client's IP address (the TCP peer).
	Address string
	// Issued is when the connection was opened.
	Issued time.Time
	// Secure reports a TLS connection.
	Secure bool
	// XDomain reports a cross-origin request (an Origin header was sent).
	XDomain bool
	// URL is the request URI of the first request.
	URL string
	// Auth is the CONNECT payload, as Socket.Auth.
	Auth Value
}

// HandshakeJSON returns the handshake as the host encodes it, a JSON
// object (sdk/ABI.md), for reading single fields without building a
// Handshake: s.HandshakeJSON().Get("headers").Get("user-agent").
func (s *Socket) HandshakeJSON() Value { return getter(hostHandshake) }

// Handshake returns the handshake, or nil when the host gives none.
func (s *Socket) Handshake() *Handshake {
	v := s.HandshakeJSON()
	if !v.Exists() {
		return nil
	}
	h := &Handshake{Headers: map[string]string{}, Query: map[string]string{}, Auth: v.Get("auth")}
	v.Get("headers").fields(func(k string, x Value) {
		h.Headers[k], _ = x.AsString()
	})
	v.Get("query").fields(func(k string, x Value) {
		if x.Kind() == KindArray {
			x = x.Index(0)
		}
		h.Query[k], _ = x.AsString()
	})
	h.Address, _ = v.Get("address").AsString()
	if ms, ok := v.Get("issued").AsInt(); ok {
		h.Issued = time.UnixMilli(ms)
	}
	h.Secure, _ = v.Get("secure").AsBool()
	h.XDomain, _ = v.Get("xdomain").AsBool()
	h.URL, _ = v.Get("url").AsString()
	return h
}

// fields calls fn with each key and value of an object.
func (v Value) fields(fn func(key string, val Value)) {
	i := skipSpace(v, 0)
	if i >= len(v) || v[i] != '{' {
		return
	}
	i = skipSpace(v, i+1)
	for i < len(v) && v[i] == '"' {
		kend := skipString(v, i)
		if kend < 0 {
			return
		}
		key, ok := Value(v[i:kend]).AsString()
		if !ok {
			return
		}
		i = skipSpace(v, kend)
		if i >= len(v) || v[i] != ':' {
			return
		}
		i = skipSpace(v, i+1)
		end := skipValue(v, i)
		if end < 0 {
			return
		}
		fn(key, v[i:end])
		i = skipSpace(v, end)
		if i >= len(v) || v[i] != ',' {
			return
		}
		i = skipSpace(v, i+1)
	}
}

// Data returns this plugin's data on the socket, kept by the host for the
// socket's lifetime (it survives plugin reloads): JSON, absent when never
// set. Each plugin has its own: another plugin serving the same socket
// neither sees nor overwrites it.
func (s *Socket) Data() Value { return getter(hostSocketData) }

// SetData replaces this plugin's data on the socket with b, a JSON value
// (empty clears it). It fails with ErrLimit over the plugin's max socket data (default
// 64 KiB) and with ErrInvalid when b is not JSON. Connection middleware
// uses it to attach claims to the socket.
func (s *Socket) SetData(b []byte) error {
	return check(hostSetSocketData(ptr(b), uint32(len(b))))
}

// Volatile starts a volatile emit to this socket: dropped when its
// transport is not writable right now (Socket.IO's socket.volatile).
func (s *Socket) Volatile() *Broadcast {
	return &Broadcast{rooms: []string{s.id}, flags: broadcastVolatile}
}

// In selects the sockets of this namespace in any of rooms (every socket
// when none), the calling one included, for a broadcast or a server-side
// operation (Socket.IO's io.in(room)).
func In(rooms ...string) *Broadcast { return &Broadcast{rooms: rooms} }

// Volatile drops the packet for receivers whose transport is not writable
// right now (a backlog is queued, or the transport is being upgraded).
func (b *Broadcast) Volatile() *Broadcast { b.flags |= broadcastVolatile; return b }

// Compress sets the compress flag. It is accepted for compatibility and
// has no effect: the host does not compress WebSocket messages.
func (b *Broadcast) Compress(on bool) *Broadcast {
	if on {
		b.flags |= broadcastCompress
	} else {
		b.flags &^= broadcastCompress
	}
	return b
}

// lists encodes the selection into two fresh buffers.
func (b *Broadcast) lists() (r, e []byte) {
	except := b.except
	if b.flags&broadcastExceptSelf != 0 && curSock.id != "" {
		except = append(except[:len(except):len(except)], curSock.id)
	}
	return encodeStrings(nil, b.rooms), encodeStrings(nil, except)
}

// EmitWithAck sends event name to the selected sockets, each asked for an
// ack. Later one OnAckResponse call gets every answer
// (AckResponse.Replies), with AckOK when all selected sockets answered or
// left, or with AckTimeout and the answers received when timeout passed;
// ctx comes back unchanged. The answers' binary attachments are the
// response's attachments, in reply order; each reply's placeholders are
// renumbered to index them.
func (b *Broadcast) EmitWithAck(name string, args []byte, timeout time.Duration, ctx []byte, atts ...Blob) error {
	ms := timeout.Milliseconds()
	if ms <= 0 {
		ms = 1
	}
	r := encodeStrings(nil, b.rooms)
	e := encodeStrings(nil, b.except)
	a := encodeBlobs(atts)
	return check(hostBroadcastWithAck(ptr(r), uint32(len(r)), ptr(e), uint32(len(e)), b.flags,
		sptr(name), uint32(len(name)), ptr(args), uint32(len(args)), ptr(a), uint32(len(a)),
		uint32(ms), ptr(ctx), uint32(len(ctx))))
}

// RemoteSocket describes a socket found by Broadcast.FetchSockets.
type RemoteSocket struct {
	// ID is the socket id.
	ID string
	// Rooms are its rooms, sorted, its own id room included.
	Rooms []string
	// Data is its data (JSON null when never set).
	Data Value
}

// FetchSockets returns the selected sockets with their rooms and data
// (Socket.IO's fetchSockets). Except-self applies: use In to include the
// calling socket.
func (b *Broadcast) FetchSockets() ([]RemoteSocket, error) {
	r, e := b.lists()
	fetch := func(buf unsafe.Pointer, limit uint32) int32 {
		return hostFetchSockets(ptr(r), uint32(len(r)), ptr(e), uint32(len(e)), buf, limit)
	}
	var out []byte
	for size := uint32(512); ; {
		out = make([]byte, size)
		n := fetch(ptr(out), size)
		if n < 0 {
			return nil, Error(n)
		}
		if uint32(n) <= size {
			out = out[:n]
			break
		}
		size = uint32(n) + 256 // the set may grow between the calls
	}
	return parseSockets(out), nil
}

func parseSockets(b Value) []RemoteSocket {
	var socks []RemoteSocket
	b.each(func(v Value) bool {
		var rs RemoteSocket
		rs.ID, _ = v.Get("id").AsString()
		v.Get("rooms").each(func(r Value) bool {
			s, _ := r.AsString()
			rs.Rooms = append(rs.Rooms, s)
			return true
		})
		rs.Data = v.Get("data")
		socks = append(socks, rs)
		return true
	})
	return socks
}

// SocketsJoin makes the selected sockets join rooms (Socket.IO's
// socketsJoin).
func (b *Broadcast) SocketsJoin(rooms ...string) error {
	r, e := b.lists()
	l := encodeStrings(nil, rooms)
	return check(hostSocketsJoin(ptr(r), uint32(len(r)), ptr(e), uint32(len(e)), ptr(l), uint32(len(l))))
}

// SocketsLeave makes the selected sockets leave rooms.
func (b *Broadcast) SocketsLeave(rooms ...string) error {
	r, e := b.lists()
	l := encodeStrings(nil, rooms)
	return check(hostSocketsLeave(ptr(r), uint32(len(r)), ptr(e), uint32(len(e)), ptr(l), uint32(len(l))))
}

// DisconnectSockets disconnects the selected sockets after the current
// call; with closeSession their whole connections are closed, when the
// server routes this plugin in every namespace (as CloseConnection).
func (b *Broadcast) DisconnectSockets(closeSession bool) error {
	r, e := b.lists()
	var cl uint32
	if closeSession {
		cl = 1
	}
	return check(hostDisconnectSockets(ptr(r), uint32(len(r)), ptr(e), uint32(len(e)), cl))
}

// BroadcastReply is one socket's answer to Broadcast.EmitWithAck.
type BroadcastReply struct {
	// SocketID is the socket that answered.
	SocketID string
	// Args are its ack arguments, a JSON array.
	Args Value
}

// IsBroadcast reports whether r answers a Broadcast.EmitWithAck.
func (r *AckResponse) IsBroadcast() bool { return r.broadcast }

// Replies returns the answers to a Broadcast.EmitWithAck in arrival order.
func (r *AckResponse) Replies() []BroadcastReply {
	if !r.broadcast {
		return nil
	}
	return parseReplies(r.args)
}

// parseReplies decodes [[socketId, arg...], ...].
func parseReplies(v Value) []BroadcastReply {
	var out []BroadcastReply
	v.each(func(x Value) bool {
		id, _ := x.Index(0).AsString()
		args := []byte{'['}
		i := 0
		x.each(func(a Value) bool {
			if i > 0 {
				if i > 1 {
					args = append(args, ',')
				}
				args = append(args, a...)
			}
			i++
			return true
		})
		out = append(out, BroadcastReply{SocketID: id, Args: append(args, ']')})
		return true
	})
	return out
}
