package abi

import (
	"fmt"
	"slices"
	"strings"
)

// Module names of ABI v1.
const (
	// ImportModule is the module of every host function.
	ImportModule = "sockwasm_v1"
	// WASIModule is the only other module a guest may import from.
	WASIModule = "wasi_snapshot_preview1"
	// ExportMarker is the function a guest exports to declare ABI v1.
	ExportMarker = "sockwasm_abi_v1"
	// ExportHandle is the guest's entry point:
	// sockwasm_handle(kind i32, input_len i32) -> i32.
	ExportHandle = "sockwasm_handle"
	// ExportMemory is the guest's linear memory.
	ExportMemory = "memory"
)

// Func is a host function of module sockwasm_v1.
type Func uint8

// Host functions of ABI v1, in the order of sdk/ABI.md.
const (
	ReadInput Func = iota
	ReadAttachment
	Ack
	Emit
	Broadcast
	EmitWithAck
	Join
	Leave
	DisconnectSocket
	SocketID
	Namespace
	Auth
	Transport
	Rooms
	RoomSize
	ClientCount
	Reject
	EngineSend
	Log
	Handshake
	SocketData
	SetSocketData
	BroadcastWithAck
	FetchSockets
	SocketsJoin
	SocketsLeave
	DisconnectSockets
	RejectEvent
	Config
	KVGet
	KVSet
	KVDelete
	KVIncr
	KVCAS
	TimerSet
	TimerCancel
	NsBroadcast
	ServerEmit
	AckServerEvent
	HTTPRequest

	// NumFuncs is the number of host functions.
	NumFuncs
)

var funcNames = [NumFuncs]string{
	ReadInput: "read_input", ReadAttachment: "read_attachment", Ack: "ack", Emit: "emit",
	Broadcast: "broadcast", EmitWithAck: "emit_with_ack", Join: "join", Leave: "leave",
	DisconnectSocket: "disconnect", SocketID: "socket_id", Namespace: "namespace", Auth: "auth",
	Transport: "transport", Rooms: "rooms", RoomSize: "room_size", ClientCount: "client_count",
	Reject: "reject", EngineSend: "engine_send", Log: "log", Handshake: "handshake",
	SocketData: "socket_data", SetSocketData: "set_socket_data", BroadcastWithAck: "broadcast_with_ack",
	FetchSockets: "fetch_sockets", SocketsJoin: "sockets_join", SocketsLeave: "sockets_leave",
	DisconnectSockets: "disconnect_sockets", RejectEvent: "reject_event", Config: "config",
	KVGet: "kv_get", KVSet: "kv_set", KVDelete: "kv_delete", KVIncr: "kv_incr", KVCAS: "kv_cas",
	TimerSet: "timer_set", TimerCancel: "timer_cancel", NsBroadcast: "ns_broadcast",
	ServerEmit: "server_emit", AckServerEvent: "server_ack", HTTPRequest: "http_request",
}

// String returns the function's import name ("emit_with_ack").
func (f Func) String() string {
	if f < NumFuncs {
		return funcNames[f]
	}
	return "unknown"
}

// FuncByName returns the host function imported as name.
func FuncByName(name string) (Func, bool) {
	for f, n := range funcNames {
		if n == name {
			return Func(f), true
		}
	}
	return 0, false
}

// MaxAttachments bounds an attachment list a guest hands the host: the
// bound socket.io-parser's decoder (in every JavaScript client) enforces.
const MaxAttachments = 10

// Capability groups: a module that imports a host function of a group
// must be granted the group in server.toml, or it is refused at load.
const (
	// CapKV is the key-value store: kv_get, kv_set, kv_delete, kv_incr, kv_cas.
	CapKV = "kv"
	// CapTimers are the timers: timer_set, timer_cancel.
	CapTimers = "timers"
	// CapHTTP is outbound HTTP: http_request, to the URL prefixes of the
	// plugin's http_allow (CheckHTTPAllow, HTTPAllowed).
	CapHTTP = "http"
)

// Capabilities lists the capability groups, sorted.
func Capabilities() []string { return []string{CapHTTP, CapKV, CapTimers} }

// Capability returns the group f belongs to, "" when it needs no grant.
func (f Func) Capability() string {
	switch f {
	case KVGet, KVSet, KVDelete, KVIncr, KVCAS:
		return CapKV
	case TimerSet, TimerCancel:
		return CapTimers
	case HTTPRequest:
		return CapHTTP
	}
	return ""
}

// CheckGrant reports whether g is a grant a plugin may be given: a
// capability group, or GrantEmitPrefix and a namespace (or a namespace
// pattern ending in "*") it may send into without serving it.
func CheckGrant(g string) error {
	if nsp, ok := strings.CutPrefix(g, GrantEmitPrefix); ok {
		if nsp == "" || nsp[0] != '/' || strings.Contains(strings.TrimSuffix(nsp, "*"), "*") {
			return fmt.Errorf("grant %q: want %q and a namespace, e.g. %q or %q", g, GrantEmitPrefix, GrantEmitPrefix+"/admin", GrantEmitPrefix+"/tenant-*")
		}
		return nil
	}
	if slices.Contains(Capabilities(), g) {
		return nil
	}
	return fmt.Errorf("unknown capability %q (known: %q, %q, %q, and %q followed by a namespace)", g, CapHTTP, CapKV, CapTimers, GrantEmitPrefix)
}

// GrantEmitPrefix starts a grant that lets a plugin send into a namespace
// it does not serve with ns_broadcast: "emit:/admin", or "emit:/tenant-*"
// for every namespace the pattern matches.
const GrantEmitPrefix = "emit:"
