// Package sioclient is a small Socket.IO v4 client over WebSocket, for
// tests and tools: it joins one namespace, emits (with or without acks,
// with binary attachments), receives events and acks them. host/wasmtest
// and `sockwasm test` use it. It is not a replacement for the official
// clients: no reconnection, no long-polling.
package sioclient
