package sockwasm

import "time"

// Call kinds of the server-side events of a cluster.
const (
	kindServerEvent = 12
	kindServerAck   = 13
)

var serverHandlers struct {
	event func(e *ServerEvent)
	ack   func(r *ServerAckResponse)
}

// ServerEvent is an event another node of the cluster sent to this
// namespace with serverSideEmit (Socket.IO's io.serverSideEmit): from a
// sockwasm plugin (NamespaceBroadcast.ServerSideEmit) or a Node.js server.
type ServerEvent struct {
	// Namespace and Name say which event it is.
	Namespace, Name string
	args            Value
	hasAck          bool
}

// Args returns the event's arguments, a JSON array.
func (e *ServerEvent) Args() Value { return e.args }

// Arg returns argument i, or an absent Value.
func (e *ServerEvent) Arg(i int) Value { return e.args.Index(i) }

// HasAck reports whether the sender waits for this node's answer.
func (e *ServerEvent) HasAck() bool { return e.hasAck }

// Ack answers the sender with the first element of args (a JSON array),
// the one value a Socket.IO server's callback passes back. It works once,
// during the call; ErrUnknownAck otherwise.
func (e *ServerEvent) Ack(args []byte) error {
	if !e.hasAck {
		return ErrUnknownAck
	}
	return check(hostServerAck(1, ptr(args), uint32(len(args))))
}

// ServerAckResponse brings the answers to a ServerSideEmitWithAck.
type ServerAckResponse struct {
	// Namespace is where the event was sent.
	Namespace string
	// Answers is a JSON array with one answer per node that answered.
	Answers Value
	// TimedOut reports that not every node answered in time; Answers
	// holds those that did.
	TimedOut bool
	// Context is the ctx given to ServerSideEmitWithAck.
	Context []byte
}

// OnServerEvent registers the handler of server-side events from other
// nodes. Server-side events run one at a time, in arrival order.
func OnServerEvent(fn func(e *ServerEvent)) { serverHandlers.event = fn }

// OnServerAck registers the handler of the answers to
// ServerSideEmitWithAck.
func OnServerAck(fn func(r *ServerAckResponse)) { serverHandlers.ack = fn }

var (
	curServerEvent ServerEvent
	curServerAck   ServerAckResponse
)

// dispatchServer runs the SERVER_EVENT and SERVER_ACK calls; ok is false
// for other kinds.
func dispatchServer(kind int32, in *input) (rc int32, ok bool) {
	switch kind {
	case kindServerEvent:
		if serverHandlers.event != nil {
			curServerEvent = ServerEvent{
				Namespace: intern(&lastNsp, in.namespace), Name: string(in.name),
				args: in.args, hasAck: in.flags&flagHasAck != 0,
			}
			serverHandlers.event(&curServerEvent)
		}
		return 0, true
	case kindServerAck:
		if serverHandlers.ack != nil {
			curServerAck = ServerAckResponse{
				Namespace: intern(&lastNsp, in.namespace), Answers: in.args,
				TimedOut: AckStatus(in.status) == AckTimeout, Context: in.context,
			}
			serverHandlers.ack(&curServerAck)
		}
		return 0, true
	}
	return 0, false
}

// ServerSideEmit sends event name with args (a JSON array, no binary) to
// the other nodes of the cluster serving this namespace, Socket.IO's
// io.of(nsp).serverSideEmit(name, ...args); rooms and flags do not apply.
// With a single node it does nothing. It needs the namespace rule of Emit
// (served, or granted "emit:/nsp").
func (b *NamespaceBroadcast) ServerSideEmit(name string, args []byte) error {
	return check(hostServerEmit(sptr(b.nsp), uint32(len(b.nsp)), sptr(name), uint32(len(name)),
		ptr(args), uint32(len(args)), 0, nil, 0))
}

// ServerSideEmitWithAck is ServerSideEmit asking every other node for one
// answer: the OnServerAck handler gets them, with ctx, once all have come
// or after timeout (1 ms…10 min) with those that came.
func (b *NamespaceBroadcast) ServerSideEmitWithAck(name string, args []byte, timeout time.Duration, ctx []byte) error {
	ms := timeout.Milliseconds()
	if ms <= 0 || ms > 600_000 {
		return ErrInvalid
	}
	return check(hostServerEmit(sptr(b.nsp), uint32(len(b.nsp)), sptr(name), uint32(len(name)),
		ptr(args), uint32(len(args)), uint32(ms), ptr(ctx), uint32(len(ctx))))
}
