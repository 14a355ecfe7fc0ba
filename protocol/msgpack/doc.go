// Package msgpack is a pure codec for msgpack as notepack.io writes and
// reads it, the encoding of Socket.IO's msgpack formats: the packets of
// socket.io-msgpack-parser 3.0.2 (DecodePacket, AppendPacket) and, through
// package redisadapter, the Redis messages of @socket.io/redis-adapter. It
// has no network, goroutine or logging code.
//
// # Values
//
// The primitives (value headers, integers, floats, lengths) are read and
// written directly on byte slices by Reader and Writer (the tests decode
// what is written with github.com/vmihailenco/msgpack/v5, an independent
// decoder). Encoding writes integers in their
// smallest encoding, every other number as float64, strings as str,
// binary as bin and maps with string keys; AppendMsgpack transcodes JSON
// text to it, placeholders {"_placeholder":true,"num":N} becoming the
// binary values they stand for. Decoding follows notepack.io's decoder,
// timestamps and undefined included, and AppendJSON transcodes a value to
// the JSON a Node.js server would send its clients (numbers as JavaScript
// formats them, ill-formed UTF-8 replaced as Node.js does), binary values
// becoming placeholders and attachments. Everything a peer controls is
// bounded by Limits: nesting depth, binary values, and element counts by
// the bytes that remain, so that decoding allocates no more than a small
// multiple of a message's size.
//
// Where this package knowingly differs from Node.js: integers beyond 2^53
// are kept exact in both directions (JavaScript rounds them); integral
// numbers of 2^64 and more, which notepack.io encodes wrongly, are
// written as float64; objects keep their members in document order (a
// JavaScript object puts array-index keys first, and JSON.parse on the
// client does it again); a map with "_placeholder": true is refused, as it
// would read as a placeholder. The timestamp extension (type -1) is read
// as a date, as notepack.io 3 reads it (notepack.io 2.2, the parser's,
// reads it as [-1, Buffer]); no Socket.IO client writes it.
//
// # Packets
//
// With socket.io-msgpack-parser every Socket.IO packet is one msgpack map
// {type, nsp, data?, id?}, sent as one binary Engine.IO message: there are
// no BINARY_EVENT or BINARY_ACK packets and no attachments, binary values
// travel inline as bin (or as ext type 0, notepack.io's ArrayBuffer).
// DecodePacket turns such a message into a socketio.Packet whose Data is
// the JSON the JSON parser would deliver, placeholders and attachments
// included, so the rest of a server handles both formats alike;
// AppendPacket does the reverse, byte for byte as a Node.js server writes
// the same packet.
//
// Every error the package returns matches one of its Err* sentinels with
// errors.Is (or, for an event name, socketio.ErrEventName or
// socketio.ErrReservedEvent).
package msgpack
