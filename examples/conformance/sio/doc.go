//go:build wasip1

// Command sio is the plugin of the Socket.IO conformance server
// (plugins/conformance.wasm), the equivalent of the official suite's Node
// server: on connect (any namespace) it emits "auth" with the CONNECT
// payload byte for byte; on "/" it echoes "message" as "message-back"
// (attachments forwarded in order) and acks "message-with-ack" with the
// same arguments.
package main
