package plugin

// Names and values of the socket-facing part of ABI v1 that came with the
// handshake, socket data, server-side room operations, broadcast with acks
// and per-event middleware (sdk/ABI.md, section 4).

// Host function names of module sockwasm_v1.
const (
	fnHandshake         = "handshake"
	fnSocketData        = "socket_data"
	fnSetSocketData     = "set_socket_data"
	fnBroadcastWithAck  = "broadcast_with_ack"
	fnFetchSockets      = "fetch_sockets"
	fnSocketsJoin       = "sockets_join"
	fnSocketsLeave      = "sockets_leave"
	fnDisconnectSockets = "disconnect_sockets"
	fnRejectEvent       = "reject_event"
)

// More broadcast flags.
const (
	// BroadcastVolatile drops the packet for receivers whose transport is
	// not writable right now (a backlog is queued or an upgrade runs).
	BroadcastVolatile = 1 << 1
	// BroadcastCompress asks for compression. Accepted and ignored:
	// WebSocket per-message compression is off in this host.
	BroadcastCompress = 1 << 2
)

// FlagBroadcastAck marks the ACK_RESPONSE call of a broadcast_with_ack:
// args holds [[socketId, arg...], ...] (input frame flag).
const FlagBroadcastAck = 1 << 2
