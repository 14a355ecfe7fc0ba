package plugin

// This file is the single place where the names, numbers and packed layouts
// of plugin ABI version 1 are defined on the host side. sdk/ABI.md is the
// normative description; sdk/go mirrors these values for Go guests.

// ABIVersion is the plugin ABI version this host implements.
const ABIVersion = 1

// Module and export names of ABI version 1.
const (
	// ImportModule is the module name of every host function of ABI v1.
	ImportModule = "sockwasm_v1"
	// WASIModule is the only other import module a guest may use.
	WASIModule = "wasi_snapshot_preview1"
	// ExportMarker is the function a guest exports to declare ABI v1.
	ExportMarker = "sockwasm_abi_v1"
	// ExportHandle is the guest's single entry point:
	// sockwasm_handle(kind i32, input_len i32) -> i32.
	ExportHandle = "sockwasm_handle"
	// ExportMemory is the guest's linear memory.
	ExportMemory = "memory"
	// exportInitialize is run once per instance when present (reactor
	// modules, Go c-shared guests).
	exportInitialize = "_initialize"
	// markerPrefix detects a guest built for another ABI version.
	markerPrefix = "sockwasm_abi_v"
	// importPrefix detects host modules of another ABI version.
	importPrefix = "sockwasm_v"
)

// Call kinds: the first parameter of sockwasm_handle and byte 1 of the
// input frame.
const (
	KindMiddleware    = 1
	KindConnect       = 2
	KindEvent         = 3
	KindAckResponse   = 4
	KindDisconnect    = 5
	KindEngineOpen    = 6
	KindEngineMessage = 7
	KindEngineClose   = 8
	// KindEventMiddleware runs a per-event middleware (socket.use) before
	// the event's handler; see Plugin.EventMiddleware.
	KindEventMiddleware = 9
	// KindInit validates the plugin config: made once per new version,
	// before it serves; a failing INIT refuses the version.
	KindInit = 10
	// KindTimer fires a timer set with timer_set; no socket.
	KindTimer = 11
)

var kindNames = [...]string{"", "middleware", "connect", "event", "ack-response", "disconnect", "engine-open", "engine-message", "engine-close", "event-middleware", "init", "timer"}

func kindName(k uint32) string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return "unknown"
}

// Input frame flags (u16 at offset 2).
const (
	FlagHasAck = 1 << 0 // the client asked for an ack (event)
	FlagBinary = 1 << 1 // the engine message is binary
)

// Ack-response status (u32 at offset 16).
const (
	AckOK           = 0
	AckTimeout      = 1
	AckDisconnected = 2
)

// Broadcast flags.
const (
	// BroadcastExceptSender excludes the calling socket.
	BroadcastExceptSender = 1 << 0
)

// Log levels of the log import.
const (
	LogDebug = 0
	LogInfo  = 1
	LogWarn  = 2
	LogError = 3
)

// Frame layout: a fixed 24-byte header, then seven length-prefixed fields
// (u32 length, bytes) in this order, then a room list.
const (
	frameHeaderSize = 24
	// attachmentRef marks an attachment-list entry that forwards input
	// attachment (word & attachmentIndexMask) instead of inline bytes.
	attachmentRef       = 0x80000000
	attachmentIndexMask = 0x7fffffff
)

// Result codes of host functions. Non-negative results are success (a
// length or a count); negative results are these errors.
const (
	ErrMemory       = -1 // a pointer/length pair is outside guest memory
	ErrInvalid      = -2 // malformed argument: not a JSON array, bad list, empty name…
	ErrNotFound     = -3 // attachment index out of range, unknown room…
	ErrNotAllowed   = -4 // the import is not available in this call kind
	ErrDisconnected = -5 // the socket or session is gone
	ErrLimit        = -6 // a bound was hit: too many attachments, pending acks…
	ErrUnknownAck   = -7 // no unanswered client ack with that id
	ErrFailed       = -8 // the host refused for another reason (logged)
)

// Host function names of module sockwasm_v1.
const (
	fnReadInput      = "read_input"
	fnReadAttachment = "read_attachment"
	fnAck            = "ack"
	fnEmit           = "emit"
	fnBroadcast      = "broadcast"
	fnEmitWithAck    = "emit_with_ack"
	fnJoin           = "join"
	fnLeave          = "leave"
	fnDisconnect     = "disconnect"
	fnSocketID       = "socket_id"
	fnNamespace      = "namespace"
	fnAuth           = "auth"
	fnTransport      = "transport"
	fnRooms          = "rooms"
	fnRoomSize       = "room_size"
	fnClientCount    = "client_count"
	fnReject         = "reject"
	fnEngineSend     = "engine_send"
	fnLog            = "log"
)

// Bounds applied to what a guest hands the host.
const (
	maxAttachments = 64
	maxRooms       = 1024
	maxAckTimeout  = 10 * 60 * 1000 // ms
)

// handlerFailedAck is sent to a client whose ack is unanswered when the
// event handler faulted.
var handlerFailedAck = []byte(`[{"error":"handler failed"}]`)
