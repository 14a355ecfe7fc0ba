package plugin

import (
	"bytes"
	"context"
	"encoding/json"
	"net"
	"strings"
	"time"

	"github.com/tetratelabs/wazero/api"

	"github.com/sockwasm/sockwasm/host/socketio"
	sp "github.com/sockwasm/sockwasm/protocol/socketio"
)

// socketExt is the part of target behind the handshake, socket data,
// broadcast with acks and the server-side room operations.
type socketExt interface {
	// Handshake returns the handshake as the JSON object of sdk/ABI.md.
	Handshake() []byte
	Data() []byte
	SetData(b []byte)
	// BroadcastWithAck runs cb serialized with the socket's calls.
	BroadcastWithAck(opts socketio.BroadcastOptions, name string, args []byte, atts [][]byte, timeout time.Duration, cb func([]socketio.AckReply, error)) error
	FetchSockets(opts socketio.BroadcastOptions) ([]socketio.SocketInfo, error)
	SocketsJoin(opts socketio.BroadcastOptions, rooms []string)
	SocketsLeave(opts socketio.BroadcastOptions, rooms []string)
	// DisconnectSockets takes effect after the current call.
	DisconnectSockets(opts socketio.BroadcastOptions, closeSession bool)
}

// handshakeJSON is the JSON shape of the handshake host function, close to
// the reference server's socket.handshake.
type handshakeJSON struct {
	Headers map[string]string `json:"headers"`
	Query   map[string]any    `json:"query"`
	Address string            `json:"address"`
	Issued  int64             `json:"issued"`
	Secure  bool              `json:"secure"`
	XDomain bool              `json:"xdomain"`
	URL     string            `json:"url"`
	Auth    json.RawMessage   `json:"auth"`
}

func (t socketTarget) Handshake() []byte {
	hs := t.s.Handshake()
	out := handshakeJSON{Headers: map[string]string{}, Query: map[string]any{}, Auth: t.s.Auth()}
	if hs != nil {
		for k, v := range hs.Header {
			out.Headers[strings.ToLower(k)] = strings.Join(v, ", ")
		}
		for k, v := range hs.Query {
			if len(v) == 1 {
				out.Query[k] = v[0]
			} else {
				out.Query[k] = v
			}
		}
		out.Address = hs.RemoteAddr
		if host, _, err := net.SplitHostPort(hs.RemoteAddr); err == nil {
			out.Address = host
		}
		out.Issued = hs.Time.UnixMilli()
		out.Secure = hs.Secure
		out.XDomain = hs.Header.Get("Origin") != ""
		out.URL = hs.URL
	}
	if len(out.Auth) == 0 {
		out.Auth = json.RawMessage("{}")
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(&out); err != nil { // auth is valid JSON (checked by the decoder)
		return []byte("{}")
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n"))
}

func (t socketTarget) Data() []byte     { return t.s.Data() }
func (t socketTarget) SetData(b []byte) { t.s.SetData(b) }
func (t socketTarget) BroadcastWithAck(opts socketio.BroadcastOptions, name string, args []byte, atts [][]byte, timeout time.Duration, cb func([]socketio.AckReply, error)) error {
	return t.s.BroadcastWithAck(opts, name, args, atts, timeout, cb)
}
func (t socketTarget) FetchSockets(opts socketio.BroadcastOptions) ([]socketio.SocketInfo, error) {
	return t.s.Namespace().FetchSockets(context.Background(), opts)
}
func (t socketTarget) SocketsJoin(opts socketio.BroadcastOptions, rooms []string) {
	t.s.Namespace().SocketsJoin(opts, rooms...)
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

// maxSocketData is the socket data bound of the version making the call.
func maxSocketData(ctx context.Context) int {
	if inst, _ := ctx.Value(instKey{}).(*instance); inst != nil && inst.v != nil && inst.v.settings.MaxSocketData > 0 {
		return inst.v.settings.MaxSocketData
	}
	return DefaultMaxSocketData
}

// observing reports whether the call kind may only observe (event
// middleware): sending, acking, joining and the room operations are
// ERR_NOT_ALLOWED there.
func observing(c *call) bool { return c.kind == KindEventMiddleware }

func hostHandshake(ctx context.Context, m api.Module, stack []uint64) {
	c := socketCall(ctx)
	if c == nil {
		ret(stack, ErrNotAllowed)
		return
	}
	ret(stack, writeOut(m, stack[0], stack[1], c.sock.Handshake()))
}

func hostSocketData(ctx context.Context, m api.Module, stack []uint64) {
	c := socketCall(ctx)
	if c == nil {
		ret(stack, ErrNotAllowed)
		return
	}
	ret(stack, writeOut(m, stack[0], stack[1], c.sock.Data()))
}

func hostSetSocketData(ctx context.Context, m api.Module, stack []uint64) {
	c := socketCall(ctx)
	if c == nil {
		ret(stack, ErrNotAllowed)
		return
	}
	if int64(uint32(stack[1])) > int64(maxSocketData(ctx)) {
		ret(stack, ErrLimit)
		return
	}
	b, ok := view(m, stack[0], stack[1])
	if !ok {
		ret(stack, ErrMemory)
		return
	}
	if len(b) > 0 && !json.Valid(b) {
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

func hostBroadcastWithAck(ctx context.Context, m api.Module, stack []uint64) {
	c := socketCall(ctx)
	if c == nil || c.kind == KindMiddleware || observing(c) {
		ret(stack, ErrNotAllowed)
		return
	}
	opts, name, args, atts, code := broadcastParams(c, m, stack, c.sock.ID())
	if code != 0 {
		ret(stack, code)
		return
	}
	ms := uint32(stack[11])
	if ms == 0 || ms > maxAckTimeout {
		ret(stack, ErrInvalid)
		return
	}
	actx, ok := copyIn(m, stack[12], stack[13])
	if !ok {
		ret(stack, ErrMemory)
		return
	}
	p, t := c.p, c.sock
	// The socketio layer runs the callback after this call has returned,
	// serialized with the socket's other calls.
	err := t.BroadcastWithAck(opts, name, args, atts, time.Duration(ms)*time.Millisecond, func(rs []socketio.AckReply, err error) {
		p.broadcastAckResponse(t, actx, rs, err)
	})
	ret(stack, errCode(c, err))
}

// broadcastAckResponse makes the ACK_RESPONSE call of a broadcast_with_ack.
func (p *Plugin) broadcastAckResponse(t target, ctx []byte, rs []socketio.AckReply, err error) {
	c := p.newCall(KindAckResponse)
	defer freeCall(c)
	c.sock = t
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
	c := socketCall(ctx)
	if c == nil {
		ret(stack, ErrNotAllowed)
		return
	}
	opts, code := selection(m, stack[0], stack[1], stack[2], stack[3])
	if code != 0 {
		ret(stack, code)
		return
	}
	infos, err := c.sock.FetchSockets(opts)
	if err != nil {
		ret(stack, errCode(c, err))
		return
	}
	ret(stack, writeOut(m, stack[4], stack[5], encodeSocketInfos(infos)))
}

// encodeSocketInfos encodes [{"id":…,"rooms":[…],"data":…}, …]; data is
// null when unset, and a JSON string when it is not JSON.
func encodeSocketInfos(infos []socketio.SocketInfo) []byte {
	buf := make([]byte, 0, 64*len(infos)+2)
	buf = append(buf, '[')
	for i, si := range infos {
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
		case json.Valid(si.Data):
			buf = append(buf, si.Data...)
		default:
			buf = sp.AppendString(buf, string(si.Data))
		}
		buf = append(buf, '}')
	}
	return append(buf, ']')
}

func roomOp(ctx context.Context, m api.Module, stack []uint64, join bool) {
	c := socketCall(ctx)
	if c == nil || observing(c) {
		ret(stack, ErrNotAllowed)
		return
	}
	opts, code := selection(m, stack[0], stack[1], stack[2], stack[3])
	if code != 0 {
		ret(stack, code)
		return
	}
	lb, ok := view(m, stack[4], stack[5])
	if !ok {
		ret(stack, ErrMemory)
		return
	}
	rooms, code := decodeList(lb)
	if code != 0 {
		ret(stack, code)
		return
	}
	for _, r := range rooms {
		if r == "" {
			ret(stack, ErrInvalid)
			return
		}
	}
	if join {
		c.sock.SocketsJoin(opts, rooms)
	} else {
		c.sock.SocketsLeave(opts, rooms)
	}
	ret(stack, 0)
}

func hostSocketsJoin(ctx context.Context, m api.Module, stack []uint64) {
	roomOp(ctx, m, stack, true)
}

func hostSocketsLeave(ctx context.Context, m api.Module, stack []uint64) {
	roomOp(ctx, m, stack, false)
}

func hostDisconnectSockets(ctx context.Context, m api.Module, stack []uint64) {
	c := socketCall(ctx)
	if c == nil || observing(c) {
		ret(stack, ErrNotAllowed)
		return
	}
	opts, code := selection(m, stack[0], stack[1], stack[2], stack[3])
	if code != 0 {
		ret(stack, code)
		return
	}
	c.sock.DisconnectSockets(opts, uint32(stack[4]) != 0)
	ret(stack, 0)
}
