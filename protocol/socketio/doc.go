// Package socketio is a pure codec for the Socket.IO protocol, version 5
// (the protocol of Socket.IO v3 and v4 clients).
//
// It has no network, goroutine or logging code: bytes in, packets out, and
// back. A text packet looks like
//
//	<type>[<attachments>-][/<namespace>,][<ack id>][<JSON data>]
//
// where type is one of CONNECT 0, DISCONNECT 1, EVENT 2, ACK 3,
// CONNECT_ERROR 4, BINARY_EVENT 5 and BINARY_ACK 6. A BINARY_* packet is
// followed by as many binary messages (attachments) as it announces; its
// JSON data refers to them with placeholders {"_placeholder":true,"num":N}.
//
// JSON data is kept as raw bytes: the Decoder validates it (syntax, nesting
// depth, the shape each packet type requires, placeholders) with a small
// allocation-free scanner, and never decodes it into Go values. SplitEvent
// separates an event's name from its arguments, and AppendEventData joins
// them back, without touching the arguments' bytes; Packet.SplitEvent does
// it with what the Decoder found while validating, without parsing the
// name twice.
//
// A packet's Data and Attachments alias the messages it was decoded from;
// its Namespace and event name are strings of their own. A Decoder reuses
// the strings of the namespaces and event names its client sent last, so
// that decoding an EVENT or ACK allocates nothing in the usual case (a
// BINARY_* packet allocates its attachment list, which the packet keeps). Deconstruct and
// Reconstruct convert between Go values holding []byte and placeholders
// plus attachments, for code that does work with decoded values.
//
// Every error the package returns matches one of its Err* sentinels with
// errors.Is; JSON syntax errors are *SyntaxError values carrying the byte
// offset.
package socketio
