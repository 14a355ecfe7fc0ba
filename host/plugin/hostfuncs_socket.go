package plugin

import (
	"context"
	"time"

	"github.com/tetratelabs/wazero/api"

	"github.com/sockwasm/sockwasm/host/socketio"
	sp "github.com/sockwasm/sockwasm/protocol/socketio"
	"github.com/sockwasm/sockwasm/sdk/abi"
)

// socketExt is the part of target behind the handshake, socket data,
// broadcast with acks and the server-side room operations.
type socketExt interface {
	// Handshake returns the handshake as the JSON object of sdk/ABI.md.
	Handshake() []byte
	// Data and SetData are the calling plugin's own data slot.
	Data() []byte
	SetData(b []byte)
	// BroadcastWithAck runs cb serialized with the socket's calls;
	// immediate reports that no socket took the event (cb follows at once).
	BroadcastWithAck(opts socketio.BroadcastOptions, name string, args []byte, atts [][]byte, timeout time.Duration, cb func([]socketio.AckReply, error)) (immediate bool, err error)
	// FetchSockets describes the selected sockets, with the calling
	// plugin's data of each.
	FetchSockets(ctx context.Context, opts socketio.BroadcastOptions) ([]socketInfo, error)
	SocketsJoin(opts socketio.BroadcastOptions, rooms []string) error
	SocketsLeave(opts socketio.BroadcastOptions, rooms []string)
	// DisconnectSockets takes effect after the current call.
	DisconnectSockets(opts socketio.BroadcastOptions, closeSession bool)
}

// socketInfo is one socket found by fetch_sockets, as a plugin sees it.
type socketInfo struct {
	ID    string
	Rooms []string
	Data  []byte // the calling plugin's data
}

func (t socketTarget) Handshake() []byte { return t.s.HandshakeJSON() }

func (t socketTarget) Data() []byte     { return t.s.Data(t.owner) }
func (t socketTarget) SetData(b []byte) { t.s.SetData(t.owner, b) }
func (t socketTarget) BroadcastWithAck(opts socketio.BroadcastOptions, name string, args []byte, atts [][]byte, timeout time.Duration, cb func([]socketio.AckReply, error)) (bool, error) {
	return t.s.BroadcastWithAck(opts, name, args, atts, timeout, cb)
}
func (t socketTarget) FetchSockets(ctx context.Context, opts socketio.BroadcastOptions) ([]socketInfo, error) {
	infos, err := t.s.Namespace().FetchSockets(ctx, opts)
	if err != nil {
		return nil, err
	}
	out := make([]socketInfo, len(infos))
	for i, si := range infos {
		out[i] = socketInfo{ID: si.ID, Rooms: si.Rooms, Data: si.Data[t.owner]}
	}
	return out, nil
}
func (t socketTarget) SocketsJoin(opts socketio.BroadcastOptions, rooms []string) error {
	return t.s.Namespace().SocketsJoin(opts, rooms...)
}
func (t socketTarget) SocketsLeave(opts socketio.BroadcastOptions, rooms []string) {
	t.s.Namespace().SocketsLeave(opts, rooms...)
}

// DisconnectSockets runs after the current call, so the OnDisconnect calls
// it causes never nest inside it.
func (t socketTarget) DisconnectSockets(opts socketio.BroadcastOptions, closeSession bool) {
	s := t.s
	s.Schedule(func() { s.Namespace().DisconnectSockets(opts, closeSession) })
}

func hostSetSocketData(ctx context.Context, m api.Module, stack []uint64) {
	c := currentCall(ctx)
	if int64(uint32(stack[1])) > int64(c.v.lim.MaxSocketData) {
		ret(stack, c.limited("socket data over max_socket_data"))
		return
	}
	b, ok := view(m, stack[0], stack[1])
	if !ok {
		ret(stack, ErrMemory)
		return
	}
	if len(b) > 0 && !isJSON(b) {
		ret(stack, ErrInvalid)
		return
	}
	c.sock.SetData(b) // copies
	ret(stack, 0)
}

// selection reads a (rooms, except) pair of lists.
func selection(m api.Module, rp, rl, ep, el uint64) (socketio.BroadcastOptions, int32) {
	var opts socketio.BroadcastOptions
	rb, ok := view(m, rp, rl)
	if !ok {
		return opts, ErrMemory
	}
	rooms, code := decodeList(rb)
	if code != 0 {
		return opts, code
	}
	eb, ok := view(m, ep, el)
	if !ok {
		return opts, ErrMemory
	}
	except, code := decodeList(eb)
	if code != 0 {
		return opts, code
	}
	opts.Rooms, opts.Except = rooms, except
	return opts, 0
}

// hostBroadcastWithAck starts a broadcast with acks whose answers come
// back in an ACK_RESPONSE call of this socket. A broadcast that reached
// nobody answers at once: such answers make calls that no client or clock
// paces, a chain (or a tree, when a call asks several times) whose calls
// share one budget of MaxCallChain.
func hostBroadcastWithAck(ctx context.Context, m api.Module, stack []uint64) {
	c := currentCall(ctx)
	if c.chain == nil {
		c.chain = &chainBudget{left: c.v.lim.MaxCallChain}
	}
	if c.chain.left <= 0 {
		ret(stack, c.limited("calls answered at once, one after another, over max_call_chain"))
		return
	}
	opts, name, args, atts, code := broadcastParams(c, m, stack, c.sock.ID())
	var timeout time.Duration
	if code == 0 {
		timeout, code = ackTimeout(stack[11])
	}
	var actx []byte
	if code == 0 {
		actx, code = ackContext(c, m, stack[12], stack[13])
	}
	if code != 0 {
		ret(stack, code)
		return
	}
	p, t := c.p, c.sock
	next := &chainLink{}
	// The socketio layer runs the callback after this call has returned,
	// serialized with the socket's other calls.
	immediate, err := t.BroadcastWithAck(opts, name, args, atts, timeout, func(rs []socketio.AckReply, err error) {
		p.broadcastAckResponse(t, actx, rs, err, next.chain)
	})
	if err != nil {
		p.releaseAckContext(len(actx))
	} else if immediate {
		c.chain.left--
		next.chain = c.chain
	}
	ret(stack, errCode(c, err))
}

// chainBudget is what is left to a chain of calls that follow one another
// at once; every call of the chain, however it branches, takes from it.
type chainBudget struct{ left int }

// chainLink carries the chain to the call a host function causes; it is
// set before that call can run (both run on the socket's executor).
type chainLink struct{ chain *chainBudget }

// broadcastAckResponse makes the ACK_RESPONSE call of a broadcast_with_ack.
func (p *Plugin) broadcastAckResponse(t target, ctx []byte, rs []socketio.AckReply, err error, chain *chainBudget) {
	p.releaseAckContext(len(ctx))
	c := p.newCall(KindAckResponse)
	defer freeCall(c)
	c.sock = t
	c.chain = chain
	args, atts := encodeReplies(rs)
	c.atts = atts
	ff := frameFields{
		flags: FlagBroadcastAck, natts: uint32(len(atts)), namespace: t.Namespace(), socketID: t.ID(),
		args: args, context: ctx,
	}
	if err != nil {
		ff.status = AckTimeout
	}
	c.frame = encodeFrame(c.frame, c.kind, &ff)
	p.invoke(c)
}

// encodeReplies encodes answers as [[socketId, arg...], ...] with the
// answers' attachments in one list, in reply order, each reply's
// placeholders renumbered to index it.
func encodeReplies(rs []socketio.AckReply) ([]byte, [][]byte) {
	var atts [][]byte
	n := 2
	for _, r := range rs {
		n += len(r.SocketID) + len(r.Args) + 8
	}
	buf := make([]byte, 0, n)
	buf = append(buf, '[')
	for i, r := range rs {
		if i > 0 {
			buf = append(buf, ',')
		}
		buf = append(buf, '[')
		buf = sp.AppendString(buf, r.SocketID)
		args := r.Args
		if len(r.Attachments) > 0 {
			args = rebasePlaceholders(args, len(atts))
			atts = append(atts, r.Attachments...)
		}
		if inner := arrayInner(args); len(inner) > 0 {
			buf = append(buf, ',')
			buf = append(buf, inner...)
		}
		buf = append(buf, ']')
	}
	return append(buf, ']'), atts
}

// arrayInner returns the elements of a JSON array without its brackets,
// nil when it has none.
func arrayInner(a []byte) []byte {
	i, j := 0, len(a)
	for i < j && isSpace(a[i]) {
		i++
	}
	for j > i && isSpace(a[j-1]) {
		j--
	}
	if j-i < 2 || a[i] != '[' || a[j-1] != ']' {
		return nil
	}
	inner := a[i+1 : j-1]
	for _, b := range inner {
		if !isSpace(b) {
			return inner
		}
	}
	return nil
}

func hostFetchSockets(ctx context.Context, m api.Module, stack []uint64) {
	c := currentCall(ctx)
	opts, code := selection(m, stack[0], stack[1], stack[2], stack[3])
	if code != 0 {
		ret(stack, code)
		return
	}
	wctx, cancel := c.clusterWait()
	infos, err := c.sock.FetchSockets(wctx, opts)
	cancel()
	if err != nil {
		ret(stack, errCode(c, err))
		return
	}
	// The answer must fit in the guest's memory: encoding stops beyond
	// that, instead of building gigabytes for a namespace of many sockets.
	out, ok := encodeSocketInfos(infos, int(c.v.lim.MemoryPages)*wasmPage)
	if !ok {
		ret(stack, c.limited("the answer would not fit in the plugin's memory (memory_pages)"))
		return
	}
	ret(stack, writeOut(m, stack[4], stack[5], out))
}

// wasmPage is the size of a WebAssembly memory page.
const wasmPage = 64 << 10

// encodeSocketInfos encodes [{"id":…,"rooms":[…],"data":…}, …]; data is
// null when unset, and a JSON string when it is not JSON. It gives up
// (false) once the encoding passes max bytes.
func encodeSocketInfos(infos []socketInfo, max int) ([]byte, bool) {
	buf := make([]byte, 0, min(64*len(infos)+2, max))
	buf = append(buf, '[')
	for i, si := range infos {
		if len(buf) > max {
			return nil, false
		}
		if i > 0 {
			buf = append(buf, ',')
		}
		buf = append(buf, `{"id":`...)
		buf = sp.AppendString(buf, si.ID)
		buf = append(buf, `,"rooms":[`...)
		for j, r := range si.Rooms {
			if j > 0 {
				buf = append(buf, ',')
			}
			buf = sp.AppendString(buf, r)
		}
		buf = append(buf, `],"data":`...)
		switch {
		case len(si.Data) == 0:
			buf = append(buf, "null"...)
		case isJSON(si.Data):
			buf = append(buf, si.Data...)
		default:
			buf = sp.AppendString(buf, string(si.Data))
		}
		buf = append(buf, '}')
	}
	buf = append(buf, ']')
	return buf, len(buf) <= max
}

// roomList reads a list of rooms to join or leave: non-empty names.
func roomList(m api.Module, ptr, n uint64) ([]string, int32) {
	lb, ok := view(m, ptr, n)
	if !ok {
		return nil, ErrMemory
	}
	rooms, code := decodeList(lb)
	if code != 0 {
		return nil, code
	}
	for _, r := range rooms {
		if r == "" {
			return nil, ErrInvalid
		}
	}
	return rooms, 0
}

func roomOp(ctx context.Context, m api.Module, stack []uint64, join bool) {
	c := currentCall(ctx)
	opts, code := selection(m, stack[0], stack[1], stack[2], stack[3])
	var rooms []string
	if code == 0 {
		rooms, code = roomList(m, stack[4], stack[5])
	}
	if code != 0 {
		ret(stack, code)
		return
	}
	if join {
		code = errCode(c, c.sock.SocketsJoin(opts, rooms))
	} else {
		c.sock.SocketsLeave(opts, rooms)
	}
	ret(stack, code)
}

func hostSocketsJoin(ctx context.Context, m api.Module, stack []uint64) {
	roomOp(ctx, m, stack, true)
}

func hostSocketsLeave(ctx context.Context, m api.Module, stack []uint64) {
	roomOp(ctx, m, stack, false)
}

func hostDisconnectSockets(ctx context.Context, m api.Module, stack []uint64) {
	c := currentCall(ctx)
	opts, code := selection(m, stack[0], stack[1], stack[2], stack[3])
	if code == 0 {
		code = c.deferOp()
	}
	if code != 0 {
		ret(stack, code)
		return
	}
	c.sock.DisconnectSockets(opts, uint32(stack[4]) != 0 && c.mayCloseSession(abi.DisconnectSockets))
	ret(stack, 0)
}
