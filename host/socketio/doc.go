// Package socketio is the Socket.IO v5 server layer of sockwasm. It sits on
// an Engine.IO server (host/engineio) as its Handler: every Engine.IO
// session is one client, multiplexing sockets of several namespaces.
//
// A namespace is served by a NamespaceHandler. Each client is the serial
// executor of its sockets' handler calls: calls caused by the client's own
// packets run inline on the Engine.IO receiver (in arrival order, one at
// a time, no goroutine per message); calls caused from elsewhere — an ack
// answered by another client, an ack timeout, a server-side disconnect —
// are queued to the client and run on a goroutine started for them, never
// on the goroutine that caused them. One client's handler calls therefore
// never delay another client's. A handler may keep the Socket and answer
// later (Socket.Ack, Socket.Emit are safe from any goroutine).
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
// packet closes the Engine.IO session ("parse error"), a packet out of
// sequence — a second CONNECT to a namespace joined, any other packet for
// a namespace not joined, a CONNECT_ERROR from the client — closes it too
// ("forced close"), and a client's DISCONNECT leaves one namespace only.
//
// What a client or a handler can make the server hold is bounded (Options):
// attachments per packet (10, as socket.io-parser), rooms per socket and
// room name bytes, namespace name bytes, dynamic namespaces (removed when
// empty, capped in number), pending acks and broadcasts with acks per
// socket. Outgoing args are checked to be JSON arrays of valid UTF-8.
package socketio
