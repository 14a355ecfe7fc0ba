package plugin

import (
	"context"
	"encoding/binary"
	"errors"
	"time"
	"unicode/utf8"

	"github.com/rs/zerolog"
	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"

	"github.com/sockwasm/sockwasm/host/engineio"
	"github.com/sockwasm/sockwasm/host/internal/logsafe"
	"github.com/sockwasm/sockwasm/host/socketio"
	sp "github.com/sockwasm/sockwasm/protocol/socketio"
	"github.com/sockwasm/sockwasm/sdk/abi"
)

const (
	i32 = api.ValueTypeI32
	i64 = api.ValueTypeI64
)

type hostSig struct {
	params, results []api.ValueType
	fn              api.GoModuleFunc
}

func rep(n int) []api.ValueType {
	ts := make([]api.ValueType, n)
	for i := range ts {
		ts[i] = i32
	}
	return ts
}

// hostFuncs are the host functions of ABI v1 with their signatures.
var hostFuncs = [abi.NumFuncs]hostSig{
	abi.ReadInput:         {rep(2), rep(1), readInput},
	abi.ReadAttachment:    {rep(3), rep(1), readAttachment},
	abi.Ack:               {[]api.ValueType{i64, i32, i32, i32, i32}, rep(1), hostAck},
	abi.Emit:              {rep(6), rep(1), hostEmit},
	abi.Broadcast:         {rep(11), rep(1), hostBroadcast},
	abi.EmitWithAck:       {rep(9), rep(1), hostEmitWithAck},
	abi.Join:              {rep(2), rep(1), hostJoin},
	abi.Leave:             {rep(2), rep(1), hostLeave},
	abi.DisconnectSocket:  {rep(1), rep(1), hostDisconnect},
	abi.SocketID:          {rep(2), rep(1), getter(func(c *call) []byte { return []byte(c.id()) })},
	abi.Namespace:         {rep(2), rep(1), getter(func(c *call) []byte { return []byte(c.sock.Namespace()) })},
	abi.Auth:              {rep(2), rep(1), getter(func(c *call) []byte { return c.sock.Auth() })},
	abi.Transport:         {rep(2), rep(1), getter(func(c *call) []byte { return []byte(c.transport()) })},
	abi.Rooms:             {rep(2), rep(1), getter(func(c *call) []byte { return encodeList(nil, c.sock.Rooms()) })},
	abi.RoomSize:          {rep(2), rep(1), hostRoomSize},
	abi.ClientCount:       {nil, rep(1), hostClientCount},
	abi.Reject:            {rep(4), rep(1), hostReject},
	abi.EngineSend:        {rep(3), rep(1), hostEngineSend},
	abi.Log:               {rep(3), nil, hostLog},
	abi.Handshake:         {rep(2), rep(1), getter(func(c *call) []byte { return c.sock.Handshake() })},
	abi.SocketData:        {rep(2), rep(1), getter(func(c *call) []byte { return c.sock.Data() })},
	abi.SetSocketData:     {rep(2), rep(1), hostSetSocketData},
	abi.BroadcastWithAck:  {rep(14), rep(1), hostBroadcastWithAck},
	abi.FetchSockets:      {rep(6), rep(1), hostFetchSockets},
	abi.SocketsJoin:       {rep(6), rep(1), hostSocketsJoin},
	abi.SocketsLeave:      {rep(6), rep(1), hostSocketsLeave},
	abi.DisconnectSockets: {rep(5), rep(1), hostDisconnectSockets},
	abi.RejectEvent:       {rep(4), rep(1), hostReject},
	abi.Config:            {rep(2), rep(1), getter(func(c *call) []byte { return c.v.config })},
	abi.KVGet:             {rep(4), rep(1), hostKVGet},
	abi.KVSet:             {[]api.ValueType{i32, i32, i32, i32, i64}, rep(1), hostKVSet},
	abi.KVDelete:          {rep(2), rep(1), hostKVDelete},
	abi.KVIncr:            {[]api.ValueType{i32, i32, i64, i32}, rep(1), hostKVIncr},
	abi.KVCAS:             {[]api.ValueType{i32, i32, i32, i32, i32, i32, i32, i64}, rep(1), hostKVCAS},
	abi.TimerSet:          {rep(4), rep(1), hostTimerSet},
	abi.TimerCancel:       {rep(1), rep(1), hostTimerCancel},
	abi.NsBroadcast:       {rep(13), rep(1), hostNsBroadcast},
	abi.ServerEmit:        {rep(9), rep(1), hostServerEmit},
	abi.AckServerEvent:    {[]api.ValueType{i64, i32, i32}, rep(1), hostServerAck},
	abi.HTTPRequest:       {rep(6), rep(1), hostHTTPRequest},
}

// hostModule builds module sockwasm_v1: every host function behind guard.
func hostModule(rt wazero.Runtime) wazero.HostModuleBuilder {
	b := rt.NewHostModuleBuilder(ImportModule)
	for f, s := range hostFuncs {
		fn := abi.Func(f)
		b.NewFunctionBuilder().WithGoModuleFunction(guard(fn, s.fn, len(s.results) > 0), s.params, s.results).Export(fn.String())
	}
	return b
}

// guard is the one place that decides whether a host function may run:
// the permission table of sdk/abi (call kind × function), then, for
// functions that act for the calling socket, whether it is still there.
// After the function it accounts for a refusal: counted, the first of the
// call logged (rate-limited), the rest summed up when the call ends.
// Inside fn, currentCall is never nil and the call's kind allows fn.
func guard(f abi.Func, fn api.GoModuleFunc, hasResult bool) api.GoModuleFunc {
	return func(ctx context.Context, m api.Module, stack []uint64) {
		c := currentCall(ctx)
		k, sock := abi.NoCall, false
		if c != nil {
			k, sock = c.kind, c.sock != nil
		}
		code := int32(abi.PermitCall(k, f, sock))
		if code == 0 && c != nil && c.sock != nil && c.kind != KindMiddleware && f.NeedsLiveSocket() && !c.sock.Connected() {
			code = ErrDisconnected
		}
		if code == 0 {
			fn(ctx, m, stack)
			if !hasResult {
				return
			}
			if code = int32(uint32(stack[0])); code >= 0 {
				return
			}
		} else if hasResult {
			ret(stack, code)
		}
		if c != nil {
			c.noteRefusal(f, code)
		}
	}
}

// refusal reports whether a result code marks a guest's mistake or a limit
// (as opposed to an answer such as "not found" or "disconnected").
func refusal(code int32) bool {
	switch code {
	case ErrLimit, ErrNotAllowed, ErrInvalid, ErrMemory, ErrFailed, ErrTimeout:
		// ERR_UNAVAILABLE is not: the cluster logs a Redis outage once.
		return true
	}
	return false
}

// noteRefusal accounts for host function f refused with code; c.why, when
// set by f, says which limit or rule refused it.
func (c *call) noteRefusal(f abi.Func, code int32) {
	why := c.why
	c.why = ""
	if !refusal(code) {
		return
	}
	p := c.p
	p.refusals.Add(1)
	if c.firstRefusal {
		c.refused++
		return
	}
	c.firstRefusal = true
	log := &p.log
	if c.v != nil {
		log = &c.v.log
	}
	if !p.warns.allow(p.limits().LogLinesPerSecond) {
		return
	}
	ev := log.Warn().Stringer("kind", c.kind).Str("func", f.String()).Stringer("code", abi.Code(code))
	if c.sock != nil {
		ev = ev.Str("sid", c.sock.ID())
	}
	if why != "" {
		ev = ev.Str("why", logsafe.String(why, 512))
	}
	ev.Msg("host call refused")
}

func (c *call) id() string {
	if c.sock != nil {
		return c.sock.ID()
	}
	if c.eng == nil { // INIT, TIMER
		return ""
	}
	return c.eng.ID()
}

func (c *call) transport() string {
	if c.sock != nil {
		return c.sock.Transport()
	}
	if c.eng == nil { // INIT, TIMER
		return ""
	}
	return c.eng.Transport()
}

// currentCall returns the call running on the instance of ctx, nil
// outside a call (_initialize).
func currentCall(ctx context.Context) *call {
	if inst, _ := ctx.Value(instKey{}).(*instance); inst != nil {
		return inst.cur
	}
	return nil
}

func ret(stack []uint64, v int32) { stack[0] = uint64(uint32(v)) }

// limited sets the reason of an ERR_LIMIT result and returns the code.
func (c *call) limited(why string) int32 {
	c.why = why
	return ErrLimit
}

// spend takes one send from the call's budget (MaxSendsPerCall).
func (c *call) spend() int32 {
	if c.sends >= c.v.lim.MaxSendsPerCall {
		return c.limited("more sends in one call than max_sends_per_call")
	}
	c.sends++
	return 0
}

// defer_ takes one deferred operation from the call's budget
// (MaxDeferredPerCall).
func (c *call) deferOp() int32 {
	if c.deferred >= c.v.lim.MaxDeferredPerCall {
		return c.limited("more deferred operations in one call than max_deferred_per_call")
	}
	c.deferred++
	return 0
}

// view returns guest memory [ptr, ptr+n) without copying.
func view(m api.Module, ptr, n uint64) ([]byte, bool) {
	return m.Memory().Read(uint32(ptr), uint32(n))
}

// copyIn returns a copy of guest memory [ptr, ptr+n).
func copyIn(m api.Module, ptr, n uint64) ([]byte, bool) {
	b, ok := view(m, ptr, n)
	if !ok {
		return nil, false
	}
	return append([]byte(nil), b...), true
}

// copyBounded copies guest memory [ptr, ptr+n), refusing more than limit
// bytes with ERR_LIMIT, why naming the limit.
func copyBounded(c *call, m api.Module, ptr, n uint64, limit int, why string) ([]byte, int32) {
	if int64(uint32(n)) > int64(limit) {
		return nil, c.limited(why)
	}
	b, ok := copyIn(m, ptr, n)
	if !ok {
		return nil, ErrMemory
	}
	return b, 0
}

// writeOut copies data to the guest buffer when it fits and returns the
// length of data either way (the guest retries with a larger buffer).
func writeOut(m api.Module, buf, limit uint64, data []byte) int32 {
	if uint32(len(data)) <= uint32(limit) && len(data) > 0 {
		if !m.Memory().Write(uint32(buf), data) {
			return ErrMemory
		}
	}
	return int32(len(data))
}

func readInput(ctx context.Context, m api.Module, stack []uint64) {
	ret(stack, writeOut(m, stack[0], stack[1], currentCall(ctx).frame))
}

func readAttachment(ctx context.Context, m api.Module, stack []uint64) {
	c := currentCall(ctx)
	i := uint32(stack[0])
	if int(i) >= len(c.atts) {
		ret(stack, ErrNotFound)
		return
	}
	ret(stack, writeOut(m, stack[1], stack[2], c.atts[i]))
}

// getter makes a host function that copies what f returns to a guest
// buffer.
func getter(f func(c *call) []byte) api.GoModuleFunc {
	return func(ctx context.Context, m api.Module, stack []uint64) {
		ret(stack, writeOut(m, stack[0], stack[1], f(currentCall(ctx))))
	}
}

// encodeList appends the list encoding (u32 count, then u32 length and
// bytes per item) of items to dst.
func encodeList(dst []byte, items []string) []byte {
	dst = binary.LittleEndian.AppendUint32(dst, uint32(len(items)))
	for _, s := range items {
		dst = appendStr(dst, s)
	}
	return dst
}

// decodeList parses the list encoding.
func decodeList(b []byte) ([]string, int32) {
	if len(b) == 0 {
		return nil, 0
	}
	if len(b) < 4 {
		return nil, ErrInvalid
	}
	n := binary.LittleEndian.Uint32(b)
	if n > maxRooms {
		return nil, ErrLimit
	}
	b = b[4:]
	out := make([]string, 0, n)
	for range n {
		if len(b) < 4 {
			return nil, ErrInvalid
		}
		l := binary.LittleEndian.Uint32(b)
		b = b[4:]
		if l > maxNameBytes {
			return nil, ErrLimit
		}
		if uint64(l) > uint64(len(b)) {
			return nil, ErrInvalid
		}
		out = append(out, string(b[:l]))
		b = b[l:]
	}
	if len(b) != 0 {
		return nil, ErrInvalid
	}
	return out, 0
}

// decodeAttachments parses an attachment list; entries with the reference
// bit forward the current call's input attachments.
func decodeAttachments(c *call, b []byte) ([][]byte, int32) {
	if len(b) == 0 {
		return nil, 0
	}
	if len(b) < 4 {
		return nil, ErrInvalid
	}
	n := binary.LittleEndian.Uint32(b)
	if n > maxAttachments {
		return nil, c.limited("more than 10 attachments")
	}
	b = b[4:]
	out := make([][]byte, 0, n)
	for range n {
		if len(b) < 4 {
			return nil, ErrInvalid
		}
		w := binary.LittleEndian.Uint32(b)
		b = b[4:]
		if w&attachmentRef != 0 {
			i := w & attachmentIndexMask
			if int(i) >= len(c.atts) {
				return nil, ErrNotFound
			}
			out = append(out, c.atts[i])
			continue
		}
		if uint64(w) > uint64(len(b)) {
			return nil, ErrInvalid
		}
		out = append(out, append([]byte(nil), b[:w]...))
		b = b[w:]
	}
	if len(b) != 0 {
		return nil, ErrInvalid
	}
	return out, 0
}

// payload reads args and an attachment list from guest memory, copying
// the attachments, and args too when keep is set; otherwise args is a view
// of guest memory, valid until the guest runs again, for a target that
// does not keep it past the host call (Ack).
//
// Args are checked once, by the socketio layer: every target method that
// sends them (Emit, EmitWithAck, Ack, Broadcast, BroadcastWithAck, and
// Namespace.Broadcast of ns_broadcast) refuses args that are not one JSON
// array, its strings valid UTF-8 (JavaScript clients drop a connection
// that delivers invalid UTF-8), within the server's nesting limit, with
// socketio.ErrInvalidArgs (ERR_INVALID), before anything is queued. Here
// only empty args, which those methods take for "no arguments", are
// refused: the ABI wants an array.
func payload(c *call, m api.Module, argsPtr, argsLen, attsPtr, attsLen uint64, keep bool) ([]byte, [][]byte, int32) {
	// Bounded before anything is copied: a message over it would close
	// the receiving client's session anyway (write_queue_bytes).
	if uint64(uint32(argsLen))+uint64(uint32(attsLen)) > uint64(c.v.lim.MaxEmitBytes) {
		return nil, nil, c.limited("args and attachments over max_emit_bytes")
	}
	if uint32(argsLen) == 0 {
		return nil, nil, ErrInvalid
	}
	args, ok := view(m, argsPtr, argsLen)
	if !ok {
		return nil, nil, ErrMemory
	}
	ab, ok := view(m, attsPtr, attsLen)
	if !ok {
		return nil, nil, ErrMemory
	}
	atts, code := decodeAttachments(c, ab)
	if code != 0 {
		return nil, nil, code
	}
	if keep {
		args = append([]byte(nil), args...)
	}
	return args, atts, 0
}

// isJSONArray reports whether b is one JSON array, its strings valid
// UTF-8 (JavaScript clients drop a connection that delivers invalid
// UTF-8).
func isJSONArray(b []byte) bool {
	i := 0
	for i < len(b) && isSpace(b[i]) {
		i++
	}
	return i < len(b) && b[i] == '[' && sp.Validate(b, sp.DefaultMaxDepth) == nil
}

// isJSON reports whether b is one JSON value with valid UTF-8 strings.
func isJSON(b []byte) bool { return sp.Validate(b, sp.DefaultMaxDepth) == nil }

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

// readName reads a non-empty name (event, room, namespace, key) of at
// most maxNameBytes: names are copied and may be logged, so the bound
// comes before the copy.
func readName(m api.Module, ptr, n uint64) (string, int32) {
	if uint32(n) > maxNameBytes {
		return "", ErrLimit
	}
	b, ok := view(m, ptr, n)
	if !ok {
		return "", ErrMemory
	}
	if len(b) == 0 {
		return "", ErrInvalid
	}
	return string(b), 0
}

// errCode maps a socketio error to an ABI result code.
func errCode(c *call, err error) int32 {
	switch {
	case err == nil:
		return 0
	case errors.Is(err, socketio.ErrDisconnected):
		return ErrDisconnected
	case errors.Is(err, socketio.ErrUnknownAck):
		return ErrUnknownAck
	case errors.Is(err, socketio.ErrTooManyAcks):
		return c.limited("too many pending acks for this socket")
	case errors.Is(err, socketio.ErrTooManyRooms):
		return c.limited("the socket is in max_rooms_per_socket rooms")
	case errors.Is(err, socketio.ErrTooManyAttachments):
		return c.limited("more than 10 attachments")
	case errors.Is(err, socketio.ErrInvalidArgs), errors.Is(err, socketio.ErrInvalidRoom):
		return ErrInvalid
	case errors.Is(err, socketio.ErrClusterTimeout), errors.Is(err, context.DeadlineExceeded):
		c.why = "the other nodes did not all answer within half the call's deadline"
		return ErrTimeout
	case errors.Is(err, socketio.ErrClusterUnavailable):
		c.why = "redis cannot be reached"
		return ErrUnavailable
	}
	c.why = err.Error()
	return ErrFailed
}

// hostAck answers a client's ack. It takes nothing from the call's send
// budget: each ack id is answered once, so the client's own requests
// bound it.
func hostAck(ctx context.Context, m api.Module, stack []uint64) {
	c := currentCall(ctx)
	// Ack encodes args before it returns: they need no copy.
	args, atts, code := payload(c, m, stack[1], stack[2], stack[3], stack[4], false)
	if code != 0 {
		ret(stack, code)
		return
	}
	id := stack[0]
	err := c.sock.Ack(id, args, atts)
	if err == nil && c.hasAck && id == c.ackID {
		c.acked = true
	}
	ret(stack, errCode(c, err))
}

// emitParams reads the first six parameters of an emit import: event
// name, args and attachments, and takes a send from the call's budget.
// On failure it has set the result and ok is false.
func emitParams(ctx context.Context, m api.Module, stack []uint64) (c *call, name string, args []byte, atts [][]byte, ok bool) {
	c = currentCall(ctx)
	code := c.spend()
	if code == 0 {
		name, code = readName(m, stack[0], stack[1])
	}
	if code == 0 {
		args, atts, code = payload(c, m, stack[2], stack[3], stack[4], stack[5], true)
	}
	if code != 0 {
		ret(stack, code)
		return nil, "", nil, nil, false
	}
	return c, name, args, atts, true
}

func hostEmit(ctx context.Context, m api.Module, stack []uint64) {
	c, name, args, atts, ok := emitParams(ctx, m, stack)
	if !ok {
		return
	}
	ret(stack, errCode(c, c.sock.Emit(name, args, atts)))
}

func hostBroadcast(ctx context.Context, m api.Module, stack []uint64) {
	c := currentCall(ctx)
	opts, name, args, atts, code := broadcastParams(c, m, stack, c.sock.ID())
	if code != 0 {
		ret(stack, code)
		return
	}
	ret(stack, errCode(c, c.sock.Broadcast(opts, name, args, atts)))
}

// broadcastParams takes a send from the call's budget and reads the
// eleven parameters every broadcast import shares, from p: rooms and
// except (lists), flags, event name, args and attachments. sender, when
// not empty, is excluded under BROADCAST_EXCEPT_SENDER.
func broadcastParams(c *call, m api.Module, p []uint64, sender string) (opts socketio.BroadcastOptions, name string, args []byte, atts [][]byte, code int32) {
	if code = c.spend(); code != 0 {
		return
	}
	if opts, code = selection(m, p[0], p[1], p[2], p[3]); code != 0 {
		return
	}
	flags := uint32(p[4])
	if sender != "" && flags&BroadcastExceptSender != 0 {
		opts.Except = append(opts.Except, sender)
	}
	opts.Volatile = flags&BroadcastVolatile != 0
	if name, code = readName(m, p[5], p[6]); code != 0 {
		return
	}
	args, atts, code = payload(c, m, p[7], p[8], p[9], p[10], true)
	return
}

// ackContext copies the context blob of an emit or broadcast with acks,
// reserving its bytes against the plugin's MaxPendingAckBytes (released by
// the ACK_RESPONSE call, or by release when the emit fails).
func ackContext(c *call, m api.Module, ptr, n uint64) ([]byte, int32) {
	b, code := copyBounded(c, m, ptr, n, c.v.lim.MaxAckContext, "ack context over max_ack_context")
	if code != 0 {
		return nil, code
	}
	if !c.p.reserveAckContext(len(b), c.v.lim.MaxPendingAckBytes) {
		return nil, c.limited("pending ack contexts over max_pending_ack_bytes")
	}
	return b, 0
}

// reserveAckContext counts n more context bytes held by pending acks,
// unless that would pass limit.
func (p *Plugin) reserveAckContext(n, limit int) bool {
	if p.pendingAckBytes.Add(int64(n)) > int64(limit) {
		p.pendingAckBytes.Add(-int64(n))
		return false
	}
	return true
}

func (p *Plugin) releaseAckContext(n int) { p.pendingAckBytes.Add(-int64(n)) }

// ackTimeout reads the timeout of an emit or broadcast with acks.
func ackTimeout(ms uint64) (time.Duration, int32) {
	if uint32(ms) == 0 || uint32(ms) > maxAckTimeout {
		return 0, ErrInvalid
	}
	return time.Duration(uint32(ms)) * time.Millisecond, 0
}

func hostEmitWithAck(ctx context.Context, m api.Module, stack []uint64) {
	c, name, args, atts, ok := emitParams(ctx, m, stack)
	if !ok {
		return
	}
	timeout, code := ackTimeout(stack[6])
	var actx []byte
	if code == 0 {
		actx, code = ackContext(c, m, stack[7], stack[8])
	}
	if code != 0 {
		ret(stack, code)
		return
	}
	p, t := c.p, c.sock
	// The socketio layer runs the callback after this call has returned,
	// serialized with the socket's other calls.
	err := t.EmitWithAck(name, args, atts, timeout, func(r socketio.AckResponse) {
		p.ackResponse(t, actx, r)
	})
	if err != nil {
		p.releaseAckContext(len(actx))
	}
	ret(stack, errCode(c, err))
}

func roomArg(ctx context.Context, m api.Module, stack []uint64) (*call, string, int32) {
	c := currentCall(ctx)
	room, code := readName(m, stack[0], stack[1])
	return c, room, code
}

func hostJoin(ctx context.Context, m api.Module, stack []uint64) {
	c, room, code := roomArg(ctx, m, stack)
	if code == 0 {
		code = errCode(c, c.sock.Join(room))
	}
	ret(stack, code)
}

func hostLeave(ctx context.Context, m api.Module, stack []uint64) {
	c, room, code := roomArg(ctx, m, stack)
	if code == 0 {
		c.sock.Leave(room)
	}
	ret(stack, code)
}

func hostRoomSize(ctx context.Context, m api.Module, stack []uint64) {
	c, room, code := roomArg(ctx, m, stack)
	if code == 0 {
		wctx, cancel := c.clusterWait()
		n, err := c.sock.RoomSize(wctx, room)
		cancel()
		code = countCode(c, n, err)
	}
	ret(stack, code)
}

func hostClientCount(ctx context.Context, m api.Module, stack []uint64) {
	c := currentCall(ctx)
	wctx, cancel := c.clusterWait()
	n, err := c.sock.ClientCount(wctx)
	cancel()
	ret(stack, countCode(c, n, err))
}

// countCode is the result of a count: the count, or the error's code.
func countCode(c *call, n int, err error) int32 {
	if err != nil {
		return errCode(c, err)
	}
	return int32(min(n, 1<<31-1))
}

// clusterWait bounds a host call that waits for the other nodes of a
// cluster: half the call's deadline, so that the guest still has time to
// use the answer (the adapter's request_timeout applies too).
func (c *call) clusterWait() (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), c.v.lim.CallTimeout/2)
}

func hostDisconnect(ctx context.Context, m api.Module, stack []uint64) {
	c := currentCall(ctx)
	if code := c.deferOp(); code != 0 {
		ret(stack, code)
		return
	}
	// The socket leaves after this call has returned (socketTarget), so
	// its DISCONNECT call never nests inside this one.
	c.sock.Disconnect(uint32(stack[0]) != 0 && c.mayCloseSession(abi.DisconnectSocket))
	ret(stack, 0)
}

// hostReject is reject(msg, msg_len, data, data_len) in MIDDLEWARE calls
// and reject_event with the same parameters in EVENT_MIDDLEWARE calls
// (the permission table keeps each to its kind): it records the guest's
// refusal, message and optional JSON data.
func hostReject(ctx context.Context, m api.Module, stack []uint64) {
	c := currentCall(ctx)
	if uint64(uint32(stack[1]))+uint64(uint32(stack[3])) > maxRejectBytes {
		// Still a refusal: a guest that meant to refuse must not accept.
		c.reject = internalError
		ret(stack, c.limited("reject message and data over 64 KiB"))
		return
	}
	msg, ok := copyIn(m, stack[0], stack[1])
	if !ok {
		ret(stack, ErrMemory)
		return
	}
	data, ok := copyIn(m, stack[2], stack[3])
	if !ok {
		ret(stack, ErrMemory)
		return
	}
	if len(data) == 0 {
		data = nil
	} else if !isJSON(data) {
		ret(stack, ErrInvalid)
		return
	}
	c.reject = &socketio.ConnectError{Message: string(msg), Data: data}
	ret(stack, 0)
}

func hostEngineSend(ctx context.Context, m api.Module, stack []uint64) {
	c := currentCall(ctx)
	if code := c.spend(); code != 0 {
		ret(stack, code)
		return
	}
	data, code := copyBounded(c, m, stack[0], stack[1], c.v.lim.MaxEmitBytes, "message over max_emit_bytes")
	if code != 0 {
		ret(stack, code)
		return
	}
	binary := uint32(stack[2]) != 0
	if !binary && !utf8.Valid(data) {
		ret(stack, ErrInvalid)
		return
	}
	if err := c.eng.Send(engineio.Message{Data: data, Binary: binary}); err != nil {
		ret(stack, ErrDisconnected)
		return
	}
	ret(stack, 0)
}

// logLevel maps a level of the log import to zerolog's.
func logLevel(l int32) zerolog.Level {
	switch l {
	case LogDebug:
		return zerolog.DebugLevel
	case LogWarn:
		return zerolog.WarnLevel
	case LogError:
		return zerolog.ErrorLevel
	}
	return zerolog.InfoLevel
}

// hostLog is log(level, msg_ptr, msg_len): one line in the host log,
// through the plugin's log limits.
func hostLog(ctx context.Context, m api.Module, stack []uint64) {
	inst, _ := ctx.Value(instKey{}).(*instance)
	if inst == nil {
		return
	}
	msg, ok := view(m, stack[1], stack[2])
	if !ok {
		return
	}
	inst.v.guestLog(inst.cur, logLevel(int32(uint32(stack[0]))), "", msg)
}
