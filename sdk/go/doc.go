// Package sockwasm is the Go SDK for sockwasm plugins: event handlers and
// connection middleware compiled to WebAssembly and run by the sockwasm
// host (plugin ABI version 1, described in sdk/ABI.md).
//
// A plugin is a main package built with standard Go:
//
//	GOOS=wasip1 GOARCH=wasm go build -buildmode=c-shared -o plugins/name.wasm ./path/to/plugin
//
// In c-shared mode the instance's _initialize runs the package init
// functions but not main: register handlers in init, and keep an empty main.
//
//	func init() {
//		sockwasm.OnEvent("echo", func(s *sockwasm.Socket, e *sockwasm.Event) {
//			if e.HasAck() {
//				e.Ack(e.Args(), e.Attachments()...)
//			}
//		})
//	}
//
//	func main() {}
//
// Each call is handled by one instance at a time, and instances are pooled
// and replaced at will: keep nothing between calls in package variables
// that matters. Values handed to a handler (the Socket, Event and
// AckResponse, Args and Value slices, Attachments) are valid only during that
// call: the SDK reuses them so that the hot path does not allocate (a heap
// allocation costs a Go guest more than the whole host round trip). Copy
// what must outlive the call.
//
// Arguments are raw JSON. Value gives allocation-light accessors
// (Index, Get, AsString, AsInt…) that scan the bytes without
// encoding/json; AppendString and friends build JSON output.
//
// Beyond events and acks: Socket.Handshake and Socket.Data/SetData (kept by
// the host, surviving reloads); broadcasts with To, In, Except, Volatile and
// EmitWithAck (all answers in one OnAckResponse call, AckResponse.Replies);
// server-side room operations (Broadcast.FetchSockets, SocketsJoin,
// SocketsLeave, DisconnectSockets); per-event middleware with
// OnEventMiddleware, which passes an event or refuses it with a *Rejection.
// Of(nsp) broadcasts to any namespace of the server without a socket
// (Socket.IO's io.of(nsp).to(room).emit), so OnInit, OnTimer and the
// engine handlers can emit too.
//
// Plugin state lives in the host too: KV is the plugin's key-value store
// (Get, Set with a TTL, Delete, Incr, CompareAndSwap), SetTimer and
// CancelTimer start and stop timers whose calls arrive in OnTimer, and
// Config returns the plugin's config table from server.toml, which OnInit
// can check once per version. KV and timers need the "kv" and "timers"
// grants in server.toml; all of them survive reloads. StartHTTP makes an
// outbound HTTP request to a URL under the plugin's http_allow (grant
// "http") and returns at once; its response comes later in OnHTTPResponse
// with the context bytes given to StartHTTP, about the socket of the
// handler that started it.
//
// Outside GOOS=wasip1 the package compiles too, and its host calls go to
// the in-memory host of package plugintest (sdk/go/plugintest) during a
// test, or return ErrNotAllowed without one. So a plugin's files need no
// wasip1 build tag, and its handlers are unit-tested with `go test` in the
// plugin's own package:
//
//	h := plugintest.New(t)
//	s := h.Socket(plugintest.SocketOptions{})
//	ack := s.EmitWithAck("echo", `[1]`).Ack() // ack.Args == `[1]`
//
// Package github.com/sockwasm/sockwasm/host/wasmtest loads the built .wasm
// into a real server in a test. `sockwasm new NAME --lang go` scaffolds a
// plugin with both a build target and a test.
package sockwasm
