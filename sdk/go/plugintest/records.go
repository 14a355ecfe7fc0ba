package plugintest

import (
	"time"

	sockwasm "github.com/sockwasm/sockwasm/sdk/go"
)

// Kind names the call a Call record is about, as in sdk/ABI.md.
type Kind string

// Call kinds delivered by the harness.
const (
	KindMiddleware      Kind = "middleware"
	KindConnect         Kind = "connect"
	KindEvent           Kind = "event"
	KindAckResponse     Kind = "ack_response"
	KindDisconnect      Kind = "disconnect"
	KindEventMiddleware Kind = "event_middleware"
	KindInit            Kind = "init"
	KindTimer           Kind = "timer"
	KindServerEvent     Kind = "server_event"
	KindServerAck       Kind = "server_ack"
	KindHTTPResponse    Kind = "http_response"
)

// Call records one call into the plugin and everything its handlers did
// during it.
type Call struct {
	// Kind is the kind of call.
	Kind Kind
	// Socket is the id of the socket the call is about ("" for INIT and
	// TIMER calls).
	Socket string
	// Event is the event name (EVENT, EVENT_MIDDLEWARE).
	Event string
	// HasAck reports that the event asked for an ack, whose id is AckID.
	HasAck bool
	// AckID is the client ack id of the event.
	AckID uint64
	// Result is what sockwasm_handle returned (0: success).
	Result int32
	// Emits are the events sent, to the socket or broadcast, in order.
	Emits []Emit
	// Acks are the client acks answered during the call, in order.
	Acks []Ack
	// Joins and Leaves are the rooms the socket joined and left.
	Joins, Leaves []string
	// Disconnect reports that the handler disconnected the socket;
	// CloseSession that it closed the whole connection.
	Disconnect, CloseSession bool
	// ConnectError is the connection middleware's refusal, nil when it
	// accepted (MIDDLEWARE, and CONNECT calls made by Socket.Connect).
	ConnectError *sockwasm.ConnectError
	// Rejection is the per-event middleware's refusal, nil when it passed
	// the event (EVENT_MIDDLEWARE).
	Rejection *sockwasm.Rejection
	// SocketData holds each value given to Socket.SetData, in order.
	SocketData []string
	// RoomOps are the server-side room operations (SocketsJoin,
	// SocketsLeave, DisconnectSockets).
	RoomOps []RoomOp
	// KV are the key-value store operations.
	KV []KVOp
	// TimersSet are the timers started; TimersCanceled the ids canceled.
	TimersSet      []Timer
	TimersCanceled []sockwasm.TimerID
	// Logs are the lines written with sockwasm.Log.
	Logs []Log
	// Errors are the host calls that failed, with their error.
	Errors []HostError
	// ServerAnswer is the answer a SERVER_EVENT call gave with
	// ServerEvent.Ack (one JSON value), and Answered whether it did.
	ServerAnswer string
	Answered     bool
	// HTTPRequests are the outbound HTTP requests started (StartHTTP);
	// answer them with Harness.RespondHTTP, FailHTTP or RoundTrip.
	HTTPRequests []HTTPRequest
}

// Ack returns the answer to the call's own ack id made during the call,
// or nil.
func (c *Call) Ack() *Ack {
	if !c.HasAck {
		return nil
	}
	for i := range c.Acks {
		if c.Acks[i].ID == c.AckID && c.Acks[i].Socket == c.Socket {
			return &c.Acks[i]
		}
	}
	return nil
}

// Emitted returns the first event named name sent during the call, or nil.
func (c *Call) Emitted(name string) *Emit {
	for i := range c.Emits {
		if c.Emits[i].Name == name {
			return &c.Emits[i]
		}
	}
	return nil
}

// Emit is an event the plugin sent.
type Emit struct {
	// From is the socket of the call that sent it ("" from INIT or TIMER).
	From string
	// Name and Args (a JSON array) are the event.
	Name, Args string
	// Attachments are its binary attachments (references resolved).
	Attachments [][]byte
	// Broadcast is false for Socket.Emit / EmitWithAck (to From only) and
	// true for a broadcast (Socket.To, Broadcast, In, Volatile, Of).
	Broadcast bool
	// Namespace is the namespace of a broadcast made with sockwasm.Of,
	// empty for the others (they go to the calling socket's namespace).
	Namespace string
	// Rooms are the broadcast's rooms (empty: the whole namespace) and
	// Except its excluded rooms and socket ids.
	Rooms, Except []string
	// ExceptSelf, Volatile and Compress are the broadcast flags.
	ExceptSelf, Volatile, Compress bool
	// WithAck reports an emit asking for acks, with its Timeout and
	// Context; answer it with Socket.Reply.
	WithAck bool
	Timeout time.Duration
	Context []byte
	// Receivers are the ids of the harness's sockets it reached.
	Receivers []string
	// Server reports a server-side emit to the other nodes of a cluster
	// (NamespaceBroadcast.ServerSideEmit): Namespace, Name and Args are
	// set, and WithAck, Timeout and Context when it asked for answers
	// (give them with Harness.ServerAnswers).
	Server bool
}

// Ack is a client ack the plugin answered.
type Ack struct {
	// Socket is the id of the socket answered.
	Socket string
	// ID is the client's ack id.
	ID uint64
	// Args is the answer, a JSON array.
	Args string
	// Attachments are its binary attachments (references resolved).
	Attachments [][]byte
}

// RoomOp is a server-side room operation.
type RoomOp struct {
	// Op is "join", "leave" or "disconnect".
	Op string
	// Rooms and Except select the sockets.
	Rooms, Except []string
	// Targets are the rooms joined or left.
	Targets []string
	// CloseSession is the flag of a "disconnect".
	CloseSession bool
	// Sockets are the ids of the selected sockets.
	Sockets []string
}

// KVOp is one key-value store operation.
type KVOp struct {
	// Op is "get", "set", "delete", "incr" or "cas".
	Op string
	// Key is the key.
	Key string
	// Value is the value stored (set, cas), or read (get).
	Value string
	// Old is the compared value of a cas (OldAbsent: compared with absent).
	Old       string
	OldAbsent bool
	// Delta is the increment of an incr.
	Delta int64
	// TTL is the expiry given (0: none).
	TTL time.Duration
	// Result is the host function's result: a length, 0/1, the new value
	// of an incr, or a negative error code.
	Result int64
}

// Timer is a timer started by the plugin.
type Timer struct {
	// ID is the timer's id.
	ID sockwasm.TimerID
	// Delay is its delay (its period when Repeat).
	Delay time.Duration
	// Repeat reports a repeating timer.
	Repeat bool
	// Context is the ctx given to SetTimer.
	Context []byte
}

// Log is a line the plugin logged.
type Log struct {
	// Level is its level.
	Level sockwasm.Level
	// Message is the text.
	Message string
	// Socket is the socket of the call ("" for INIT and TIMER).
	Socket string
}

// HostError is a failed host call.
type HostError struct {
	// Func is the host function, as in sdk/ABI.md (e.g. "emit").
	Func string
	// Err is the error code it returned.
	Err sockwasm.Error
}

// HTTPRequest is an outbound HTTP request the plugin started.
type HTTPRequest struct {
	// ID is the id StartHTTP returned.
	ID sockwasm.HTTPRequestID
	// Method and URL are the request's (the method GET when none was
	// given).
	Method, URL string
	// Header holds its headers, names as the plugin gave them.
	Header map[string][]string
	// Body is its body.
	Body []byte
	// Context is the ctx given to StartHTTP.
	Context []byte
	// Socket is the id of the socket of the call that started it ("" when
	// none): its HTTP_RESPONSE call is about that socket.
	Socket string
}

// HTTPResult is what Harness.RespondHTTP delivers: a response (Status and
// Header, Body), or a failure (Failure and Detail, Status 0).
type HTTPResult struct {
	Status  int
	Header  map[string]string // names in lower case
	Body    []byte
	Failure sockwasm.HTTPFailure
	Detail  string
}
