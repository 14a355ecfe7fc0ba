package abi

// Version is the plugin ABI version.
const Version = 1

// Kind is a call kind: the first parameter of sockwasm_handle and byte 1
// of the input frame. Kind 0 (NoCall) stands for "outside any call": a
// host function called from a guest's _initialize.
type Kind uint32

// Call kinds of ABI v1.
const (
	NoCall          Kind = 0
	Middleware      Kind = 1
	Connect         Kind = 2
	Event           Kind = 3
	AckResponse     Kind = 4
	Disconnect      Kind = 5
	EngineOpen      Kind = 6
	EngineMessage   Kind = 7
	EngineClose     Kind = 8
	EventMiddleware Kind = 9
	Init            Kind = 10
	Timer           Kind = 11
	ServerEvent     Kind = 12
	ServerAck       Kind = 13
	HTTPResponse    Kind = 14
)

// NumKinds is one more than the highest call kind.
const NumKinds = 15

var kindNames = [NumKinds]string{"none", "middleware", "connect", "event", "ack-response", "disconnect",
	"engine-open", "engine-message", "engine-close", "event-middleware", "init", "timer",
	"server-event", "server-ack", "http-response"}

// String returns the kind's name as logs show it ("event", "ack-response").
func (k Kind) String() string {
	if k < NumKinds {
		return kindNames[k]
	}
	return "unknown"
}

// Socket reports whether calls of kind k are always about a socket of a
// namespace (MIDDLEWARE, CONNECT, EVENT, ACK_RESPONSE, DISCONNECT,
// EVENT_MIDDLEWARE). An HTTP_RESPONSE call is about a socket when its
// request was started in a call about one (PermitCall).
func (k Kind) Socket() bool {
	switch k {
	case Middleware, Connect, Event, AckResponse, Disconnect, EventMiddleware:
		return true
	}
	return false
}

// Engine reports whether calls of kind k are about a bare Engine.IO
// session.
func (k Kind) Engine() bool { return k == EngineOpen || k == EngineMessage || k == EngineClose }

// Code is a result of a host function: non-negative is success (a length
// or a count), negative one of the errors below.
type Code int32

// Result codes of host functions.
const (
	OK              Code = 0
	ErrMemory       Code = -1  // a pointer/length pair is outside guest memory
	ErrInvalid      Code = -2  // malformed argument: not a JSON array, bad list, empty name, invalid UTF-8…
	ErrNotFound     Code = -3  // attachment index out of range, unknown key, timer or namespace
	ErrNotAllowed   Code = -4  // not available in this kind of call, or not granted
	ErrDisconnected Code = -5  // the socket or session is gone
	ErrLimit        Code = -6  // a bound was hit: sizes, counts, rates, call budgets
	ErrUnknownAck   Code = -7  // no unanswered client ack with that id
	ErrFailed       Code = -8  // the host refused for another reason (logged)
	ErrTimeout      Code = -9  // other nodes of the cluster did not all answer in time
	ErrUnavailable  Code = -10 // the cluster's store (Redis) cannot be reached
)

var codeNames = [...]string{"OK", "ERR_MEMORY", "ERR_INVALID", "ERR_NOT_FOUND", "ERR_NOT_ALLOWED",
	"ERR_DISCONNECTED", "ERR_LIMIT", "ERR_UNKNOWN_ACK", "ERR_FAILED", "ERR_TIMEOUT", "ERR_UNAVAILABLE"}

// String returns the code's name as sdk/ABI.md spells it ("ERR_LIMIT");
// a non-negative code is "OK".
func (c Code) String() string {
	switch {
	case c >= 0:
		return "OK"
	case int(-c) < len(codeNames):
		return codeNames[-c]
	}
	return "ERR_UNKNOWN"
}
