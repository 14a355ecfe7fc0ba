package socketio

import (
	"context"
	"encoding/json"
	"errors"
	"time"

	"github.com/rs/zerolog"
)

// Reason says why a socket left its namespace. The strings are the
// reference server's (Node socket.io), so clients and plugins see the same
// values they would with it.
type Reason string

// Disconnect reasons, with the reference server's strings.
const (
	ReasonTransportClose            Reason = "transport close"
	ReasonTransportError            Reason = "transport error"
	ReasonPingTimeout               Reason = "ping timeout"
	ReasonParseError                Reason = "parse error"
	ReasonForcedClose               Reason = "forced close"
	ReasonForcedServerClose         Reason = "forced server close"
	ReasonClientNamespaceDisconnect Reason = "client namespace disconnect"
	ReasonServerNamespaceDisconnect Reason = "server namespace disconnect"
	ReasonServerShuttingDown        Reason = "server shutting down"
)

// Errors reported to ack callbacks and by Socket methods.
var (
	ErrAckTimeout   = errors.New("socketio: ack timed out")
	ErrDisconnected = errors.New("socketio: socket disconnected")
	ErrUnknownAck   = errors.New("socketio: no pending ack with that id")
	// ErrTooManyRooms is returned by Socket.Join when the socket would be
	// in more than Options.MaxRoomsPerSocket rooms.
	ErrTooManyRooms = errors.New("socketio: too many rooms for one socket")
	// ErrInvalidRoom is returned for an empty room name, one longer than
	// Options.MaxRoomName or one that is not valid UTF-8.
	ErrInvalidRoom = errors.New("socketio: invalid room name")
	// ErrTooManyAttachments is returned when an emit carries more than
	// Options.MaxAttachments binary attachments.
	ErrTooManyAttachments = errors.New("socketio: too many attachments")
)

// ConnectError rejects a connection; it is sent to the client as
// CONNECT_ERROR {"message": Message, "data": Data} (data omitted when nil).
type ConnectError struct {
	Message string
	Data    json.RawMessage
}

// Error implements error.
func (e *ConnectError) Error() string { return "socketio: connect refused: " + e.Message }

// Event is one EVENT or BINARY_EVENT received from a client.
type Event struct {
	// Name is the event name (the first element of the packet's array).
	Name string
	// Args is a JSON array of the remaining elements, binary placeholders
	// ({"_placeholder":true,"num":N}) left in place.
	Args []byte
	// Attachments are the binary attachments, by placeholder num.
	Attachments [][]byte
	// AckID is the client's ack id; valid when HasAck.
	AckID uint64
	// HasAck reports that the client asked for an ack: answer it once with
	// Socket.Ack(AckID, ...), now or later.
	HasAck bool
}

// AckResponse is the client's answer to an emit with ack, or the reason
// there is none (Err is ErrAckTimeout or ErrDisconnected).
type AckResponse struct {
	Args        []byte
	Attachments [][]byte
	Err         error
}

// NamespaceHandler is the application behind a namespace. Calls for one
// socket are made in arrival order, never concurrently: the calls for all
// sockets of one Engine.IO session are serialized, including OnDisconnect
// when Socket.Disconnect is called from another goroutine.
type NamespaceHandler interface {
	// Authorize runs the connection middleware; nil accepts.
	Authorize(s *Socket) *ConnectError
	// OnConnect runs once the CONNECT reply has been queued.
	OnConnect(s *Socket)
	// OnEvent handles one event.
	OnEvent(s *Socket, ev *Event)
	// OnDisconnect runs once when the socket leaves, with the rooms it was in
	// (its own id room excluded).
	OnDisconnect(s *Socket, reason Reason, rooms []string)
}

// ServerEventHandler is implemented by the NamespaceHandlers that take
// the server-side events other servers send (Namespace.ServerSideEmit;
// the reference server's io.on(event) for serverSideEmit). args is the
// event's arguments, a JSON array; ack, nil when the sender expects no
// answer, sends this server's answer (one JSON value) and may be called
// once, from any goroutine. OnServerEvent must not block: it runs on the
// goroutine that receives from the other servers.
type ServerEventHandler interface {
	OnServerEvent(n *Namespace, name string, args []byte, ack func(answer []byte))
}

// BroadcastOptions selects the receivers of a broadcast.
type BroadcastOptions struct {
	// Rooms to send to; empty means every socket of the namespace.
	Rooms []string
	// Except excludes the members of these rooms (a socket id excludes that socket).
	Except []string
	// Volatile drops the packet for sockets whose session is not writable
	// right now (engineio.Session.Writable), like the reference server's
	// volatile flag: for data that may be lost, never queued behind a backlog.
	Volatile bool
}

// Options configures a Server. Zero values mean the documented defaults.
type Options struct {
	// ConnectTimeout closes an Engine.IO session that has not joined a
	// namespace in time. Default 45s.
	ConnectTimeout time.Duration
	// MaxAttachments bounds binary attachments per packet, both ways.
	// Default 10, socket.io-parser's own bound (its decoders in the
	// reference server and in every JavaScript client refuse more).
	MaxAttachments int
	// MaxDepth bounds JSON nesting in a packet. Default 64.
	MaxDepth int
	// MaxPendingAcks bounds, per socket, the server→client acks awaiting
	// an answer and the broadcasts with acks it started that are not
	// complete. Default 1024.
	MaxPendingAcks int
	// MaxRoomsPerSocket bounds the rooms a socket is in, its own id room
	// included; Socket.Join beyond it fails with ErrTooManyRooms.
	// Default 256.
	MaxRoomsPerSocket int
	// MaxRoomName bounds a room name in bytes; longer names fail with
	// ErrInvalidRoom. Default 256.
	MaxRoomName int
	// MaxNamespaceName bounds a namespace name in bytes: a CONNECT to a
	// longer name is refused as an invalid namespace. Default 256.
	MaxNamespaceName int
	// MaxDynamicNamespaces bounds the namespaces the Resolver creates
	// that exist at once; a CONNECT that would create one more is
	// refused. Default 10 000.
	MaxDynamicNamespaces int
	// MaxBroadcastAckBytes bounds the answers a broadcast with acks holds
	// until its last one (args and attachments): an answer beyond it is
	// dropped, as if its socket had left, and logged. Default 8 MiB.
	MaxBroadcastAckBytes int
	// MaxSocketsPerSession bounds the namespaces one Engine.IO session
	// has joined at once; a CONNECT beyond it is refused ("Too many
	// sockets on this connection") and the session stays. Default 256.
	MaxSocketsPerSession int
	// MaxAuthBytes bounds the auth payloads of one session's sockets
	// together, in bytes; a CONNECT that would exceed it is refused
	// ("Auth payload too large") and the session stays. Default 1 MiB.
	MaxAuthBytes int
	// KeepEmptyDynamicNamespaces keeps a namespace made by the Resolver
	// once its last socket has left. By default it is removed then (the
	// reference server's cleanupEmptyChildNamespaces), with its rooms.
	KeepEmptyDynamicNamespaces bool
	// Parser is the packet format of every session, the reference
	// server's parser option: ParserJSON (socket.io-parser, the default)
	// or ParserMsgpack (socket.io-msgpack-parser). A client must use the
	// same one; it cannot change while sessions are open.
	Parser Parser
	// NewAdapter makes the room adapter of each namespace. Default: in memory.
	NewAdapter func(n *Namespace) Adapter
	// Logger receives the server's logs. Default: disabled.
	Logger *zerolog.Logger
}

// Adapter keeps a namespace's rooms and delivers broadcasts. The in-memory
// adapter is the default; a Redis adapter shares rooms across nodes.
//
// Implementations must be safe for concurrent use and must not hold a lock
// while delivering (Broadcast hands the selected ids to Namespace.Deliver).
type Adapter interface {
	// AddAll adds socket id to rooms.
	AddAll(id string, rooms []string)
	// Del removes socket id from room.
	Del(id, room string)
	// DelAll removes socket id from every room.
	DelAll(id string)
	// SocketRooms returns the rooms of a socket, nil if unknown.
	SocketRooms(id string) []string
	// SocketRoomCount returns the number of rooms of a socket.
	SocketRoomCount(id string) int
	// RoomSize returns the number of sockets in a room.
	RoomSize(room string) int
	// Sockets returns the ids of the sockets in any of rooms (all when empty).
	Sockets(rooms []string) []string
	// Broadcast sends an encoded packet to the selected sockets. It must
	// not block on slow receivers.
	Broadcast(p *Packet, opts BroadcastOptions)
	// BroadcastWithAck hands the ids of the selected local sockets to
	// b.Deliver, which emits to each with its own ack id (opts.Volatile
	// applies). The memory adapter calls it once.
	BroadcastWithAck(opts BroadcastOptions, b *AckBroadcast)
	// FetchSockets describes the selected sockets (opts.Volatile ignored).
	FetchSockets(ctx context.Context, opts BroadcastOptions) ([]SocketInfo, error)
	// ServerSideEmit sends event name with args (a JSON array, no
	// binary) to the other servers' ServerEventHandler. With cb, each of
	// them answers once: cb gets the answers when all have come, or
	// those that came and ErrClusterTimeout after timeout. With no other
	// server cb is called at once with none, and immediate is true.
	ServerSideEmit(name string, args []byte, timeout time.Duration, cb func(answers [][]byte, err error)) (immediate bool, err error)
	// AllSockets returns the ids of the sockets in any of rooms (all when
	// empty) on every server sharing the namespace: Sockets for a single
	// server. Adapters that ask other servers fail with
	// ErrClusterTimeout or ErrClusterUnavailable rather than answer in
	// part.
	AllSockets(ctx context.Context, rooms []string) ([]string, error)
	// AddSockets makes the selected sockets join rooms.
	AddSockets(opts BroadcastOptions, rooms []string)
	// DelSockets makes the selected sockets leave rooms.
	DelSockets(opts BroadcastOptions, rooms []string)
	// DisconnectSockets disconnects the selected sockets from the
	// namespace; with closeSession their whole Engine.IO sessions close.
	DisconnectSockets(opts BroadcastOptions, closeSession bool)
	// Close releases the adapter's resources.
	Close() error
}
