package abi

// kindSet is a set of call kinds, bit k for Kind k.
type kindSet uint16

func kinds(ks ...Kind) kindSet {
	var s kindSet
	for _, k := range ks {
		s |= 1 << k
	}
	return s
}

func (s kindSet) has(k Kind) bool { return k < NumKinds && s&(1<<k) != 0 }

var (
	anyCall     = kinds(Middleware, Connect, Event, AckResponse, Disconnect, EngineOpen, EngineMessage, EngineClose, EventMiddleware, Init, Timer, ServerEvent, ServerAck, HTTPResponse)
	socketCalls = kinds(Middleware, Connect, Event, AckResponse, Disconnect, EventMiddleware, HTTPResponse)
	// speaking are the socket calls that may send to their socket.
	speaking = kinds(Connect, Event, AckResponse, HTTPResponse)
)

// rule says where a host function may run: allow is the set of kinds in
// which it runs; in the kinds of gone it returns ERR_DISCONNECTED (its
// socket or session has left); everywhere else ERR_NOT_ALLOWED.
type rule struct{ allow, gone kindSet }

// permissions is the permission table of ABI v1 (sdk/ABI.md, section 2):
// call kind × host function. Host and test harness consult it, nothing
// else decides.
var permissions = [NumFuncs]rule{
	ReadInput:      {allow: anyCall},
	ReadAttachment: {allow: anyCall},
	Log:            {allow: anyCall | kinds(NoCall)},
	Config:         {allow: anyCall},
	KVGet:          {allow: anyCall},
	KVSet:          {allow: anyCall},
	KVDelete:       {allow: anyCall},
	KVIncr:         {allow: anyCall},
	KVCAS:          {allow: anyCall},
	TimerSet:       {allow: anyCall},
	TimerCancel:    {allow: anyCall},
	NsBroadcast:    {allow: anyCall &^ kinds(Middleware, EventMiddleware)},
	ServerEmit:     {allow: anyCall &^ kinds(Middleware, EventMiddleware)},
	AckServerEvent: {allow: kinds(ServerEvent)},
	// Not in the middleware kinds, whose only effect besides refusing is
	// socket data, nor in INIT, which must not act before its version is
	// accepted.
	HTTPRequest: {allow: anyCall &^ kinds(Middleware, EventMiddleware, Init)},
	// socket_id and transport answer "" where there is no socket.
	SocketID:  {allow: anyCall},
	Transport: {allow: anyCall},

	Namespace:     {allow: socketCalls},
	Auth:          {allow: socketCalls},
	Rooms:         {allow: socketCalls},
	Handshake:     {allow: socketCalls},
	SocketData:    {allow: socketCalls},
	SetSocketData: {allow: socketCalls},
	RoomSize:      {allow: socketCalls},
	ClientCount:   {allow: socketCalls},
	FetchSockets:  {allow: socketCalls},

	Ack:              {allow: speaking, gone: kinds(Disconnect)},
	Emit:             {allow: speaking, gone: kinds(Disconnect)},
	EmitWithAck:      {allow: speaking, gone: kinds(Disconnect)},
	DisconnectSocket: {allow: speaking, gone: kinds(Disconnect)},
	Join:             {allow: speaking | kinds(Middleware), gone: kinds(Disconnect)},
	Leave:            {allow: speaking | kinds(Middleware), gone: kinds(Disconnect)},

	Broadcast:         {allow: speaking | kinds(Disconnect)},
	BroadcastWithAck:  {allow: speaking, gone: kinds(Disconnect)},
	SocketsJoin:       {allow: socketCalls &^ kinds(EventMiddleware)},
	SocketsLeave:      {allow: socketCalls &^ kinds(EventMiddleware)},
	DisconnectSockets: {allow: socketCalls &^ kinds(EventMiddleware)},

	Reject:      {allow: kinds(Middleware)},
	RejectEvent: {allow: kinds(EventMiddleware)},

	EngineSend: {allow: kinds(EngineOpen, EngineMessage), gone: kinds(EngineClose)},
}

// Permit returns OK when host function f may run in a call of kind k
// (NoCall: outside any call), ErrDisconnected when the kind is about a
// socket or session that has left, else ErrNotAllowed.
func Permit(k Kind, f Func) Code {
	if f >= NumFuncs {
		return ErrNotAllowed
	}
	r := permissions[f]
	switch {
	case r.allow.has(k):
		return OK
	case r.gone.has(k):
		return ErrDisconnected
	}
	return ErrNotAllowed
}

// PermitCall is Permit for a call that is about a socket (socket true) or
// not. Every kind but HTTP_RESPONSE is always one or the other. An
// HTTP_RESPONSE call is about the socket of the call that started its
// request, with the permissions of an ACK_RESPONSE; when that call was
// about no socket (TIMER, SERVER_EVENT, an engine kind, another such
// HTTP_RESPONSE…), the response call has the permissions of a TIMER call.
func PermitCall(k Kind, f Func, socket bool) Code {
	if k == HTTPResponse && !socket {
		k = Timer
	}
	return Permit(k, f)
}

// NeedsLiveSocket reports whether f acts for the calling socket in a way
// that only makes sense while it is connected: sending to it (ack, emit,
// emit_with_ack), changing its membership (join, leave, disconnect), or
// asking for answers that come back to it (broadcast_with_ack). Once the
// socket has left, these return ERR_DISCONNECTED in every kind, so that a
// socket that has left causes no further calls.
func (f Func) NeedsLiveSocket() bool {
	switch f {
	case Ack, Emit, EmitWithAck, DisconnectSocket, Join, Leave, BroadcastWithAck:
		return true
	}
	return false
}
