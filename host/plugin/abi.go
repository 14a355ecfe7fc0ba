package plugin

import "github.com/sockwasm/sockwasm/sdk/abi"

// The names, numbers and packed layouts of plugin ABI version 1 that the
// host uses. Call kinds, host function names, result codes and the
// permission table are defined once, in package sdk/abi; sdk/ABI.md is
// the normative description.

// ABIVersion is the plugin ABI version this host implements.
const ABIVersion = abi.Version

// Module and export names of ABI version 1.
const (
	// ImportModule is the module name of every host function of ABI v1.
	ImportModule = abi.ImportModule
	// WASIModule is the only other import module a guest may use.
	WASIModule = abi.WASIModule
	// ExportMarker is the function a guest exports to declare ABI v1.
	ExportMarker = abi.ExportMarker
	// ExportHandle is the guest's single entry point:
	// sockwasm_handle(kind i32, input_len i32) -> i32.
	ExportHandle = abi.ExportHandle
	// ExportMemory is the guest's linear memory.
	ExportMemory = abi.ExportMemory
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
	KindMiddleware      = abi.Middleware
	KindConnect         = abi.Connect
	KindEvent           = abi.Event
	KindAckResponse     = abi.AckResponse
	KindDisconnect      = abi.Disconnect
	KindEngineOpen      = abi.EngineOpen
	KindEngineMessage   = abi.EngineMessage
	KindEngineClose     = abi.EngineClose
	KindEventMiddleware = abi.EventMiddleware
	KindInit            = abi.Init
	KindTimer           = abi.Timer
)

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
// length or a count); negative results are these errors (abi.Code).
const (
	ErrMemory       = int32(abi.ErrMemory)
	ErrInvalid      = int32(abi.ErrInvalid)
	ErrNotFound     = int32(abi.ErrNotFound)
	ErrNotAllowed   = int32(abi.ErrNotAllowed)
	ErrDisconnected = int32(abi.ErrDisconnected)
	ErrLimit        = int32(abi.ErrLimit)
	ErrUnknownAck   = int32(abi.ErrUnknownAck)
	ErrFailed       = int32(abi.ErrFailed)
	ErrTimeout      = int32(abi.ErrTimeout)
	ErrUnavailable  = int32(abi.ErrUnavailable)
)

// Bounds applied to what a guest hands the host.
const (
	// maxAttachments bounds an attachment list: socket.io-parser's bound,
	// which every JavaScript client's decoder enforces.
	maxAttachments = 10
	// maxRooms bounds a room list.
	maxRooms = 1024
	// maxAckTimeout bounds the timeout of an emit or broadcast with acks.
	maxAckTimeout = 10 * 60 * 1000 // ms
	// maxRejectBytes bounds the message plus data of a refusal.
	maxRejectBytes = 64 << 10
	// maxNameBytes bounds a name a guest hands the host: an event name, a
	// room, a namespace, a key (the socketio layer bounds rooms and
	// namespaces further).
	maxNameBytes = 4096
)

// handlerFailedAck is sent to a client whose ack is unanswered when the
// event handler faulted.
var handlerFailedAck = []byte(`[{"error":"handler failed"}]`)
