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
// everything queued as one payload.
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
// been written. Errors (parse errors, ping timeouts, overflowing queues)
// close at once.
//
// # Errors
//
// Bad requests are answered with HTTP 400 and the same JSON bodies as the
// reference server, e.g. {"code":1,"message":"Session ID unknown"}.
package engineio
