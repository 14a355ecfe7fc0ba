package sockwasm

import "strconv"

// Call kinds of ABI v1 (first parameter of sockwasm_handle).
const (
	kindMiddleware    = 1
	kindConnect       = 2
	kindEvent         = 3
	kindAckResponse   = 4
	kindDisconnect    = 5
	kindEngineOpen    = 6
	kindEngineMessage = 7
	kindEngineClose   = 8
)

const (
	flagHasAck          = 1 << 0
	flagBinary          = 1 << 1
	broadcastExceptSelf = 1 << 0
	attachmentRef       = 0x80000000
	frameHeaderSize     = 24
)

// Error is a negative result code of a host function.
type Error int32

// Host function errors (sdk/ABI.md, "Result codes").
const (
	ErrMemory       Error = -1  // a pointer/length pair is outside guest memory
	ErrInvalid      Error = -2  // malformed argument (args not a JSON array, empty name…)
	ErrNotFound     Error = -3  // attachment index out of range
	ErrNotAllowed   Error = -4  // not available in this kind of call
	ErrDisconnected Error = -5  // the socket or session is gone
	ErrLimit        Error = -6  // a bound was hit (attachments, pending acks…)
	ErrUnknownAck   Error = -7  // no unanswered client ack with that id
	ErrFailed       Error = -8  // refused by the host for another reason
	ErrTimeout      Error = -9  // other nodes of the cluster did not all answer in time
	ErrUnavailable  Error = -10 // the cluster's store (Redis) cannot be reached
)

var errText = map[Error]string{
	ErrMemory: "memory out of range", ErrInvalid: "invalid argument", ErrNotFound: "not found",
	ErrNotAllowed: "not allowed in this call", ErrDisconnected: "disconnected", ErrLimit: "limit exceeded",
	ErrUnknownAck: "unknown ack id", ErrFailed: "refused by host",
	ErrTimeout: "cluster request timed out", ErrUnavailable: "cluster store unavailable",
}

// Error describes the host error code.
func (e Error) Error() string {
	if s, ok := errText[e]; ok {
		return "sockwasm: " + s
	}
	return "sockwasm: error " + strconv.Itoa(int(e))
}

func check(rc int32) error {
	if rc >= 0 {
		return nil
	}
	// Constant conversions: an error result does not allocate.
	switch e := Error(rc); e {
	case ErrMemory:
		return ErrMemory
	case ErrInvalid:
		return ErrInvalid
	case ErrNotFound:
		return ErrNotFound
	case ErrNotAllowed:
		return ErrNotAllowed
	case ErrDisconnected:
		return ErrDisconnected
	case ErrLimit:
		return ErrLimit
	case ErrUnknownAck:
		return ErrUnknownAck
	case ErrFailed:
		return ErrFailed
	case ErrTimeout:
		return ErrTimeout
	case ErrUnavailable:
		return ErrUnavailable
	default:
		return e
	}
}

// Level is a log level of Log.
type Level int32

// Log levels.
const (
	LevelDebug Level = 0
	LevelInfo  Level = 1
	LevelWarn  Level = 2
	LevelError Level = 3
)

// AckStatus says how a server→client ack ended.
type AckStatus uint32

// Ack statuses.
const (
	// AckOK: the client answered.
	AckOK AckStatus = 0
	// AckTimeout: no answer within the timeout.
	AckTimeout AckStatus = 1
	// AckDisconnected: the socket left before answering.
	AckDisconnected AckStatus = 2
)
