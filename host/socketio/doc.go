// Package socketio is the Socket.IO v5 server layer of sockwasm. It sits on
// an Engine.IO server (host/engineio) as its Handler: every Engine.IO
// session is one client, multiplexing sockets of several namespaces.
//
// A namespace is served by a NamespaceHandler. Its calls for one client
// come inline from the Engine.IO receiver: in arrival order, one at a time,
// with no goroutine per message. A handler may keep the Socket and answer
// later (Socket.Ack, Socket.Emit are safe from any goroutine). An
// OnDisconnect caused from another goroutine is queued behind the handler
// call in progress, never run beside it.
//
// Event arguments stay raw JSON end to end: the event name is split off the
// packet without decoding the rest, and outgoing events are written around
// the caller's argument bytes. A broadcast is encoded once and the same
// messages are queued on every selected session; queues never block, a slow
// consumer is closed by the engine.
//
// Rooms live behind the Adapter interface; NewMemoryAdapter is the default,
// one per namespace. The server-side room operations (Namespace.FetchSockets,
// SocketsJoin, SocketsLeave, DisconnectSockets) and broadcasts with acks
// (Namespace.BroadcastWithAck, Socket.BroadcastWithAck) go through it too,
// so a cluster adapter can extend them to other nodes. Per-socket data
// (Socket.Data, SetData) lives with the Socket, whatever handler serves it.
//
// Behaviour follows the reference server (Node socket.io 4.8): CONNECT is
// answered with {"sid":...} (no connection-state recovery), an unknown
// namespace with CONNECT_ERROR {"message":"Invalid namespace"}, a malformed
// packet closes the Engine.IO session ("parse error"), and a client's
// DISCONNECT leaves one namespace only. Unlike the reference server, a
// packet for a namespace the client has not joined is ignored instead of
// closing the session, so a packet racing a server-side disconnect is
// harmless; and a second CONNECT to a namespace the client is already in is
// ignored.
package socketio
