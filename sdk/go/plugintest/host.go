package plugintest

import (
	"encoding/binary"
	"encoding/json"
	"math"
	"slices"
	"strconv"
	"time"

	"github.com/sockwasm/sockwasm/sdk/abi"
	sockwasm "github.com/sockwasm/sockwasm/sdk/go"
	"github.com/sockwasm/sockwasm/sdk/go/internal/hostcall"
)

// host is the Harness seen by the SDK: the hostcall.Host methods.
type host Harness

var _ hostcall.Host = (*host)(nil)

const (
	errMemory       = int32(sockwasm.ErrMemory)
	errInvalid      = int32(sockwasm.ErrInvalid)
	errNotFound     = int32(sockwasm.ErrNotFound)
	errNotAllowed   = int32(sockwasm.ErrNotAllowed)
	errDisconnected = int32(sockwasm.ErrDisconnected)
	errLimit        = int32(sockwasm.ErrLimit)
	errUnknownAck   = int32(sockwasm.ErrUnknownAck)
)

// allowed returns 0 when host function fn may run now, else its error
// code (recorded): the host's own rule, the permission table of package
// sdk/abi (call kind × function), then whether a socket the function acts
// for is still connected.
func (h *host) allowed(fn string) int32 {
	c := h.cur
	if c == nil {
		return errNotAllowed
	}
	f, ok := abi.FuncByName(fn)
	if !ok {
		return h.fail(fn, errNotAllowed)
	}
	k := abi.Kind(kindCodes[c.f.kind])
	rc := int32(abi.PermitCall(k, f, c.sock != nil))
	if rc == 0 && c.sock != nil && k != abi.Middleware && f.NeedsLiveSocket() && !c.sock.connected {
		rc = errDisconnected
	}
	return h.fail(fn, rc)
}

// fail records a failed host call and returns rc.
func (h *host) fail(fn string, rc int32) int32 {
	if rc < 0 && h.cur != nil {
		h.cur.call.Errors = append(h.cur.call.Errors, HostError{Func: fn, Err: sockwasm.Error(rc)})
	}
	return rc
}

func (h *host) ReadInput() []byte {
	if h.cur == nil {
		return nil
	}
	return h.cur.in
}

func (h *host) ReadAttachment(i uint32) ([]byte, int32) {
	if h.cur == nil {
		return nil, errNotAllowed
	}
	if int(i) >= len(h.cur.atts) {
		return nil, h.fail("read_attachment", errNotFound)
	}
	return h.cur.atts[i], 0
}

func (h *host) Get(g hostcall.Getter) ([]byte, int32) {
	if h.cur == nil {
		return nil, errNotAllowed
	}
	if g == hostcall.Config {
		return (*Harness)(h).config, 0
	}
	s := h.cur.sock
	if s == nil {
		if g == hostcall.SocketID || g == hostcall.Transport {
			return nil, 0
		}
		return nil, h.fail("socket getter", errNotAllowed)
	}
	switch g {
	case hostcall.SocketID:
		return []byte(s.id), 0
	case hostcall.Namespace:
		return []byte(s.nsp), 0
	case hostcall.Auth:
		return []byte(s.auth), 0
	case hostcall.Transport:
		return []byte(s.transport), 0
	case hostcall.Rooms:
		return appendList(nil, s.Rooms()), 0
	case hostcall.Handshake:
		return s.handshake, 0
	case hostcall.SocketData:
		return []byte(s.data), 0
	}
	return nil, errInvalid
}

// attachments decodes an attachment list, resolving references.
func (h *host) attachments(fn string, b []byte) ([][]byte, int32) {
	if len(b) == 0 {
		return nil, 0
	}
	if len(b) < 4 {
		return nil, h.fail(fn, errInvalid)
	}
	n := binary.LittleEndian.Uint32(b)
	if n > abi.MaxAttachments {
		return nil, h.fail(fn, errLimit)
	}
	b = b[4:]
	out := make([][]byte, 0, n)
	for range n {
		if len(b) < 4 {
			return nil, h.fail(fn, errInvalid)
		}
		w := binary.LittleEndian.Uint32(b)
		b = b[4:]
		if w&0x80000000 != 0 {
			i := int(w &^ 0x80000000)
			if i >= len(h.cur.atts) {
				return nil, h.fail(fn, errNotFound)
			}
			out = append(out, h.cur.atts[i])
			continue
		}
		if uint64(w) > uint64(len(b)) {
			return nil, h.fail(fn, errMemory)
		}
		out = append(out, append([]byte(nil), b[:w]...))
		b = b[w:]
	}
	return out, 0
}

// message validates an event and decodes its attachments.
func (h *host) message(fn string, name, args, atts []byte) ([][]byte, int32) {
	if len(name) == 0 || !isArray(string(args)) {
		return nil, h.fail(fn, errInvalid)
	}
	return h.attachments(fn, atts)
}

func (h *host) Ack(id uint64, args, atts []byte) int32 {
	if rc := h.allowed("ack"); rc < 0 {
		return rc
	}
	if !isArray(string(args)) {
		return h.fail("ack", errInvalid)
	}
	a, rc := h.attachments("ack", atts)
	if rc < 0 {
		return rc
	}
	s := h.cur.sock
	if !s.pending[id] {
		return h.fail("ack", errUnknownAck)
	}
	delete(s.pending, id)
	ack := Ack{Socket: s.id, ID: id, Args: string(args), Attachments: a}
	h.cur.call.Acks = append(h.cur.call.Acks, ack)
	s.acks = append(s.acks, ack)
	return 0
}

func (h *host) send(fn string, e Emit, name, args, atts []byte) int32 {
	a, rc := h.message(fn, name, args, atts)
	if rc < 0 {
		return rc
	}
	e.Name, e.Args, e.Attachments = string(name), string(args), a
	if h.cur.sock != nil {
		e.From = h.cur.sock.id
	}
	if e.Namespace != "" {
		for _, s := range (*Harness)(h).selectedIn(e.Namespace, e.Rooms, e.Except) {
			e.Receivers = append(e.Receivers, s.id)
		}
	} else if e.Broadcast {
		for _, s := range (*Harness)(h).selected(e.Rooms, e.Except) {
			e.Receivers = append(e.Receivers, s.id)
		}
	} else {
		e.Receivers = []string{e.From}
	}
	h.cur.call.Emits = append(h.cur.call.Emits, e)
	for _, id := range e.Receivers {
		if s := (*Harness)(h).byID(id); s != nil {
			s.received = append(s.received, e)
		}
	}
	return 0
}

func (h *host) Emit(name, args, atts []byte) int32 {
	if rc := h.allowed("emit"); rc < 0 {
		return rc
	}
	return h.send("emit", Emit{}, name, args, atts)
}

func (h *host) EmitWithAck(name, args, atts []byte, timeoutMs uint32, ctx []byte) int32 {
	if rc := h.allowed("emit_with_ack"); rc < 0 {
		return rc
	}
	if timeoutMs == 0 || timeoutMs > 600000 {
		return h.fail("emit_with_ack", errInvalid)
	}
	e := Emit{WithAck: true, Timeout: time.Duration(timeoutMs) * time.Millisecond, Context: ctx}
	return h.send("emit_with_ack", e, name, args, atts)
}

// selection builds the Emit of a broadcast's selection.
func (h *host) selection(fn string, rooms, except []byte, flags uint32) (Emit, int32) {
	r, ok1 := parseList(rooms)
	x, ok2 := parseList(except)
	if !ok1 || !ok2 {
		return Emit{}, h.fail(fn, errInvalid)
	}
	e := Emit{Broadcast: true, Rooms: r, Except: x, ExceptSelf: flags&1 != 0, Volatile: flags&2 != 0, Compress: flags&4 != 0}
	if e.ExceptSelf && h.cur.sock != nil {
		e.Except = append(e.Except, h.cur.sock.id)
	}
	return e, 0
}

func (h *host) Broadcast(rooms, except []byte, flags uint32, name, args, atts []byte) int32 {
	if rc := h.allowed("broadcast"); rc < 0 {
		return rc
	}
	e, rc := h.selection("broadcast", rooms, except, flags)
	if rc < 0 {
		return rc
	}
	return h.send("broadcast", e, name, args, atts)
}

func (h *host) BroadcastWithAck(rooms, except []byte, flags uint32, name, args, atts []byte, timeoutMs uint32, ctx []byte) int32 {
	if rc := h.allowed("broadcast_with_ack"); rc < 0 {
		return rc
	}
	if timeoutMs == 0 || timeoutMs > 600000 {
		return h.fail("broadcast_with_ack", errInvalid)
	}
	e, rc := h.selection("broadcast_with_ack", rooms, except, flags)
	if rc < 0 {
		return rc
	}
	e.WithAck, e.Timeout, e.Context = true, time.Duration(timeoutMs)*time.Millisecond, ctx
	return h.send("broadcast_with_ack", e, name, args, atts)
}

// NsBroadcast is ns_broadcast (sockwasm.Of): allowed in every call kind
// but the middleware ones. The harness knows every namespace whose name
// starts with "/" (others are ERR_NOT_FOUND); the receivers are its
// connected sockets of that namespace.
func (h *host) NsBroadcast(nsp, rooms, except []byte, flags uint32, name, args, atts []byte) int32 {
	const fn = "ns_broadcast"
	if rc := h.allowed(fn); rc < 0 {
		return rc
	}
	if len(nsp) == 0 {
		return h.fail(fn, errInvalid)
	}
	e, rc := h.selection(fn, rooms, except, flags&^1) // no sender to except
	if rc < 0 {
		return rc
	}
	if _, rc := h.message(fn, name, args, atts); rc < 0 {
		return rc
	}
	if nsp[0] != '/' {
		return h.fail(fn, errNotFound)
	}
	e.Namespace = string(nsp)
	return h.send(fn, e, name, args, atts)
}

// ServerEmit is server_emit (NamespaceBroadcast.ServerSideEmit): recorded
// as an Emit with Server set; the harness is a single node, so nothing is
// delivered, and answers come only from Harness.ServerAnswers.
func (h *host) ServerEmit(nsp, name, args []byte, timeoutMs uint32, ctx []byte) int32 {
	const fn = "server_emit"
	if rc := h.allowed(fn); rc < 0 {
		return rc
	}
	if len(nsp) == 0 || len(name) == 0 || !isArray(string(args)) || timeoutMs > 600_000 {
		return h.fail(fn, errInvalid)
	}
	e := Emit{Server: true, Namespace: string(nsp), Name: string(name), Args: string(args)}
	if timeoutMs > 0 {
		e.WithAck, e.Timeout, e.Context = true, time.Duration(timeoutMs)*time.Millisecond, ctx
	}
	if h.cur.sock != nil {
		e.From = h.cur.sock.id
	}
	h.cur.call.Emits = append(h.cur.call.Emits, e)
	return 0
}

// ServerAck is server_ack (ServerEvent.Ack): the first element of args
// becomes the call's ServerAnswer.
func (h *host) ServerAck(id uint64, args []byte) int32 {
	const fn = "server_ack"
	if rc := h.allowed(fn); rc < 0 {
		return rc
	}
	c := h.cur
	if !c.f.hasAck || id != c.f.ackID || c.call.Answered {
		return h.fail(fn, errUnknownAck)
	}
	var list []json.RawMessage
	if err := json.Unmarshal(args, &list); err != nil {
		return h.fail(fn, errInvalid)
	}
	c.call.Answered = true
	if len(list) > 0 {
		c.call.ServerAnswer = string(list[0])
	}
	return 0
}

// selected returns the connected sockets of the current call's namespace
// in any of rooms (all when none) and in none of except.
func (hh *Harness) selected(rooms, except []string) []*Socket {
	nsp := ""
	if hh.cur.sock != nil {
		nsp = hh.cur.sock.nsp
	}
	return hh.selectedIn(nsp, rooms, except)
}

// selectedIn is selected for namespace nsp.
func (hh *Harness) selectedIn(nsp string, rooms, except []string) []*Socket {
	var out []*Socket
	for _, s := range hh.sockets {
		if !s.connected || s.nsp != nsp {
			continue
		}
		if len(rooms) > 0 && !slices.ContainsFunc(rooms, s.In) {
			continue
		}
		if slices.ContainsFunc(except, s.In) {
			continue
		}
		out = append(out, s)
	}
	return out
}

func (h *host) Join(room []byte) int32 {
	if rc := h.allowed("join"); rc < 0 {
		return rc
	}
	if len(room) == 0 {
		return h.fail("join", errInvalid)
	}
	h.cur.sock.rooms[string(room)] = true
	h.cur.call.Joins = append(h.cur.call.Joins, string(room))
	return 0
}

func (h *host) Leave(room []byte) int32 {
	if rc := h.allowed("leave"); rc < 0 {
		return rc
	}
	if len(room) == 0 {
		return h.fail("leave", errInvalid)
	}
	delete(h.cur.sock.rooms, string(room))
	h.cur.call.Leaves = append(h.cur.call.Leaves, string(room))
	return 0
}

func (h *host) Disconnect(closeSession uint32) int32 {
	if rc := h.allowed("disconnect"); rc < 0 {
		return rc
	}
	h.cur.call.Disconnect = true
	h.cur.call.CloseSession = h.cur.call.CloseSession || closeSession == 1
	return 0
}

func (h *host) RoomSize(room []byte) int32 {
	if rc := h.allowed("room_size"); rc < 0 {
		return rc
	}
	return int32(len((*Harness)(h).selected([]string{string(room)}, nil)))
}

func (h *host) ClientCount() int32 {
	if rc := h.allowed("client_count"); rc < 0 {
		return rc
	}
	return int32(len((*Harness)(h).selected(nil, nil)))
}

func (h *host) Reject(msg, data []byte) int32 {
	if rc := h.allowed("reject"); rc < 0 {
		return rc
	}
	if len(data) > 0 && !json.Valid(data) {
		return h.fail("reject", errInvalid)
	}
	h.cur.call.ConnectError = &sockwasm.ConnectError{Message: string(msg), Data: data}
	return 0
}

func (h *host) RejectEvent(msg, data []byte) int32 {
	if rc := h.allowed("reject_event"); rc < 0 {
		return rc
	}
	if len(data) > 0 && !json.Valid(data) {
		return h.fail("reject_event", errInvalid)
	}
	h.cur.call.Rejection = &sockwasm.Rejection{Message: string(msg), Data: data}
	return 0
}

func (h *host) EngineSend([]byte, uint32) int32 { return h.fail("engine_send", errNotAllowed) }

func (h *host) Log(level uint32, msg []byte) {
	if h.cur == nil {
		return
	}
	l := Log{Level: sockwasm.Level(level), Message: string(msg)}
	if h.cur.sock != nil {
		l.Socket = h.cur.sock.id
	}
	h.cur.call.Logs = append(h.cur.call.Logs, l)
}

func (h *host) SetSocketData(data []byte) int32 {
	if rc := h.allowed("set_socket_data"); rc < 0 {
		return rc
	}
	if len(data) > 0 && !json.Valid(data) {
		return h.fail("set_socket_data", errInvalid)
	}
	if len(data) > 65536 {
		return h.fail("set_socket_data", errLimit)
	}
	h.cur.sock.data = string(data)
	h.cur.call.SocketData = append(h.cur.call.SocketData, string(data))
	return 0
}

func (h *host) FetchSockets(rooms, except []byte) ([]byte, int32) {
	if rc := h.allowed("fetch_sockets"); rc < 0 {
		return nil, rc
	}
	r, ok1 := parseList(rooms)
	x, ok2 := parseList(except)
	if !ok1 || !ok2 {
		return nil, h.fail("fetch_sockets", errInvalid)
	}
	type remote struct {
		ID    string          `json:"id"`
		Rooms []string        `json:"rooms"`
		Data  json.RawMessage `json:"data"`
	}
	list := []remote{}
	for _, s := range (*Harness)(h).selected(r, x) {
		d := json.RawMessage(s.data)
		if s.data == "" {
			d = json.RawMessage("null")
		}
		list = append(list, remote{ID: s.id, Rooms: s.Rooms(), Data: d})
	}
	b, _ := json.Marshal(list)
	return b, 0
}

// roomOp runs a server-side room operation.
func (h *host) roomOp(fn, op string, rooms, except, targets []byte, closeSession bool) int32 {
	if rc := h.allowed(fn); rc < 0 {
		return rc
	}
	r, ok1 := parseList(rooms)
	x, ok2 := parseList(except)
	t, ok3 := parseList(targets)
	if !ok1 || !ok2 || !ok3 {
		return h.fail(fn, errInvalid)
	}
	ro := RoomOp{Op: op, Rooms: r, Except: x, Targets: t, CloseSession: closeSession}
	for _, s := range (*Harness)(h).selected(r, x) {
		ro.Sockets = append(ro.Sockets, s.id)
		for _, room := range t {
			if op == "join" {
				s.rooms[room] = true
			} else {
				delete(s.rooms, room)
			}
		}
		if op == "disconnect" {
			s.connected = false
		}
	}
	h.cur.call.RoomOps = append(h.cur.call.RoomOps, ro)
	return 0
}

func (h *host) SocketsJoin(rooms, except, join []byte) int32 {
	return h.roomOp("sockets_join", "join", rooms, except, join, false)
}

func (h *host) SocketsLeave(rooms, except, leave []byte) int32 {
	return h.roomOp("sockets_leave", "leave", rooms, except, leave, false)
}

func (h *host) DisconnectSockets(rooms, except []byte, closeSession uint32) int32 {
	return h.roomOp("disconnect_sockets", "disconnect", rooms, except, nil, closeSession == 1)
}

// kvOp records op and returns its result.
func (h *host) kvOp(fn string, op KVOp) int32 {
	h.cur.call.KV = append(h.cur.call.KV, op)
	if op.Result < 0 {
		return h.fail(fn, int32(op.Result))
	}
	return int32(min(op.Result, math.MaxInt32))
}

// kvKey checks a key and the state of the call.
func (h *host) kvKey(fn string, key []byte) int32 {
	if rc := h.allowed(fn); rc < 0 {
		return rc
	}
	switch {
	case len(key) == 0:
		return errInvalid
	case len(key) > 1024:
		return errLimit
	}
	return 0
}

func (hh *Harness) kvLookup(key string) (kvEntry, bool) {
	e, ok := hh.kv[key]
	if ok && !e.expires.IsZero() && !hh.now().Before(e.expires) {
		delete(hh.kv, key)
		return kvEntry{}, false
	}
	return e, ok
}

// expiry converts a ttl in ms; ok is false when it is out of range.
func (hh *Harness) expiry(ttlMs int64) (time.Time, bool) {
	if ttlMs < 0 || ttlMs > 30*24*3600*1000 {
		return time.Time{}, false
	}
	if ttlMs == 0 {
		return time.Time{}, true
	}
	return hh.now().Add(time.Duration(ttlMs) * time.Millisecond), true
}

func (h *host) KVGet(key []byte) ([]byte, int32) {
	op := KVOp{Op: "get", Key: string(key)}
	if rc := h.kvKey("kv_get", key); rc < 0 {
		op.Result = int64(rc)
		return nil, h.kvOp("kv_get", op)
	}
	e, ok := (*Harness)(h).kvLookup(string(key))
	if !ok {
		op.Result = int64(errNotFound)
		return nil, h.kvOp("kv_get", op)
	}
	op.Value, op.Result = string(e.val), int64(len(e.val))
	h.kvOp("kv_get", op)
	return e.val, 0
}

func (h *host) KVSet(key, val []byte, ttlMs int64) int32 {
	op := KVOp{Op: "set", Key: string(key), Value: string(val), TTL: time.Duration(ttlMs) * time.Millisecond}
	if rc := h.kvKey("kv_set", key); rc < 0 {
		op.Result = int64(rc)
		return h.kvOp("kv_set", op)
	}
	exp, ok := (*Harness)(h).expiry(ttlMs)
	switch {
	case !ok:
		op.Result = int64(errInvalid)
	case len(val) > 65536:
		op.Result = int64(errLimit)
	default:
		h.kv[string(key)] = kvEntry{val: val, expires: exp}
	}
	return h.kvOp("kv_set", op)
}

func (h *host) KVDelete(key []byte) int32 {
	op := KVOp{Op: "delete", Key: string(key)}
	if rc := h.kvKey("kv_delete", key); rc < 0 {
		op.Result = int64(rc)
		return h.kvOp("kv_delete", op)
	}
	if _, ok := (*Harness)(h).kvLookup(string(key)); ok {
		delete(h.kv, string(key))
		op.Result = 1
	}
	return h.kvOp("kv_delete", op)
}

func (h *host) KVIncr(key []byte, delta int64) (int64, int32) {
	op := KVOp{Op: "incr", Key: string(key), Delta: delta}
	if rc := h.kvKey("kv_incr", key); rc < 0 {
		op.Result = int64(rc)
		return 0, h.kvOp("kv_incr", op)
	}
	e, _ := (*Harness)(h).kvLookup(string(key))
	var v int64
	if len(e.val) > 0 {
		var err error
		if v, err = strconv.ParseInt(string(e.val), 10, 64); err != nil {
			op.Result = int64(errInvalid)
			return 0, h.kvOp("kv_incr", op)
		}
	}
	if (delta > 0 && v > math.MaxInt64-delta) || (delta < 0 && v < math.MinInt64-delta) {
		op.Result = int64(errInvalid)
		return 0, h.kvOp("kv_incr", op)
	}
	v += delta
	e.val = strconv.AppendInt(nil, v, 10)
	h.kv[string(key)] = e
	op.Value, op.Result = string(e.val), v
	h.kvOp("kv_incr", op)
	return v, 0
}

func (h *host) KVCAS(key, old, val []byte, flags uint32, ttlMs int64) int32 {
	op := KVOp{Op: "cas", Key: string(key), Old: string(old), OldAbsent: flags&1 != 0, Value: string(val),
		TTL: time.Duration(ttlMs) * time.Millisecond}
	if rc := h.kvKey("kv_cas", key); rc < 0 {
		op.Result = int64(rc)
		return h.kvOp("kv_cas", op)
	}
	exp, ok := (*Harness)(h).expiry(ttlMs)
	if !ok {
		op.Result = int64(errInvalid)
		return h.kvOp("kv_cas", op)
	}
	if len(val) > 65536 {
		op.Result = int64(errLimit)
		return h.kvOp("kv_cas", op)
	}
	e, present := (*Harness)(h).kvLookup(string(key))
	match := present && string(e.val) == string(old)
	if flags&1 != 0 {
		match = !present
	}
	if match {
		if flags&2 != 0 {
			delete(h.kv, string(key))
		} else {
			h.kv[string(key)] = kvEntry{val: val, expires: exp}
		}
		op.Result = 1
	}
	return h.kvOp("kv_cas", op)
}

func (h *host) TimerSet(delayMs, repeat uint32, ctx []byte) int32 {
	if rc := h.allowed("timer_set"); rc < 0 {
		return rc
	}
	if delayMs == 0 || (repeat == 1 && delayMs < 10) || delayMs > math.MaxInt32 {
		return h.fail("timer_set", errInvalid)
	}
	if len(h.timers) >= 1000 || len(ctx) > 65536 {
		return h.fail("timer_set", errLimit)
	}
	h.timerID++
	t := Timer{ID: h.timerID, Delay: time.Duration(delayMs) * time.Millisecond, Repeat: repeat == 1, Context: ctx}
	h.timers[t.ID] = t
	h.cur.call.TimersSet = append(h.cur.call.TimersSet, t)
	return int32(t.ID)
}

func (h *host) TimerCancel(id uint32) int32 {
	if rc := h.allowed("timer_cancel"); rc < 0 {
		return rc
	}
	if _, ok := h.timers[sockwasm.TimerID(id)]; !ok {
		return h.fail("timer_cancel", errNotFound)
	}
	delete(h.timers, sockwasm.TimerID(id))
	h.cur.call.TimersCanceled = append(h.cur.call.TimersCanceled, sockwasm.TimerID(id))
	return 0
}
