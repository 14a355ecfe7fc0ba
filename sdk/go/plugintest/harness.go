package plugintest

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sockwasm/sockwasm/sdk/abi"
	sockwasm "github.com/sockwasm/sockwasm/sdk/go"
	"github.com/sockwasm/sockwasm/sdk/go/internal/hostcall"
)

// installed is held by the active Harness: the SDK's handlers and its
// host are process-wide, so one Harness is active at a time in a test
// binary.
var installed sync.Mutex

// Harness is an in-memory host for one test: a namespace of fake sockets,
// the plugin's key-value store, its timers and config. It delivers calls
// to the handlers the plugin registered (in its init functions) and records
// what they did. A Harness is used from one goroutine.
type Harness struct {
	t       testing.TB
	config  []byte
	sockets []*Socket
	nextID  int
	kv      map[string]kvEntry
	timers  map[sockwasm.TimerID]Timer
	timerID sockwasm.TimerID
	calls   []*Call
	cur     *callState
	now     func() time.Time
	http    httpState
}

// httpState is the harness's outbound HTTP: the requests started and not
// answered yet, the allowlist and the concurrency bound.
type httpState struct {
	pending []HTTPRequest
	next    sockwasm.HTTPRequestID
	allow   []abi.HTTPPrefix // nil: every URL allowed
	max     int
}

type kvEntry struct {
	val     []byte
	expires time.Time
}

// New installs a Harness as the SDK's host until the end of the test (or
// benchmark). The plugin's handlers must already be registered, which
// they are when its init functions register them and the test is in the
// plugin's package. One Harness is active at a time in a test binary: New
// fails the test while another one is. In a wasip1 build, where the SDK
// calls the real host, the test is skipped.
func New(t testing.TB) *Harness {
	t.Helper()
	if hostcall.Dispatch == nil {
		t.Skip("plugintest: the SDK has no native host in this build (GOOS=wasip1)")
	}
	if !installed.TryLock() {
		t.Fatal("plugintest: another Harness is active: use one Harness per test (subtests included), and no t.Parallel")
	}
	h := &Harness{t: t, config: []byte("{}"), kv: map[string]kvEntry{}, timers: map[sockwasm.TimerID]Timer{}, now: time.Now,
		http: httpState{max: 16}}
	hostcall.Current = (*host)(h)
	t.Cleanup(func() {
		hostcall.Current = nil
		installed.Unlock()
	})
	return h
}

// SetConfig sets the plugin's config (a JSON object), as returned by
// sockwasm.Config, without an INIT call.
func (h *Harness) SetConfig(config string) {
	h.t.Helper()
	if !json.Valid([]byte(config)) || !strings.HasPrefix(strings.TrimSpace(config), "{") {
		h.t.Fatalf("plugintest: config %q is not a JSON object", config)
	}
	h.config = []byte(config)
}

// Init sets the plugin's config (a JSON object, "" for {}) and makes the
// INIT call. It returns an error when the plugin refused the config (the
// OnInit handler returned one), with the plugin's error log lines.
func (h *Harness) Init(config string) (*Call, error) {
	h.t.Helper()
	if config == "" {
		config = "{}"
	}
	h.SetConfig(config)
	c := h.call(frame{kind: KindInit, args: config}, nil, nil)
	if c.Result != 0 {
		var msgs []string
		for _, l := range c.Logs {
			if l.Level >= sockwasm.LevelError {
				msgs = append(msgs, l.Message)
			}
		}
		return c, fmt.Errorf("plugintest: INIT returned %d: %s", c.Result, strings.Join(msgs, "; "))
	}
	return c, nil
}

// Calls returns every call made so far, in order.
func (h *Harness) Calls() []*Call { return h.calls }

// Emits returns every event the plugin sent so far, in order.
func (h *Harness) Emits() []Emit {
	var out []Emit
	for _, c := range h.calls {
		out = append(out, c.Emits...)
	}
	return out
}

// Logs returns every line the plugin logged so far, in order.
func (h *Harness) Logs() []Log {
	var out []Log
	for _, c := range h.calls {
		out = append(out, c.Logs...)
	}
	return out
}

// KVOps returns every key-value store operation so far, in order.
func (h *Harness) KVOps() []KVOp {
	var out []KVOp
	for _, c := range h.calls {
		out = append(out, c.KV...)
	}
	return out
}

// KV returns the value of key in the plugin's key-value store.
func (h *Harness) KV(key string) (string, bool) {
	e, ok := h.kvLookup(key)
	return string(e.val), ok
}

// SetKV stores value at key in the plugin's key-value store (no expiry),
// as state left by earlier calls.
func (h *Harness) SetKV(key, value string) { h.kv[key] = kvEntry{val: []byte(value)} }

// SetClock replaces the clock the harness uses for key-value expiry and
// handshake times (default time.Now), e.g. to test a TTL without sleeping.
func (h *Harness) SetClock(now func() time.Time) { h.now = now }

// Timers returns the pending timers, by id.
func (h *Harness) Timers() []Timer {
	out := make([]Timer, 0, len(h.timers))
	for _, t := range h.timers {
		out = append(out, t)
	}
	slices.SortFunc(out, func(a, b Timer) int { return int(a.ID) - int(b.ID) })
	return out
}

// FireTimer makes the TIMER call of pending timer id, as if it fired; a
// one-shot timer is then gone.
func (h *Harness) FireTimer(id sockwasm.TimerID) *Call {
	h.t.Helper()
	tm, ok := h.timers[id]
	if !ok {
		h.t.Fatalf("plugintest: no pending timer %d", id)
	}
	if !tm.Repeat {
		delete(h.timers, id)
	}
	return h.call(frame{kind: KindTimer, ackID: uint64(id), context: tm.Context}, nil, nil)
}

// ServerEvent makes the SERVER_EVENT call of a server-side event another
// node sent to namespace nsp: name with args (a JSON array); wantsAck when
// the sender waits for an answer (then see Call.ServerAnswer).
func (h *Harness) ServerEvent(nsp, name, args string, wantsAck bool) *Call {
	h.t.Helper()
	f := frame{kind: KindServerEvent, nsp: nsp, name: name, args: args, hasAck: wantsAck}
	if wantsAck {
		f.ackID = 1
	}
	return h.call(f, nil, nil)
}

// ServerAnswers makes the SERVER_ACK call that brings answers (a JSON
// array, one per node) to server-side emit e, timed out or not.
func (h *Harness) ServerAnswers(e Emit, answers string, timedOut bool) *Call {
	h.t.Helper()
	if !e.Server || !e.WithAck {
		h.t.Fatalf("plugintest: %+v is not a server-side emit with acks", e)
	}
	f := frame{kind: KindServerAck, nsp: e.Namespace, args: answers, context: e.Context}
	if timedOut {
		f.status = 1
	}
	return h.call(f, nil, nil)
}

// SocketOptions describe a fake socket. Zero fields get defaults.
type SocketOptions struct {
	// ID is the socket id (default "socket-N").
	ID string
	// Namespace is its namespace (default "/").
	Namespace string
	// Auth is the CONNECT payload, raw JSON (default {}).
	Auth string
	// Transport is "websocket" (default) or "polling".
	Transport string
	// Rooms are rooms it is already in, besides its own id room.
	Rooms []string
	// Data is its socket data, JSON ("" for none).
	Data string
	// Headers and Query are the handshake's headers (lower-case names)
	// and query parameters; Address is the client's IP (default
	// 127.0.0.1).
	Headers, Query map[string]string
	Address        string
}

// Socket adds a connected socket to the harness's namespaces. It makes
// no call: use Socket.Connect to run the connection middleware and the
// OnConnection handler.
func (h *Harness) Socket(o SocketOptions) *Socket {
	h.t.Helper()
	h.nextID++
	if o.ID == "" {
		o.ID = "socket-" + strconv.Itoa(h.nextID)
	}
	if o.Namespace == "" {
		o.Namespace = "/"
	}
	if o.Auth == "" {
		o.Auth = "{}"
	}
	if o.Transport == "" {
		o.Transport = "websocket"
	}
	if o.Address == "" {
		o.Address = "127.0.0.1"
	}
	if !json.Valid([]byte(o.Auth)) {
		h.t.Fatalf("plugintest: auth %q is not JSON", o.Auth)
	}
	if o.Data != "" && !json.Valid([]byte(o.Data)) {
		h.t.Fatalf("plugintest: data %q is not JSON", o.Data)
	}
	if h.byID(o.ID) != nil {
		h.t.Fatalf("plugintest: socket %q exists", o.ID)
	}
	s := &Socket{h: h, id: o.ID, nsp: o.Namespace, auth: o.Auth, transport: o.Transport,
		rooms: map[string]bool{o.ID: true}, data: o.Data, connected: true, pending: map[uint64]bool{}}
	for _, r := range o.Rooms {
		s.rooms[r] = true
	}
	hs := map[string]any{"headers": orEmpty(o.Headers), "query": orEmpty(o.Query), "address": o.Address,
		"issued": h.now().UnixMilli(), "secure": false, "xdomain": false,
		"url": "/socket.io/?EIO=4&transport=" + o.Transport, "auth": json.RawMessage(o.Auth)}
	s.handshake, _ = json.Marshal(hs)
	h.sockets = append(h.sockets, s)
	return s
}

func orEmpty(m map[string]string) map[string]string {
	if m == nil {
		return map[string]string{}
	}
	return m
}

func (h *Harness) byID(id string) *Socket {
	for _, s := range h.sockets {
		if s.id == id {
			return s
		}
	}
	return nil
}

// Socket is a fake client socket of a Harness.
type Socket struct {
	h         *Harness
	id, nsp   string
	auth      string
	transport string
	handshake []byte
	rooms     map[string]bool
	data      string
	connected bool
	nextAck   uint64
	pending   map[uint64]bool // client ack ids not answered yet
	received  []Emit
	acks      []Ack
}

// ID returns the socket id.
func (s *Socket) ID() string { return s.id }

// Namespace returns the socket's namespace.
func (s *Socket) Namespace() string { return s.nsp }

// Connected reports whether the socket is connected: false after the
// middleware refused it, the plugin disconnected it or Disconnect.
func (s *Socket) Connected() bool { return s.connected }

// Rooms returns the socket's rooms, sorted, its own id room included.
func (s *Socket) Rooms() []string {
	out := make([]string, 0, len(s.rooms))
	for r := range s.rooms {
		out = append(out, r)
	}
	slices.Sort(out)
	return out
}

// In reports whether the socket is in room.
func (s *Socket) In(room string) bool { return s.rooms[room] }

// Data returns the socket data (JSON, "" when never set).
func (s *Socket) Data() string { return s.data }

// SetData replaces the socket data (JSON, "" to clear).
func (s *Socket) SetData(data string) {
	s.h.t.Helper()
	if data != "" && !json.Valid([]byte(data)) {
		s.h.t.Fatalf("plugintest: data %q is not JSON", data)
	}
	s.data = data
}

// Received returns the events the plugin sent to this socket, directly or
// by broadcast, in order.
func (s *Socket) Received() []Emit { return s.received }

// Acks returns the answers the socket got to its acked events, in order.
func (s *Socket) Acks() []Ack { return s.acks }

// Ack returns the answer to the socket's ack id, or nil while unanswered.
func (s *Socket) Ack(id uint64) *Ack {
	for i := range s.acks {
		if s.acks[i].ID == id {
			return &s.acks[i]
		}
	}
	return nil
}

// Connect runs the connection middleware (MIDDLEWARE call) and, when it
// accepts, the OnConnection handler (CONNECT call), whose record it
// returns. When the middleware refuses, the socket is disconnected and
// the returned record is the MIDDLEWARE call's, with ConnectError set.
func (s *Socket) Connect() *Call {
	s.h.t.Helper()
	// The middleware runs before the socket joins its namespace.
	s.connected = false
	mw := s.h.call(frame{kind: KindMiddleware, auth: s.auth}, s, nil)
	if mw.ConnectError != nil {
		return mw
	}
	s.connected = true
	return s.h.call(frame{kind: KindConnect, auth: s.auth}, s, nil)
}

// Emit delivers event name with args (a JSON array) and binary
// attachments, without asking for an ack.
func (s *Socket) Emit(name, args string, atts ...[]byte) *Call {
	s.h.t.Helper()
	return s.event(KindEvent, name, args, false, atts)
}

// EmitWithAck delivers event name asking for an ack; the answer, when the
// handler gave it during the call, is the record's Ack(), else it comes
// later (Socket.Ack with the record's AckID).
func (s *Socket) EmitWithAck(name, args string, atts ...[]byte) *Call {
	s.h.t.Helper()
	return s.event(KindEvent, name, args, true, atts)
}

// EventMiddleware delivers event name to the per-event middleware
// (EVENT_MIDDLEWARE call); the record's Rejection is its verdict.
func (s *Socket) EventMiddleware(name, args string, ack bool, atts ...[]byte) *Call {
	s.h.t.Helper()
	return s.event(KindEventMiddleware, name, args, ack, atts)
}

func (s *Socket) event(kind Kind, name, args string, ack bool, atts [][]byte) *Call {
	s.h.t.Helper()
	if !isArray(args) {
		s.h.t.Fatalf("plugintest: args %q are not a JSON array", args)
	}
	if !s.connected {
		s.h.t.Fatalf("plugintest: socket %s is not connected", s.id)
	}
	f := frame{kind: kind, name: name, args: args, natts: len(atts)}
	if ack {
		f.hasAck, f.ackID = true, s.nextAck
		s.nextAck++
		if kind == KindEvent {
			s.pending[f.ackID] = true
		}
	}
	return s.h.call(f, s, atts)
}

// AckResponse is the client side of an emit with ack, for
// Socket.AckResponse.
type AckResponse struct {
	// Status says whether the client answered.
	Status sockwasm.AckStatus
	// Args are the answer, a JSON array ("" for []); for a broadcast the
	// answers [[socketId, arg…], …].
	Args string
	// Attachments are the answer's binary attachments.
	Attachments [][]byte
	// Context is the ctx the plugin gave.
	Context []byte
	// Broadcast marks the answers to a broadcast with acks.
	Broadcast bool
}

// Reply answers emit e (an Emit record asking for an ack, sent to this
// socket) with args: the ACK_RESPONSE call, status AckOK.
func (s *Socket) Reply(e Emit, args string, atts ...[]byte) *Call {
	s.h.t.Helper()
	if !e.WithAck {
		s.h.t.Fatalf("plugintest: %q was not sent with an ack", e.Name)
	}
	return s.AckResponse(AckResponse{Status: sockwasm.AckOK, Args: args, Attachments: atts, Context: e.Context, Broadcast: e.Broadcast})
}

// ReplyTimeout makes emit e's ack time out: the ACK_RESPONSE call, status
// AckTimeout.
func (s *Socket) ReplyTimeout(e Emit) *Call {
	s.h.t.Helper()
	return s.AckResponse(AckResponse{Status: sockwasm.AckTimeout, Context: e.Context, Broadcast: e.Broadcast})
}

// AckResponse makes an ACK_RESPONSE call about this socket.
func (s *Socket) AckResponse(r AckResponse) *Call {
	s.h.t.Helper()
	if r.Args == "" {
		r.Args = "[]"
	}
	if !isArray(r.Args) {
		s.h.t.Fatalf("plugintest: args %q are not a JSON array", r.Args)
	}
	f := frame{kind: KindAckResponse, args: r.Args, natts: len(r.Attachments), status: uint32(r.Status), context: r.Context}
	if r.Broadcast {
		f.flags |= 4
	}
	return s.h.call(f, s, r.Attachments)
}

// Disconnect makes the DISCONNECT call with reason (default "client
// namespace disconnect") and the socket's rooms, then removes the socket
// from them. The harness does not make it on its own when the plugin
// disconnects a socket.
func (s *Socket) Disconnect(reason string) *Call {
	s.h.t.Helper()
	if reason == "" {
		reason = "client namespace disconnect"
	}
	var rooms []string
	for _, r := range s.Rooms() {
		if r != s.id {
			rooms = append(rooms, r)
		}
	}
	s.connected = false
	c := s.h.call(frame{kind: KindDisconnect, reason: reason, rooms: rooms}, s, nil)
	s.rooms = map[string]bool{}
	return c
}

// callState is the call in progress.
type callState struct {
	call *Call
	f    frame
	in   []byte
	sock *Socket
	atts [][]byte
}

// call makes one call through the SDK's dispatch and records it.
func (h *Harness) call(f frame, s *Socket, atts [][]byte) *Call {
	h.t.Helper()
	c := &Call{Kind: f.kind, Event: f.name, HasAck: f.hasAck, AckID: f.ackID}
	if s != nil {
		f.nsp, f.sid = s.nsp, s.id
		c.Socket = s.id
	}
	b := f.encode()
	h.cur = &callState{call: c, f: f, in: b, sock: s, atts: atts}
	h.calls = append(h.calls, c)
	defer func() { h.cur = nil }()
	c.Result = hostcall.Dispatch(kindCodes[f.kind], int32(len(b)))
	if c.Disconnect && s != nil {
		s.connected = false
	}
	return c
}

func isArray(s string) bool {
	return json.Valid([]byte(s)) && strings.HasPrefix(strings.TrimSpace(s), "[")
}

var kindCodes = map[Kind]int32{KindMiddleware: 1, KindConnect: 2, KindEvent: 3, KindAckResponse: 4,
	KindDisconnect: 5, KindEventMiddleware: 9, KindInit: 10, KindTimer: 11, KindServerEvent: 12, KindServerAck: 13,
	KindHTTPResponse: 14}

// frame is an ABI v1 input frame (sdk/ABI.md, section 3).
type frame struct {
	kind                               Kind
	flags                              uint16
	hasAck                             bool
	natts                              int
	ackID                              uint64
	status                             uint32
	nsp, sid, name, args, auth, reason string
	context                            []byte
	rooms                              []string
}

func (f frame) encode() []byte {
	flags := f.flags
	if f.hasAck {
		flags |= 1
	}
	b := []byte{1, byte(kindCodes[f.kind])}
	b = binary.LittleEndian.AppendUint16(b, flags)
	b = binary.LittleEndian.AppendUint32(b, uint32(f.natts))
	b = binary.LittleEndian.AppendUint64(b, f.ackID)
	b = binary.LittleEndian.AppendUint32(b, f.status)
	b = binary.LittleEndian.AppendUint32(b, 0)
	for _, s := range []string{f.nsp, f.sid, f.name, f.args, f.auth, string(f.context), f.reason} {
		b = binary.LittleEndian.AppendUint32(b, uint32(len(s)))
		b = append(b, s...)
	}
	return appendList(b, f.rooms)
}

// appendList appends a list (count, then length-prefixed items).
func appendList(b []byte, ss []string) []byte {
	b = binary.LittleEndian.AppendUint32(b, uint32(len(ss)))
	for _, s := range ss {
		b = binary.LittleEndian.AppendUint32(b, uint32(len(s)))
		b = append(b, s...)
	}
	return b
}

// parseList decodes a list; an empty buffer is an empty list.
func parseList(b []byte) ([]string, bool) {
	if len(b) == 0 {
		return nil, true
	}
	if len(b) < 4 {
		return nil, false
	}
	n := binary.LittleEndian.Uint32(b)
	b = b[4:]
	if n > 1024 {
		return nil, false
	}
	out := make([]string, 0, n)
	for range n {
		if len(b) < 4 {
			return nil, false
		}
		l := binary.LittleEndian.Uint32(b)
		b = b[4:]
		if uint64(l) > uint64(len(b)) || l == 0 {
			return nil, false
		}
		out = append(out, string(b[:l]))
		b = b[l:]
	}
	return out, len(b) == 0
}
