// Package engineio is a pure codec for the Engine.IO protocol, version 4.
//
// An Engine.IO packet is a one-character type (open '0', close '1', ping '2',
// pong '3', message '4', upgrade '5', noop '6') followed by its data. Over
// WebSocket each frame carries one packet: a text frame is the packet's text
// encoding, a binary frame is a binary message whose bytes are sent raw.
// Over HTTP long-polling a body is a payload: packets joined by the record
// separator 0x1e, binary messages written as 'b' followed by their standard
// base64 encoding. The data of a text packet must be valid UTF-8
// (ErrInvalidUTF8); binary messages carry any bytes.
//
// The package does no I/O, starts no goroutines and does not log. Decoders
// return packets whose Data aliases the input where possible; encoders append
// to a caller-supplied buffer so that a caller can reuse its buffers.
package engineio
