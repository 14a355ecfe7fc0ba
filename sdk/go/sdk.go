package sockwasm

import (
	"encoding/binary"
	"time"
	"unsafe"
)

// ConnectError rejects a connection from connection middleware; the client
// gets CONNECT_ERROR {"message": Message, "data": Data} (data omitted when
// empty). Data must be JSON.
type ConnectError struct {
	Message string
	Data    []byte
}

// Error implements error.
func (e *ConnectError) Error() string { return "connect refused: " + e.Message }

var handlers struct {
	middleware  func(*Socket) *ConnectError
	connect     func(*Socket)
	events      map[string]*eventHandler
	any         func(*Socket, *Event)
	ackResponse func(*Socket, *AckResponse)
	disconnect  func(*Socket, string, []string)
	engineOpen  func(*Conn)
	engineMsg   func(*Conn, []byte, bool)
	engineClose func(*Conn, string)
}

// OnConnect registers the connection middleware: it runs before a socket
// joins its namespace; returning a non-nil *ConnectError refuses it.
// Without it every connection is accepted.
func OnConnect(fn func(s *Socket) *ConnectError) { handlers.middleware = fn }

// OnConnection registers the handler run once a socket has connected (its
// CONNECT reply is queued, so it may emit).
func OnConnection(fn func(s *Socket)) { handlers.connect = fn }

// OnEvent registers the handler of event name.
func OnEvent(name string, fn func(s *Socket, e *Event)) {
	if handlers.events == nil {
		handlers.events = make(map[string]*eventHandler)
	}
	handlers.events[name] = &eventHandler{name: name, fn: fn}
}

// eventHandler keeps the registered name so dispatch reuses it as
// Event.Name without allocating.
type eventHandler struct {
	name string
	fn   func(*Socket, *Event)
}

// OnAny registers the handler of events without their own OnEvent handler.
// Without it such events are ignored (an ack the client asked for is left
// unanswered).
func OnAny(fn func(s *Socket, e *Event)) { handlers.any = fn }

// OnAckResponse registers the handler of answers (or timeouts) to
// Socket.EmitWithAck.
func OnAckResponse(fn func(s *Socket, r *AckResponse)) { handlers.ackResponse = fn }

// OnDisconnect registers the handler run when a socket leaves, with the
// reason (e.g. "client namespace disconnect") and the rooms it was in (its
// own id room excluded). The socket can no longer emit, but broadcasts work.
func OnDisconnect(fn func(s *Socket, reason string, rooms []string)) { handlers.disconnect = fn }

// OnEngineOpen registers the handler of new sessions on a bare Engine.IO
// endpoint.
func OnEngineOpen(fn func(c *Conn)) { handlers.engineOpen = fn }

// OnEngineMessage registers the handler of messages on a bare Engine.IO
// endpoint.
func OnEngineMessage(fn func(c *Conn, data []byte, binary bool)) { handlers.engineMsg = fn }

// OnEngineClose registers the handler of closed sessions on a bare
// Engine.IO endpoint.
func OnEngineClose(fn func(c *Conn, reason string)) { handlers.engineClose = fn }

// Log writes msg to the host's log at level, tagged with the plugin and
// the socket.
func Log(level Level, msg string) {
	hostLog(uint32(level), unsafe.Pointer(unsafe.StringData(msg)), uint32(len(msg)))
}

// input is the current call's frame.
type input struct {
	kind      int32
	flags     uint16
	natts     uint32
	ackID     uint64
	status    uint32
	namespace []byte
	socketID  []byte
	name      []byte
	args      []byte
	auth      []byte
	context   []byte
	reason    []byte
	rooms     [][]byte
}

var inbuf []byte

// readFrame reads the current input frame into inbuf.
func readFrame(n int32) []byte {
	if n < 0 {
		n = 0
	}
	for {
		if cap(inbuf) < int(n) {
			inbuf = make([]byte, n)
		}
		inbuf = inbuf[:cap(inbuf)]
		got := hostReadInput(unsafe.Pointer(unsafe.SliceData(inbuf)), uint32(len(inbuf)))
		if got < 0 {
			return nil
		}
		if int(got) <= len(inbuf) {
			return inbuf[:got]
		}
		n = got
	}
}

// parseFrame decodes an ABI v1 input frame; ok is false when malformed.
func parseFrame(b []byte, in *input) bool {
	if len(b) < frameHeaderSize || b[0] != 1 {
		return false
	}
	in.kind = int32(b[1])
	in.flags = binary.LittleEndian.Uint16(b[2:])
	in.natts = binary.LittleEndian.Uint32(b[4:])
	in.ackID = binary.LittleEndian.Uint64(b[8:])
	in.status = binary.LittleEndian.Uint32(b[16:])
	b = b[frameHeaderSize:]
	var ok bool
	if in.namespace, b, ok = field(b); !ok {
		return false
	}
	if in.socketID, b, ok = field(b); !ok {
		return false
	}
	if in.name, b, ok = field(b); !ok {
		return false
	}
	if in.args, b, ok = field(b); !ok {
		return false
	}
	if in.auth, b, ok = field(b); !ok {
		return false
	}
	if in.context, b, ok = field(b); !ok {
		return false
	}
	if in.reason, b, ok = field(b); !ok {
		return false
	}
	if len(b) < 4 {
		return false
	}
	n := binary.LittleEndian.Uint32(b)
	b = b[4:]
	in.rooms = in.rooms[:0]
	for range n {
		var r []byte
		if r, b, ok = field(b); !ok {
			return false
		}
		in.rooms = append(in.rooms, r)
	}
	return true
}

func field(b []byte) ([]byte, []byte, bool) {
	if len(b) < 4 {
		return nil, nil, false
	}
	n := binary.LittleEndian.Uint32(b)
	b = b[4:]
	if uint64(n) > uint64(len(b)) {
		return nil, nil, false
	}
	return b[:n:n], b[n:], true
}

// Per-call state, reused: an instance runs one call at a time, and heap
// allocations are the largest cost of a Go guest call, so the hot path
// (event → ack/emit) allocates nothing.
var (
	cur      input
	curSock  Socket
	curEvent Event
	curResp  AckResponse
	curConn  Conn
	// Strings of the previous call, reused when the bytes are the same.
	lastID, lastNsp string
)

// intern returns last when b holds the same bytes (no allocation), else a
// new string stored in last.
func intern(last *string, b []byte) string {
	if string(b) != *last {
		*last = string(b)
	}
	return *last
}

// dispatch runs one call. It returns 0, or 1 when the frame is unreadable.
func dispatch(kind, n int32) int32 {
	if !parseFrame(readFrame(n), &cur) || cur.kind != kind {
		return 1
	}
	in := &cur
	if rc, ok := dispatchState(kind, in); ok { // INIT, TIMER: state.go
		return rc
	}
	if rc, ok := dispatchServer(kind, in); ok { // SERVER_EVENT, SERVER_ACK: server.go
		return rc
	}
	if rc, ok := dispatchHTTP(kind, in); ok { // HTTP_RESPONSE: http.go
		return rc
	}
	switch kind {
	case kindEngineOpen, kindEngineMessage, kindEngineClose:
		curConn = Conn{id: intern(&lastID, in.socketID)}
		c := &curConn
		switch {
		case kind == kindEngineOpen && handlers.engineOpen != nil:
			handlers.engineOpen(c)
		case kind == kindEngineMessage && handlers.engineMsg != nil:
			handlers.engineMsg(c, in.args, in.flags&flagBinary != 0)
		case kind == kindEngineClose && handlers.engineClose != nil:
			handlers.engineClose(c, string(in.reason))
		}
		return 0
	}
	curSock = Socket{id: intern(&lastID, in.socketID), nsp: intern(&lastNsp, in.namespace), auth: in.auth}
	s := &curSock
	switch kind {
	case kindMiddleware:
		if handlers.middleware != nil {
			if e := handlers.middleware(s); e != nil {
				msg := e.Message
				hostReject(unsafe.Pointer(unsafe.StringData(msg)), uint32(len(msg)),
					unsafe.Pointer(unsafe.SliceData(e.Data)), uint32(len(e.Data)))
			}
		}
	case kindConnect:
		if handlers.connect != nil {
			handlers.connect(s)
		}
	case kindEvent:
		curEvent = Event{args: in.args, natts: in.natts, ackID: in.ackID, hasAck: in.flags&flagHasAck != 0, s: s}
		e := &curEvent
		if h := handlers.events[string(in.name)]; h != nil {
			e.Name = h.name
			h.fn(s, e)
		} else if handlers.any != nil {
			e.Name = string(in.name)
			handlers.any(s, e)
		}
	case kindEventMiddleware:
		dispatchEventMiddleware(s, in)
	case kindAckResponse:
		if handlers.ackResponse != nil {
			curResp = AckResponse{Status: AckStatus(in.status), Context: in.context, args: in.args, natts: in.natts,
				broadcast: in.flags&flagBroadcastAck != 0}
			handlers.ackResponse(s, &curResp)
		}
	case kindDisconnect:
		if handlers.disconnect != nil {
			rooms := make([]string, len(in.rooms))
			for i, r := range in.rooms {
				rooms[i] = string(r)
			}
			handlers.disconnect(s, string(in.reason), rooms)
		}
	}
	return 0
}

// Blob is one binary attachment to send: inline bytes (Bytes) or a
// reference to an attachment of the current input (Event.Attachments),
// which the host forwards without copying it through the guest.
type Blob struct {
	data []byte
	ref  int32 // -1: inline
}

// Bytes returns a Blob sending b.
func Bytes(b []byte) Blob { return Blob{data: b, ref: -1} }

var attbuf []byte

// encodeBlobs encodes an attachment list into a scratch buffer.
func encodeBlobs(atts []Blob) []byte {
	if len(atts) == 0 {
		return nil
	}
	b := binary.LittleEndian.AppendUint32(attbuf[:0], uint32(len(atts)))
	for _, a := range atts {
		if a.ref >= 0 {
			b = binary.LittleEndian.AppendUint32(b, attachmentRef|uint32(a.ref))
			continue
		}
		b = binary.LittleEndian.AppendUint32(b, uint32(len(a.data)))
		b = append(b, a.data...)
	}
	attbuf = b
	return b
}

func encodeStrings(dst []byte, ss []string) []byte {
	if len(ss) == 0 {
		return dst
	}
	dst = binary.LittleEndian.AppendUint32(dst, uint32(len(ss)))
	for _, s := range ss {
		dst = binary.LittleEndian.AppendUint32(dst, uint32(len(s)))
		dst = append(dst, s...)
	}
	return dst
}

func ptr(b []byte) unsafe.Pointer  { return unsafe.Pointer(unsafe.SliceData(b)) }
func sptr(s string) unsafe.Pointer { return unsafe.Pointer(unsafe.StringData(s)) }

// getter calls a buffer-filling host function, growing the buffer once.
func getter(fn func(unsafe.Pointer, uint32) int32) []byte {
	var small [64]byte
	n := fn(unsafe.Pointer(&small[0]), uint32(len(small)))
	if n < 0 {
		return nil
	}
	if int(n) <= len(small) {
		return append([]byte(nil), small[:n]...)
	}
	b := make([]byte, n)
	if m := fn(ptr(b), uint32(len(b))); m < 0 || int(m) > len(b) {
		return nil
	}
	return b
}

func readAttachment(i int) ([]byte, error) {
	n := hostReadAttachment(uint32(i), nil, 0)
	if n < 0 {
		return nil, Error(n)
	}
	b := make([]byte, n)
	if n == 0 {
		return b, nil
	}
	if m := hostReadAttachment(uint32(i), ptr(b), uint32(n)); m < 0 {
		return nil, Error(m)
	}
	return b, nil
}

var refbuf []Blob

// refs returns references to the n input attachments in a reused slice.
func refs(n uint32) []Blob {
	if n == 0 {
		return nil
	}
	refbuf = refbuf[:0]
	for i := range n {
		refbuf = append(refbuf, Blob{ref: int32(i)})
	}
	return refbuf
}

// Socket is the client socket a call is about. It is valid during the call.
type Socket struct {
	id, nsp string
	auth    []byte
}

// ID returns the socket id.
func (s *Socket) ID() string { return s.id }

// Namespace returns the namespace name, e.g. "/".
func (s *Socket) Namespace() string { return s.nsp }

// Auth returns the CONNECT payload as raw JSON ({} when the client sent
// none), byte for byte.
func (s *Socket) Auth() Value {
	if len(s.auth) == 0 {
		s.auth = getter(hostAuth)
	}
	return s.auth
}

// Transport returns "polling" or "websocket".
func (s *Socket) Transport() string { return string(getter(hostTransport)) }

// Rooms returns the rooms the socket is in, sorted, its own id room
// included.
func (s *Socket) Rooms() []string {
	b := getter(hostRooms)
	if len(b) < 4 {
		return nil
	}
	n := binary.LittleEndian.Uint32(b)
	b = b[4:]
	out := make([]string, 0, n)
	for range n {
		r, rest, ok := field(b)
		if !ok {
			break
		}
		out = append(out, string(r))
		b = rest
	}
	return out
}

// Join adds the socket to room.
func (s *Socket) Join(room string) error { return check(hostJoin(sptr(room), uint32(len(room)))) }

// Leave removes the socket from room.
func (s *Socket) Leave(room string) error { return check(hostLeave(sptr(room), uint32(len(room)))) }

// RoomSize returns the number of sockets in room in this namespace, on
// every node of a cluster. In a cluster it waits for the other nodes (at
// most half the call's deadline) and fails with ErrTimeout or
// ErrUnavailable rather than count in part.
func (s *Socket) RoomSize(room string) (int, error) {
	return count(hostRoomSize(sptr(room), uint32(len(room))))
}

// ClientCount returns the number of sockets connected to this namespace,
// on every node of a cluster (as RoomSize).
func (s *Socket) ClientCount() (int, error) { return count(hostClientCount()) }

func count(rc int32) (int, error) {
	if rc < 0 {
		return 0, check(rc)
	}
	return int(rc), nil
}

// Emit sends event name with args (a JSON array) and attachments to this
// socket. Binary attachments go with placeholders in args
// ({"_placeholder":true,"num":i}).
func (s *Socket) Emit(name string, args []byte, atts ...Blob) error {
	a := encodeBlobs(atts)
	return check(hostEmit(sptr(name), uint32(len(name)), ptr(args), uint32(len(args)), ptr(a), uint32(len(a))))
}

// EmitWithAck sends an event asking the client for an ack. The answer, a
// timeout or a disconnection arrives later in an OnAckResponse call, which
// gets ctx back unchanged (opaque bytes, e.g. the client ack id to answer
// then).
func (s *Socket) EmitWithAck(name string, args []byte, timeout time.Duration, ctx []byte, atts ...Blob) error {
	ms := timeout.Milliseconds()
	if ms <= 0 {
		ms = 1
	}
	a := encodeBlobs(atts)
	return check(hostEmitWithAck(sptr(name), uint32(len(name)), ptr(args), uint32(len(args)), ptr(a), uint32(len(a)),
		uint32(ms), ptr(ctx), uint32(len(ctx))))
}

// Ack answers the client's ack id with args (a JSON array), once. Use it
// to answer later than the event call, e.g. from OnAckResponse.
func (s *Socket) Ack(id uint64, args []byte, atts ...Blob) error {
	a := encodeBlobs(atts)
	return check(hostAck(id, ptr(args), uint32(len(args)), ptr(a), uint32(len(a))))
}

// Disconnect removes the socket from its namespace (the client sees "io
// server disconnect"). It takes effect after the current call.
func (s *Socket) Disconnect() error { return check(hostDisconnect(0)) }

// CloseConnection disconnects the socket and closes the client's whole
// Engine.IO session. It takes effect after the current call. The session
// closes only when the server routes this plugin in every namespace;
// otherwise the socket just leaves its namespace (sdk/ABI.md, disconnect).
func (s *Socket) CloseConnection() error { return check(hostDisconnect(1)) }

// To starts a broadcast to the sockets in rooms of this namespace, this
// socket excluded (like socket.to(room) in Socket.IO).
func (s *Socket) To(rooms ...string) *Broadcast {
	return &Broadcast{rooms: rooms, flags: broadcastExceptSelf}
}

// Broadcast starts a broadcast to every socket of this namespace but this
// one.
func (s *Socket) Broadcast() *Broadcast { return &Broadcast{flags: broadcastExceptSelf} }

// Broadcast selects the receivers of a broadcast.
type Broadcast struct {
	rooms, except []string
	flags         uint32
}

// To adds rooms to send to.
func (b *Broadcast) To(rooms ...string) *Broadcast { b.rooms = append(b.rooms, rooms...); return b }

// Except excludes the members of rooms (a socket id excludes that socket).
func (b *Broadcast) Except(rooms ...string) *Broadcast {
	b.except = append(b.except, rooms...)
	return b
}

// IncludeSelf makes the broadcast reach the calling socket too.
func (b *Broadcast) IncludeSelf() *Broadcast { b.flags &^= broadcastExceptSelf; return b }

// Emit sends event name with args (a JSON array) and attachments to the
// selected sockets; the host encodes the packet once.
func (b *Broadcast) Emit(name string, args []byte, atts ...Blob) error {
	r := encodeStrings(nil, b.rooms)
	e := encodeStrings(nil, b.except)
	a := encodeBlobs(atts)
	return check(hostBroadcast(ptr(r), uint32(len(r)), ptr(e), uint32(len(e)), b.flags,
		sptr(name), uint32(len(name)), ptr(args), uint32(len(args)), ptr(a), uint32(len(a))))
}

// Event is one event from a client.
type Event struct {
	// Name is the event name.
	Name   string
	args   []byte
	natts  uint32
	ackID  uint64
	hasAck bool
	s      *Socket
}

// Args returns the arguments: a JSON array, binary placeholders in place.
func (e *Event) Args() Value { return e.args }

// Arg returns argument i, or an absent Value.
func (e *Event) Arg(i int) Value { return Value(e.args).Index(i) }

// HasAck reports whether the client asked for an ack.
func (e *Event) HasAck() bool { return e.hasAck }

// AckID returns the client's ack id (valid when HasAck), to answer later
// with Socket.Ack.
func (e *Event) AckID() uint64 { return e.ackID }

// Ack answers the client with args (a JSON array) and attachments.
func (e *Event) Ack(args []byte, atts ...Blob) error {
	if !e.hasAck {
		return ErrUnknownAck
	}
	return e.s.Ack(e.ackID, args, atts...)
}

// NumAttachments returns the number of binary attachments.
func (e *Event) NumAttachments() int { return int(e.natts) }

// Attachment returns a copy of attachment i.
func (e *Event) Attachment(i int) ([]byte, error) { return readAttachment(i) }

// Attachments returns references to all attachments, in order, to forward
// them unchanged with Emit or Ack.
func (e *Event) Attachments() []Blob { return refs(e.natts) }

// AckResponse is a client's answer to Socket.EmitWithAck, or its absence.
type AckResponse struct {
	// Status says whether the client answered.
	Status AckStatus
	// Context is the ctx given to EmitWithAck.
	Context   []byte
	args      []byte
	natts     uint32
	broadcast bool // answers a Broadcast.EmitWithAck
}

// OK reports whether the client answered.
func (r *AckResponse) OK() bool { return r.Status == AckOK }

// Args returns the client's ack arguments (a JSON array; [] without answer).
func (r *AckResponse) Args() Value { return r.args }

// Arg returns argument i of the answer, or an absent Value.
func (r *AckResponse) Arg(i int) Value { return Value(r.args).Index(i) }

// NumAttachments returns the number of binary attachments of the answer.
func (r *AckResponse) NumAttachments() int { return int(r.natts) }

// Attachment returns a copy of attachment i of the answer.
func (r *AckResponse) Attachment(i int) ([]byte, error) { return readAttachment(i) }

// Attachments returns references to the answer's attachments.
func (r *AckResponse) Attachments() []Blob { return refs(r.natts) }

// Conn is a session of a bare Engine.IO endpoint.
type Conn struct{ id string }

// ID returns the session id.
func (c *Conn) ID() string { return c.id }

// Transport returns "polling" or "websocket".
func (c *Conn) Transport() string { return string(getter(hostTransport)) }

// Send sends one message, binary or text.
func (c *Conn) Send(data []byte, binary bool) error {
	var bin uint32
	if binary {
		bin = 1
	}
	return check(hostEngineSend(ptr(data), uint32(len(data)), bin))
}
