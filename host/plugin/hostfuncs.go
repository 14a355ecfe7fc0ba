package plugin

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"time"

	"github.com/rs/zerolog"
	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"

	"github.com/sockwasm/sockwasm/host/engineio"
	"github.com/sockwasm/sockwasm/host/socketio"
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

// hostSigs lists the host functions of ABI v1 with their signatures.
var hostSigs = map[string]hostSig{
	fnReadInput:      {rep(2), rep(1), readInput},
	fnReadAttachment: {rep(3), rep(1), readAttachment},
	fnAck:            {[]api.ValueType{i64, i32, i32, i32, i32}, rep(1), hostAck},
	fnEmit:           {rep(6), rep(1), hostEmit},
	fnBroadcast:      {rep(11), rep(1), hostBroadcast},
	fnEmitWithAck:    {rep(9), rep(1), hostEmitWithAck},
	fnJoin:           {rep(2), rep(1), hostJoin},
	fnLeave:          {rep(2), rep(1), hostLeave},
	fnDisconnect:     {rep(1), rep(1), hostDisconnect},
	fnSocketID:       {rep(2), rep(1), getter(func(c *call) []byte { return []byte(c.id()) })},
	fnNamespace:      {rep(2), rep(1), sockGetter(func(t target) []byte { return []byte(t.Namespace()) })},
	fnAuth:           {rep(2), rep(1), sockGetter(func(t target) []byte { return t.Auth() })},
	fnTransport:      {rep(2), rep(1), getter(func(c *call) []byte { return []byte(c.transport()) })},
	fnRooms:          {rep(2), rep(1), sockGetter(func(t target) []byte { return encodeList(nil, t.Rooms()) })},
	fnRoomSize:       {rep(2), rep(1), hostRoomSize},
	fnClientCount:    {nil, rep(1), hostClientCount},
	fnReject:         {rep(4), rep(1), hostReject},
	fnEngineSend:     {rep(3), rep(1), hostEngineSend},
	fnLog:            {rep(3), nil, nil}, // bound per plugin in hostModule
	// Plugin-state additions (caps.go, kv.go, timers.go, state.go).
	fnConfig:      {rep(2), rep(1), hostConfig},
	fnKVGet:       {rep(4), rep(1), hostKVGet},
	fnKVSet:       {[]api.ValueType{i32, i32, i32, i32, i64}, rep(1), hostKVSet},
	fnKVDelete:    {rep(2), rep(1), hostKVDelete},
	fnKVIncr:      {[]api.ValueType{i32, i32, i64, i32}, rep(1), hostKVIncr},
	fnKVCAS:       {[]api.ValueType{i32, i32, i32, i32, i32, i32, i32, i64}, rep(1), hostKVCAS},
	fnTimerSet:    {rep(4), rep(1), hostTimerSet},
	fnTimerCancel: {rep(1), rep(1), hostTimerCancel},
	// Socket-facing additions (hostfuncs_socket.go).
	fnHandshake:         {rep(2), rep(1), hostHandshake},
	fnSocketData:        {rep(2), rep(1), hostSocketData},
	fnSetSocketData:     {rep(2), rep(1), hostSetSocketData},
	fnBroadcastWithAck:  {rep(14), rep(1), hostBroadcastWithAck},
	fnFetchSockets:      {rep(6), rep(1), hostFetchSockets},
	fnSocketsJoin:       {rep(6), rep(1), hostSocketsJoin},
	fnSocketsLeave:      {rep(6), rep(1), hostSocketsLeave},
	fnDisconnectSockets: {rep(5), rep(1), hostDisconnectSockets},
	fnRejectEvent:       {rep(4), rep(1), hostRejectEvent},
	// Namespace broadcast (hostfuncs_nsp.go).
	fnNsBroadcast: {rep(13), rep(1), hostNsBroadcast},
}

func hostModule(rt wazero.Runtime, log *zerolog.Logger) wazero.HostModuleBuilder {
	b := rt.NewHostModuleBuilder(ImportModule)
	for name, s := range hostSigs {
		fn := s.fn
		if name == fnLog {
			fn = hostLog(log)
		}
		b.NewFunctionBuilder().WithGoModuleFunction(fn, s.params, s.results).Export(name)
	}
	return b
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

func currentCall(ctx context.Context) *call {
	if inst, _ := ctx.Value(instKey{}).(*instance); inst != nil {
		return inst.cur
	}
	return nil
}

// socketCall returns the current call when it acts on a socket.
func socketCall(ctx context.Context) *call {
	if c := currentCall(ctx); c != nil && c.sock != nil {
		return c
	}
	return nil
}

func ret(stack []uint64, v int32) { stack[0] = uint64(uint32(v)) }

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
	c := currentCall(ctx)
	if c == nil {
		ret(stack, ErrNotAllowed)
		return
	}
	ret(stack, writeOut(m, stack[0], stack[1], c.frame))
}

func readAttachment(ctx context.Context, m api.Module, stack []uint64) {
	c := currentCall(ctx)
	if c == nil {
		ret(stack, ErrNotAllowed)
		return
	}
	i := uint32(stack[0])
	if int(i) >= len(c.atts) {
		ret(stack, ErrNotFound)
		return
	}
	ret(stack, writeOut(m, stack[1], stack[2], c.atts[i]))
}

func getter(f func(c *call) []byte) api.GoModuleFunc {
	return func(ctx context.Context, m api.Module, stack []uint64) {
		c := currentCall(ctx)
		if c == nil {
			ret(stack, ErrNotAllowed)
			return
		}
		ret(stack, writeOut(m, stack[0], stack[1], f(c)))
	}
}

func sockGetter(f func(t target) []byte) api.GoModuleFunc {
	return func(ctx context.Context, m api.Module, stack []uint64) {
		c := socketCall(ctx)
		if c == nil {
			ret(stack, ErrNotAllowed)
			return
		}
		ret(stack, writeOut(m, stack[0], stack[1], f(c.sock)))
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
		return nil, ErrLimit
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

// payload reads an event name (optional), JSON array args and attachment
// list from guest memory, copying them.
func payload(c *call, m api.Module, argsPtr, argsLen, attsPtr, attsLen uint64) ([]byte, [][]byte, int32) {
	args, ok := copyIn(m, argsPtr, argsLen)
	if !ok {
		return nil, nil, ErrMemory
	}
	if !isJSONArray(args) {
		return nil, nil, ErrInvalid
	}
	ab, ok := view(m, attsPtr, attsLen)
	if !ok {
		return nil, nil, ErrMemory
	}
	atts, code := decodeAttachments(c, ab)
	if code != 0 {
		return nil, nil, code
	}
	return args, atts, 0
}

func isJSONArray(b []byte) bool {
	i := 0
	for i < len(b) && isSpace(b[i]) {
		i++
	}
	return i < len(b) && b[i] == '[' && json.Valid(b)
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

func readName(m api.Module, ptr, n uint64) (string, int32) {
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
		return ErrLimit
	case errors.Is(err, socketio.ErrInvalidArgs):
		return ErrInvalid
	}
	c.p.log.Debug().Err(err).Str("kind", kindName(c.kind)).Msg("host refused guest request")
	return ErrFailed
}

// emitting reports whether the call kind may send to its socket.
func emitting(c *call) int32 {
	switch c.kind {
	case KindMiddleware, KindEventMiddleware:
		return ErrNotAllowed
	case KindDisconnect:
		return ErrDisconnected
	}
	return 0
}

func hostAck(ctx context.Context, m api.Module, stack []uint64) {
	c := socketCall(ctx)
	if c == nil {
		ret(stack, ErrNotAllowed)
		return
	}
	if code := emitting(c); code != 0 {
		ret(stack, code)
		return
	}
	id := stack[0]
	args, atts, code := payload(c, m, stack[1], stack[2], stack[3], stack[4])
	if code != 0 {
		ret(stack, code)
		return
	}
	err := c.sock.Ack(id, args, atts)
	if err == nil && c.hasAck && id == c.ackID {
		c.acked = true
	}
	ret(stack, errCode(c, err))
}

// emitParams checks that an emit import may run in this call and reads its
// first six parameters: event name, args and attachments. On failure it
// has set the result and ok is false.
func emitParams(ctx context.Context, m api.Module, stack []uint64) (c *call, name string, args []byte, atts [][]byte, ok bool) {
	if c = socketCall(ctx); c == nil {
		ret(stack, ErrNotAllowed)
		return nil, "", nil, nil, false
	}
	code := emitting(c)
	if code == 0 {
		name, code = readName(m, stack[0], stack[1])
	}
	if code == 0 {
		args, atts, code = payload(c, m, stack[2], stack[3], stack[4], stack[5])
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
	ret(stack, errCode(c, c.sock.Broadcast(opts, name, args, atts)))
}

// broadcastParams reads the eleven parameters every broadcast import
// shares, from p: rooms and except (lists), flags, event name, args and
// attachments. sender, when not empty, is excluded under
// BROADCAST_EXCEPT_SENDER.
func broadcastParams(c *call, m api.Module, p []uint64, sender string) (opts socketio.BroadcastOptions, name string, args []byte, atts [][]byte, code int32) {
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
	args, atts, code = payload(c, m, p[7], p[8], p[9], p[10])
	return
}

func hostEmitWithAck(ctx context.Context, m api.Module, stack []uint64) {
	c, name, args, atts, ok := emitParams(ctx, m, stack)
	if !ok {
		return
	}
	ms := uint32(stack[6])
	if ms == 0 || ms > maxAckTimeout {
		ret(stack, ErrInvalid)
		return
	}
	actx, ok := copyIn(m, stack[7], stack[8])
	if !ok {
		ret(stack, ErrMemory)
		return
	}
	p, t := c.p, c.sock
	// The socketio layer runs the callback after this call has returned,
	// serialized with the socket's other calls.
	err := t.EmitWithAck(name, args, atts, time.Duration(ms)*time.Millisecond, func(r socketio.AckResponse) {
		p.ackResponse(t, actx, r)
	})
	ret(stack, errCode(c, err))
}

func roomArg(ctx context.Context, m api.Module, stack []uint64) (*call, string, int32) {
	c := socketCall(ctx)
	if c == nil {
		return nil, "", ErrNotAllowed
	}
	room, code := readName(m, stack[0], stack[1])
	return c, room, code
}

func hostJoin(ctx context.Context, m api.Module, stack []uint64) {
	c, room, code := roomArg(ctx, m, stack)
	if code == 0 && c.kind == KindDisconnect {
		code = ErrDisconnected
	}
	if code == 0 && observing(c) {
		code = ErrNotAllowed
	}
	if code == 0 {
		c.sock.Join(room)
	}
	ret(stack, code)
}

func hostLeave(ctx context.Context, m api.Module, stack []uint64) {
	c, room, code := roomArg(ctx, m, stack)
	if code == 0 && c.kind == KindDisconnect {
		code = ErrDisconnected
	}
	if code == 0 && observing(c) {
		code = ErrNotAllowed
	}
	if code == 0 {
		c.sock.Leave(room)
	}
	ret(stack, code)
}

func hostRoomSize(ctx context.Context, m api.Module, stack []uint64) {
	c, room, code := roomArg(ctx, m, stack)
	if code == 0 {
		code = int32(min(c.sock.RoomSize(room), 1<<31-1))
	}
	ret(stack, code)
}

func hostClientCount(ctx context.Context, m api.Module, stack []uint64) {
	c := socketCall(ctx)
	if c == nil {
		ret(stack, ErrNotAllowed)
		return
	}
	ret(stack, int32(min(c.sock.ClientCount(), 1<<31-1)))
}

func hostDisconnect(ctx context.Context, m api.Module, stack []uint64) {
	c := socketCall(ctx)
	switch {
	case c == nil || c.kind == KindMiddleware || observing(c):
		ret(stack, ErrNotAllowed)
	case c.kind == KindDisconnect:
		ret(stack, ErrDisconnected)
	default:
		// The socketio layer defers OnDisconnect (a call into this
		// plugin) until this call has returned.
		c.sock.Disconnect(uint32(stack[0]) != 0)
		ret(stack, 0)
	}
}

// hostReject is reject(msg, msg_len, data, data_len) in MIDDLEWARE calls;
// hostRejectEvent is reject_event with the same parameters in
// EVENT_MIDDLEWARE calls.
var (
	hostReject      = rejectIn(KindMiddleware)
	hostRejectEvent = rejectIn(KindEventMiddleware)
)

// rejectIn returns the host function that records the guest's refusal
// (message and optional JSON data) in calls of kind.
func rejectIn(kind uint32) func(context.Context, api.Module, []uint64) {
	return func(ctx context.Context, m api.Module, stack []uint64) {
		c := socketCall(ctx)
		if c == nil || c.kind != kind {
			ret(stack, ErrNotAllowed)
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
		} else if !json.Valid(data) {
			ret(stack, ErrInvalid)
			return
		}
		c.reject = &socketio.ConnectError{Message: string(msg), Data: data}
		ret(stack, 0)
	}
}

func hostEngineSend(ctx context.Context, m api.Module, stack []uint64) {
	c := currentCall(ctx)
	if c == nil || c.eng == nil {
		ret(stack, ErrNotAllowed)
		return
	}
	if c.kind == KindEngineClose {
		ret(stack, ErrDisconnected)
		return
	}
	data, ok := copyIn(m, stack[0], stack[1])
	if !ok {
		ret(stack, ErrMemory)
		return
	}
	if err := c.eng.Send(engineMessage(data, uint32(stack[2]) != 0)); err != nil {
		ret(stack, ErrDisconnected)
		return
	}
	ret(stack, 0)
}

func hostLog(l *zerolog.Logger) api.GoModuleFunc {
	return func(ctx context.Context, m api.Module, stack []uint64) {
		msg, ok := view(m, stack[1], stack[2])
		if !ok {
			return
		}
		var ev *zerolog.Event
		switch int32(uint32(stack[0])) {
		case LogDebug:
			ev = l.Debug()
		case LogWarn:
			ev = l.Warn()
		case LogError:
			ev = l.Error()
		default:
			ev = l.Info()
		}
		if ev == nil {
			return
		}
		if c := currentCall(ctx); c != nil && (c.sock != nil || c.eng != nil) {
			ev = ev.Str("sid", c.id())
		} else if c != nil {
			ev = ev.Str("kind", kindName(c.kind)) // INIT, TIMER
		}
		ev.Msg(string(msg))
	}
}

func engineMessage(data []byte, binary bool) engineio.Message {
	return engineio.Message{Data: data, Binary: binary}
}
