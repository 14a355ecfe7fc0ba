// Package plugintest runs a plugin's handlers in ordinary `go test`, with
// no WebAssembly build: an in-memory host (namespaces of fake sockets, the
// plugin's key-value store, timers and config) makes the calls of the ABI
// and records everything the handlers do.
//
// A plugin's handlers are registered in its init functions, so its test
// lives in the plugin's own package (package main, next to main.go) and
// its source files must build natively: give them no wasip1 build tag. The
// SDK compiles on every platform and, outside wasip1, sends its host calls
// to the Harness that New installs.
//
//	func TestEcho(t *testing.T) {
//		h := plugintest.New(t)
//		s := h.Socket(plugintest.SocketOptions{Auth: `{"token":"t"}`})
//		if c := s.Connect(); c.ConnectError != nil {
//			t.Fatal(c.ConnectError)
//		}
//		ack := s.EmitWithAck("echo", `[1]`).Ack()
//		if ack == nil || ack.Args != `[1]` {
//			t.Fatalf("ack = %+v", ack)
//		}
//	}
//
// Every delivery (Socket.Connect, Emit, EmitWithAck, EventMiddleware,
// Reply, ReplyTimeout, AckResponse, Disconnect, Harness.Init, FireTimer,
// RespondHTTP, FailHTTP, RoundTrip) returns a *Call record: the emits (to
// the socket or broadcast, with their rooms, exceptions, flags and the
// harness sockets they reached), the acks answered, rooms joined and left,
// disconnects, the middleware's verdict, socket data set, room operations,
// key-value operations, timers set and canceled, outbound HTTP requests
// started, log lines and failed host calls. Acks answered later (from an
// ACK_RESPONSE or HTTP_RESPONSE call) are also found with Socket.Ack, and
// every socket keeps what it received.
//
// The harness follows sdk/ABI.md: host functions not available in a kind
// of call return ErrNotAllowed (recorded in Call.Errors), an ack id is
// answered once, args must be JSON arrays, and so on. It does not make
// calls on its own: a timer fires when the test calls FireTimer, an
// outbound HTTP request is answered when the test calls RespondHTTP,
// FailHTTP or RoundTrip (an http.Handler as a fake transport), and the
// DISCONNECT call after a plugin disconnects a socket is made by
// Socket.Disconnect. Grants are not checked, and bare Engine.IO calls are
// not delivered.
//
// The SDK's handlers and host are process-wide: one Harness is active at a
// time in a test binary (New fails the test otherwise), so tests using
// plugintest must not call t.Parallel, and a test's subtests share its
// Harness or make their own when the test has none.
// To test the built .wasm in a real host, see package
// github.com/sockwasm/sockwasm/host/wasmtest.
package plugintest
