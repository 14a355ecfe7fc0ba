// Package hostcall connects the native (non-wasip1) build of the Go SDK to
// a stand-in host, so that plugin handlers run in ordinary `go test`
// binaries (package plugintest). On wasip1 the SDK calls the real host
// through its imports and this package is unused.
package hostcall

// Getter names a host function that takes only an output buffer.
type Getter int

// Getters of ABI v1.
const (
	SocketID Getter = iota
	Namespace
	Auth
	Transport
	Rooms
	Handshake
	SocketData
	Config
)

// Host is a native stand-in for the sockwasm host: one method per host
// function of sdk/ABI.md, with Go slices instead of pointer/length pairs.
// Results follow the ABI (a negative int32 is an error code). Slices
// passed in are copies the host may keep.
type Host interface {
	ReadInput() []byte
	ReadAttachment(i uint32) ([]byte, int32)
	Get(g Getter) ([]byte, int32)
	Ack(id uint64, args, atts []byte) int32
	Emit(name, args, atts []byte) int32
	EmitWithAck(name, args, atts []byte, timeoutMs uint32, ctx []byte) int32
	Broadcast(rooms, except []byte, flags uint32, name, args, atts []byte) int32
	BroadcastWithAck(rooms, except []byte, flags uint32, name, args, atts []byte, timeoutMs uint32, ctx []byte) int32
	NsBroadcast(nsp, rooms, except []byte, flags uint32, name, args, atts []byte) int32
	ServerEmit(nsp, name, args []byte, timeoutMs uint32, ctx []byte) int32
	ServerAck(id uint64, args []byte) int32
	Join(room []byte) int32
	Leave(room []byte) int32
	Disconnect(closeSession uint32) int32
	RoomSize(room []byte) int32
	ClientCount() int32
	Reject(msg, data []byte) int32
	RejectEvent(msg, data []byte) int32
	EngineSend(data []byte, binary uint32) int32
	Log(level uint32, msg []byte)
	SetSocketData(data []byte) int32
	FetchSockets(rooms, except []byte) ([]byte, int32)
	SocketsJoin(rooms, except, join []byte) int32
	SocketsLeave(rooms, except, leave []byte) int32
	DisconnectSockets(rooms, except []byte, closeSession uint32) int32
	KVGet(key []byte) ([]byte, int32)
	KVSet(key, val []byte, ttlMs int64) int32
	KVDelete(key []byte) int32
	KVIncr(key []byte, delta int64) (int64, int32)
	KVCAS(key, old, val []byte, flags uint32, ttlMs int64) int32
	TimerSet(delayMs, repeat uint32, ctx []byte) int32
	TimerCancel(id uint32) int32
	HTTPRequest(desc, body, ctx []byte) int32
}

// Current is the installed stand-in host; nil means none, and every host
// function of the native SDK then returns ERR_NOT_ALLOWED. Package
// plugintest installs one for the duration of a test.
var Current Host

// Dispatch is the SDK's entry point (sockwasm_handle) in native builds,
// set by the SDK's init; nil on wasip1.
var Dispatch func(kind, inputLen int32) int32
