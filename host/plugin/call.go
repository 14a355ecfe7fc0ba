package plugin

import (
	"context"
	"encoding/binary"
	"errors"
	"sync"
	"time"

	"github.com/sockwasm/sockwasm/host/engineio"
	"github.com/sockwasm/sockwasm/host/socketio"
	"github.com/sockwasm/sockwasm/sdk/abi"
)

// target is what a socket call acts on. *socketio.Socket is adapted by
// socketTarget; tests use a fake.
//
// Emit, EmitWithAck, Ack, Broadcast and BroadcastWithAck check args as
// *socketio.Socket does, the one check of a guest's args (payload): a
// JSON array of valid UTF-8 within the server's nesting limit, else
// socketio.ErrInvalidArgs, nothing sent. Ack does not keep args past its
// return (it is handed a view of guest memory).
type target interface {
	ID() string
	Namespace() string
	Auth() []byte
	Transport() string
	Rooms() []string
	// Connected reports whether the socket is accepted and has not left.
	Connected() bool
	Join(room string) error
	Leave(room string)
	Emit(name string, args []byte, atts [][]byte) error
	EmitWithAck(name string, args []byte, atts [][]byte, timeout time.Duration, cb func(socketio.AckResponse)) error
	Ack(id uint64, args []byte, atts [][]byte) error
	Disconnect(closeSession bool)
	Broadcast(opts socketio.BroadcastOptions, name string, args []byte, atts [][]byte) error
	// Schedule runs f serialized with the socket's calls: after the
	// current one, or now when none runs.
	Schedule(f func())
	// RoomSize and ClientCount count on every node of a cluster, waiting
	// at most until ctx's deadline.
	RoomSize(ctx context.Context, room string) (int, error)
	ClientCount(ctx context.Context) (int, error)
	socketExt
}

// engineSession is what an engine call acts on; *engineio.Session has it.
type engineSession interface {
	ID() string
	Transport() string
	Send(msgs ...engineio.Message) error
}

// call is the state of one guest call, reachable from host functions
// through the instance running it. It also carries the call's budget:
// what it sent, deferred and logged, and how deep in a chain of calls it
// is.
type call struct {
	kind   abi.Kind
	frame  []byte
	atts   [][]byte
	event  string
	sock   target
	eng    engineSession
	ackID  uint64
	hasAck bool
	acked  bool
	reject *socketio.ConnectError
	p      *Plugin
	v      *version // the version running the call, set by invoke

	// serverAck sends the answer of a SERVER_EVENT call that expects one,
	// until server_ack has used it.
	serverAck func(answer []byte)
	// chain is the budget of the chain of calls this one belongs to, when
	// it follows another at once (Limits.MaxCallChain); nil otherwise.
	chain *chainBudget
	// Budget used so far (Limits.MaxSendsPerCall, MaxDeferredPerCall,
	// MaxLogBytesPerCall).
	sends, deferred, logBytes int
	// logDropped counts log bytes over the budget, refused the host
	// calls refused after the first (which is logged at once).
	logDropped, refused int
	// firstRefusal is set once a host call was refused (that one is
	// logged when it happens); why is the reason a host function gives
	// for the refusal it is returning.
	firstRefusal bool
	why          string
	// lastError is the last error-level message logged, which names the
	// reason when an INIT call refuses its version.
	lastError string
	// stage holds what an INIT call does to the plugin's state: applied
	// when the version is accepted, dropped when it is refused.
	stage *stage
}

var callPool = sync.Pool{New: func() any { return new(call) }}

func (p *Plugin) newCall(kind abi.Kind) *call {
	c := callPool.Get().(*call)
	c.kind = kind
	c.p = p
	return c
}

func freeCall(c *call) {
	frame := c.frame[:0]
	if cap(frame) > 64<<10 {
		frame = nil
	}
	*c = call{frame: frame}
	callPool.Put(c)
}

// frameFields are the variable fields of an input frame.
type frameFields struct {
	flags     uint16
	natts     uint32
	ackID     uint64
	status    uint32
	namespace string
	socketID  string
	name      string
	args      []byte
	auth      []byte
	context   []byte
	reason    string
	rooms     []string
}

// encodeFrame appends the input frame of kind with f to dst.
func encodeFrame(dst []byte, kind abi.Kind, f *frameFields) []byte {
	dst = append(dst, ABIVersion, byte(kind))
	dst = binary.LittleEndian.AppendUint16(dst, f.flags)
	dst = binary.LittleEndian.AppendUint32(dst, f.natts)
	dst = binary.LittleEndian.AppendUint64(dst, f.ackID)
	dst = binary.LittleEndian.AppendUint32(dst, f.status)
	dst = binary.LittleEndian.AppendUint32(dst, 0)
	dst = appendStr(dst, f.namespace)
	dst = appendStr(dst, f.socketID)
	dst = appendStr(dst, f.name)
	dst = appendBytes(dst, f.args)
	dst = appendBytes(dst, f.auth)
	dst = appendBytes(dst, f.context)
	dst = appendStr(dst, f.reason)
	dst = binary.LittleEndian.AppendUint32(dst, uint32(len(f.rooms)))
	for _, r := range f.rooms {
		dst = appendStr(dst, r)
	}
	return dst
}

func appendStr(dst []byte, s string) []byte {
	dst = binary.LittleEndian.AppendUint32(dst, uint32(len(s)))
	return append(dst, s...)
}

func appendBytes(dst []byte, b []byte) []byte {
	dst = binary.LittleEndian.AppendUint32(dst, uint32(len(b)))
	return append(dst, b...)
}

// socketTarget adapts *socketio.Socket to target for plugin p. The
// socketio layer serializes every handler call and ack callback of one
// client, so the calls of one socket never overlap and need no lock here.
type socketTarget struct {
	s     *socketio.Socket
	owner string // the plugin: its socket data slot
}

func (p *Plugin) adapt(s *socketio.Socket) socketTarget { return socketTarget{s, p.name} }

func (t socketTarget) ID() string             { return t.s.ID() }
func (t socketTarget) Namespace() string      { return t.s.Namespace().Name() }
func (t socketTarget) Auth() []byte           { return t.s.Auth() }
func (t socketTarget) Transport() string      { return t.s.Transport() }
func (t socketTarget) Rooms() []string        { return t.s.Rooms() }
func (t socketTarget) Connected() bool        { return t.s.Connected() }
func (t socketTarget) Join(room string) error { return t.s.Join(room) }
func (t socketTarget) Leave(room string)      { t.s.Leave(room) }
func (t socketTarget) Emit(name string, args []byte, atts [][]byte) error {
	return t.s.Emit(name, args, atts)
}
func (t socketTarget) EmitWithAck(name string, args []byte, atts [][]byte, timeout time.Duration, cb func(socketio.AckResponse)) error {
	return t.s.EmitWithAck(name, args, atts, timeout, cb)
}
func (t socketTarget) Ack(id uint64, args []byte, atts [][]byte) error {
	return t.s.Ack(id, args, atts)
}

func (t socketTarget) Schedule(f func()) { t.s.Schedule(f) }

// Disconnect runs after the current call (sdk/ABI.md: what the call sends
// after it, an ack included, still reaches the client first).
func (t socketTarget) Disconnect(closeSession bool) {
	s := t.s
	s.Schedule(func() { s.Disconnect(closeSession) })
}

func (t socketTarget) Broadcast(opts socketio.BroadcastOptions, name string, args []byte, atts [][]byte) error {
	return t.s.Namespace().Broadcast(opts, name, args, atts)
}
func (t socketTarget) RoomSize(ctx context.Context, room string) (int, error) {
	ids, err := t.s.Namespace().AllSockets(ctx, room)
	return len(ids), err
}
func (t socketTarget) ClientCount(ctx context.Context) (int, error) {
	ids, err := t.s.Namespace().AllSockets(ctx)
	return len(ids), err
}

// Middleware runs the guest's connection middleware for s; nil accepts.
// The guest rejects with the reject host function. A guest fault rejects
// with {"message":"internal error"}.
func (p *Plugin) Middleware(s *socketio.Socket) *socketio.ConnectError {
	return p.middleware(p.adapt(s))
}

// Connect tells the guest that s connected.
func (p *Plugin) Connect(s *socketio.Socket) { p.connect(p.adapt(s)) }

// Event hands ev to the guest. On a guest fault the event is acked with
// [{"error":"handler failed"}] when the client asked for an ack that the
// guest has not answered.
func (p *Plugin) Event(s *socketio.Socket, ev *socketio.Event) { p.event(p.adapt(s), ev) }

// Disconnect tells the guest that s left with reason and its rooms.
func (p *Plugin) Disconnect(s *socketio.Socket, reason socketio.Reason, rooms []string) {
	p.disconnect(p.adapt(s), string(reason), rooms)
}

var internalError = &socketio.ConnectError{Message: "internal error"}

func (p *Plugin) middleware(t target) *socketio.ConnectError {
	c := p.newCall(KindMiddleware)
	defer freeCall(c)
	c.sock = t
	c.frame = encodeFrame(c.frame, c.kind, &frameFields{
		namespace: t.Namespace(), socketID: t.ID(), auth: t.Auth(),
	})
	if f := p.invoke(c); f != nil {
		return internalError
	}
	return c.reject
}

func (p *Plugin) connect(t target) {
	c := p.newCall(KindConnect)
	defer freeCall(c)
	c.sock = t
	c.frame = encodeFrame(c.frame, c.kind, &frameFields{
		namespace: t.Namespace(), socketID: t.ID(), auth: t.Auth(),
	})
	p.invoke(c)
}

func (p *Plugin) event(t target, ev *socketio.Event) {
	c := p.newCall(KindEvent)
	defer freeCall(c)
	c.sock = t
	c.event = ev.Name
	c.atts = ev.Attachments
	c.ackID, c.hasAck = ev.AckID, ev.HasAck
	ff := frameFields{
		natts: uint32(len(ev.Attachments)), namespace: t.Namespace(), socketID: t.ID(),
		name: ev.Name, args: ev.Args,
	}
	if ev.HasAck {
		ff.flags |= FlagHasAck
		ff.ackID = ev.AckID
	}
	c.frame = encodeFrame(c.frame, c.kind, &ff)
	if f := p.invoke(c); f != nil && c.hasAck && !c.acked {
		if err := t.Ack(c.ackID, handlerFailedAck, nil); err != nil && !errors.Is(err, socketio.ErrUnknownAck) {
			p.log.Debug().Err(err).Msg("error ack not sent")
		}
	}
}

// ackResponse makes the ACK_RESPONSE call of an emit_with_ack, releasing
// the context bytes it held.
func (p *Plugin) ackResponse(t target, ctx []byte, r socketio.AckResponse) {
	p.releaseAckContext(len(ctx))
	c := p.newCall(KindAckResponse)
	defer freeCall(c)
	c.sock = t
	c.atts = r.Attachments
	ff := frameFields{
		natts: uint32(len(r.Attachments)), namespace: t.Namespace(), socketID: t.ID(),
		args: r.Args, context: ctx,
	}
	switch {
	case r.Err == nil:
	case errors.Is(r.Err, socketio.ErrAckTimeout):
		ff.status = AckTimeout
	default:
		ff.status = AckDisconnected
	}
	if len(ff.args) == 0 {
		ff.args = emptyArray
	}
	c.frame = encodeFrame(c.frame, c.kind, &ff)
	p.invoke(c)
}

var emptyArray = []byte("[]")

func (p *Plugin) disconnect(t target, reason string, rooms []string) {
	c := p.newCall(KindDisconnect)
	defer freeCall(c)
	c.sock = t
	c.frame = encodeFrame(c.frame, c.kind, &frameFields{
		namespace: t.Namespace(), socketID: t.ID(), reason: reason, rooms: rooms,
	})
	p.invoke(c)
}

// EngineHandler serves a bare Engine.IO endpoint with this plugin: the
// guest gets engine-open, engine-message and engine-close calls and answers
// with engine_send.
func (p *Plugin) EngineHandler() engineio.Handler { return engineHandler{p} }

type engineHandler struct{ p *Plugin }

func (h engineHandler) Open(s *engineio.Session) engineio.Receiver { return h.p.engineOpen(s) }

type engineReceiver struct {
	p *Plugin
	s engineSession
}

func (p *Plugin) engineOpen(s engineSession) *engineReceiver {
	r := &engineReceiver{p: p, s: s}
	r.run(KindEngineOpen, &frameFields{socketID: s.ID()})
	return r
}

// OnMessage implements engineio.Receiver.
func (r *engineReceiver) OnMessage(data []byte, binary bool) {
	ff := frameFields{socketID: r.s.ID(), args: data}
	if binary {
		ff.flags = FlagBinary
	}
	r.run(KindEngineMessage, &ff)
}

// OnClose implements engineio.Receiver.
func (r *engineReceiver) OnClose(reason engineio.CloseReason) {
	r.run(KindEngineClose, &frameFields{socketID: r.s.ID(), reason: string(reason)})
}

// run makes one engine call; the Receiver contract already serializes them.
func (r *engineReceiver) run(kind abi.Kind, ff *frameFields) {
	c := r.p.newCall(kind)
	defer freeCall(c)
	c.eng = r.s
	c.frame = encodeFrame(c.frame, kind, ff)
	r.p.invoke(c)
}
