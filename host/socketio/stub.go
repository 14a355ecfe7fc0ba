package socketio

// STUB: replaced by the real implementation. Signatures are the contract
// other packages compile against; bodies are placeholders.

import (
	"context"
	"encoding/json"
	"time"

	"github.com/sockwasm/sockwasm/host/engineio"
)

// Packet is an encoded Socket.IO packet ready to be written: the text
// frame and its binary attachments. Encoded once, written to N clients.
type Packet struct {
	Text        []byte
	Attachments [][]byte
}

// Server is the Socket.IO server; it is the engineio.Handler of an engine.
type Server struct{}

// New returns a server with no namespaces.
func New(opts Options) *Server { panic("stub") }

// Open implements engineio.Handler.
func (s *Server) Open(es *engineio.Session) engineio.Receiver { panic("stub") }

// Handle registers namespace name (e.g. "/chat") served by h and returns it.
func (s *Server) Handle(name string, h NamespaceHandler) *Namespace { panic("stub") }

// Of returns a registered namespace, or nil.
func (s *Server) Of(name string) *Namespace { panic("stub") }

// Shutdown disconnects every socket with ReasonServerShuttingDown.
func (s *Server) Shutdown(ctx context.Context) error { panic("stub") }

// Namespace is one Socket.IO namespace.
type Namespace struct{}

// Name returns the namespace name, e.g. "/".
func (n *Namespace) Name() string { panic("stub") }

// Adapter returns the namespace's room adapter.
func (n *Namespace) Adapter() Adapter { panic("stub") }

// Len returns the number of sockets connected to this namespace (this node).
func (n *Namespace) Len() int { panic("stub") }

// Socket returns a connected socket by id, or nil.
func (n *Namespace) Socket(id string) *Socket { panic("stub") }

// Broadcast emits event name with args (a JSON array) and attachments to
// the sockets opts selects, encoding the packet once.
func (n *Namespace) Broadcast(opts BroadcastOptions, name string, args []byte, atts [][]byte) {
	panic("stub")
}

// Socket is one client's connection to one namespace.
type Socket struct{}

// ID returns the socket id.
func (s *Socket) ID() string { panic("stub") }

// Namespace returns the socket's namespace.
func (s *Socket) Namespace() *Namespace { panic("stub") }

// Auth returns the CONNECT payload ({} when none).
func (s *Socket) Auth() json.RawMessage { panic("stub") }

// Transport returns the current transport of the underlying session.
func (s *Socket) Transport() string { panic("stub") }

// Handshake returns the underlying session's handshake.
func (s *Socket) Handshake() *engineio.Handshake { panic("stub") }

// Rooms returns the rooms the socket is in, sorted, its own id room included.
func (s *Socket) Rooms() []string { panic("stub") }

// Join adds the socket to rooms.
func (s *Socket) Join(rooms ...string) { panic("stub") }

// Leave removes the socket from room.
func (s *Socket) Leave(room string) { panic("stub") }

// Emit sends event name with args (a JSON array) and attachments.
func (s *Socket) Emit(name string, args []byte, atts [][]byte) error { panic("stub") }

// EmitWithAck sends an event with an ack id; cb gets the answer, or
// ErrAckTimeout after timeout, or ErrDisconnected, exactly once.
func (s *Socket) EmitWithAck(name string, args []byte, atts [][]byte, timeout time.Duration, cb func(AckResponse)) error {
	panic("stub")
}

// Ack answers the client's ack id once with args (a JSON array).
func (s *Socket) Ack(id uint64, args []byte, atts [][]byte) error { panic("stub") }

// Disconnect removes the socket from its namespace (DISCONNECT is sent);
// with closeSession the whole Engine.IO session is closed too.
func (s *Socket) Disconnect(closeSession bool) { panic("stub") }

// Connected reports whether the socket is still connected.
func (s *Socket) Connected() bool { panic("stub") }

// SetValue stores a value for the handler layer (e.g. plugin state).
func (s *Socket) SetValue(v any) { panic("stub") }

// Value returns what SetValue stored.
func (s *Socket) Value() any { panic("stub") }
