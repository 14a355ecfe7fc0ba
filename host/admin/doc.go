// Package admin serves the official Socket.IO Admin UI
// (@socket.io/admin-ui 0.5.1) its namespace: the server side that the
// package's instrument() adds to a Node.js server, for a socketio.Server.
//
// The UI connects to the admin namespace ("/admin") with basic
// credentials checked against a bcrypt hash, or a session id it was
// given earlier, then receives:
//
//   - "session" (a new session id, after a login with credentials),
//     "config" (the supported features) and, in development mode,
//     "all_sockets" (every socket of this node);
//   - "server_stats" every two seconds: server id, host name, pid,
//     uptime, Engine.IO clients (and those on polling), sockets per
//     namespace and the aggregated events (connections, disconnections
//     by reason, packets and bytes in and out);
//   - in development mode, as they happen: "socket_connected",
//     "socket_updated" (a transport upgrade), "socket_disconnected",
//     "room_joined", "room_left", "event_received" and "event_sent".
//
// Unless read-only, it handles the UI's "emit", "join", "leave" and
// "_disconnect" requests on the sockets of a namespace, or of one room of
// it. A request naming a namespace that does not exist is ignored: unlike
// the Node.js package's io.of(), it never creates one.
//
// What an admin client can make the server hold is bounded: login
// attempts wait for one of a few bcrypt slots (MaxLogins), sessions are
// capped (MaxSessions, oldest evicted) and expire after SessionTTL, and
// all_sockets lists at most MaxListedSockets sockets.
package admin
