// Package engineio is the Engine.IO v4 server: an http.Handler that opens
// sessions over HTTP long-polling or WebSocket, upgrades polling sessions to
// WebSocket, keeps them alive with pings and hands their messages to a
// Handler through a small Receiver interface.
//
// # Sessions
//
// Each session has a crypto-random id, one bounded write queue and at most
// one live transport. Session.Send never blocks: it appends to the queue, and
// a session whose queue overflows is closed with ReasonWriteQueueFull, so a
// slow client can never stall a broadcast. Over WebSocket a writer goroutine
// runs only while the queue is non-empty; over polling the pending GET takes
// everything queued as one payload. What a transport has taken and not yet
// written still counts against the queue's limits.
//
// # Limits
//
// Every client is treated as hostile: whatever it can make the server hold
// has a limit in Options, with a default, and breaking it closes the
// session with one log line that names the reason.
//
//   - Memory: MaxPayload per incoming message or POST body (a
//     compressed WebSocket message by its inflated size),
//     WriteQueueSize and WriteQueueBytes per session for outgoing packets,
//     MaxHeaderBytes per request (431 above it; a session keeps its
//     handshake's headers and query, so they are bounded too).
//   - Time and goroutines: a client that stops polling or answering pings
//     is gone within PingInterval + PingTimeout (a pong counts only once its
//     ping has left the queue); every write has a WriteTimeout, including
//     a graceful close's flush; a POST body is read under ReadTimeout and
//     cut short when its session closes; an upgrade must finish within
//     UpgradeTimeout; ConfigureHTTPServer gives net/http the idle and
//     header timeouts.
//   - Requests: one POST at a time per session and one pending GET; an
//     overlapping request closes the session, as the reference server does.
//   - Text: WebSocket text frames and polling text packets must be UTF-8;
//     otherwise the session is closed with ReasonParseError (a WebSocket
//     with close status 1007, a POST with 400).
//
// # Compression
//
// As the reference server does, polling responses of at least
// HTTPCompressionThreshold bytes are compressed with gzip or deflate when
// the request accepts one (on by default), and WebSocket messages with
// permessage-deflate when PerMessageDeflate is set (off by default).
// Compressors are pooled and held only while they run: an idle session
// holds none.
//
// # Ordering
//
// One session's incoming packets take effect in arrival order. The
// Receiver's OnMessage is called inline from the goroutine that read the
// packet (the WebSocket read loop or the POST handler), never concurrently
// for one session, which gives the application back-pressure. OnClose is
// called exactly once, after the last OnMessage, from its own goroutine.
//
// # Heartbeat
//
// The server pings every PingInterval, starting when the handshake is
// queued, and closes the session with ReasonPingTimeout when no pong arrives
// within PingTimeout. Each session uses a single time.AfterFunc timer.
//
// # Closing
//
// Session.Close flushes what is queued before closing the transport: a
// pending poll is answered with the queued packets followed by a close
// packet, a WebSocket is closed with a close handshake after its queue has
// been written. The flush is bounded by WriteTimeout (a polling client's
// next GET also by PingInterval + PingTimeout); past it the transport is
// dropped. Errors (parse errors, ping timeouts, overflowing queues, failed
// writes) close at once: the queue is dropped, and a poll response or POST
// body under way is cut short.
//
// # Errors
//
// Bad requests are answered with HTTP 400 and the same JSON bodies as the
// reference server, e.g. {"code":1,"message":"Session ID unknown"}.
package engineio
