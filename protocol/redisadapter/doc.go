// Package redisadapter is a pure codec for the Redis wire format of
// @socket.io/redis-adapter 8.3.0 and @socket.io/redis-emitter 5.1.0, so
// that a Go server can share rooms, broadcasts and requests with Node.js
// servers through Redis. It has no network, goroutine or logging code.
//
// # Classic adapter (createAdapter, PUBLISH/PSUBSCRIBE)
//
// Every namespace adapter has a uid, 6 characters of [A-Za-z0-9_-]
// (NewUID), and uses, with key "socket.io" by default:
//
//	<key>#<nsp>#           broadcasts (BroadcastChannel)
//	<key>#<nsp>#<room>#    broadcasts to exactly one room (RoomChannel)
//	<key>#<nsp>#*          the PSUBSCRIBE pattern for both (BroadcastPattern)
//	<key>-request#<nsp>#   requests (RequestChannel); NUMSUB counts servers
//	<key>-response#<nsp>#  responses (ResponseChannel)
//	<key>-response#<nsp>#<uid>#  responses to one server (SpecificResponseChannel)
//
// A broadcast is the msgpack array [uid, packet, opts] (Broadcast):
//
//	["RqHuyn", {"type": 2, "data": ["said", {...}], "nsp": "/"},
//	           {"rooms": ["r1"], "except": ["zXvl...AAAB"], "flags": {}}]
//
// The packet keeps type 2 (EVENT) even when its data holds binary values:
// they travel inline as msgpack bin, without placeholders or an
// attachment count, and the receiving server makes the packet a
// BINARY_EVENT for its clients. In Go, Packet.Data is the JSON text of
// the data, [event, ...args] as socketio.Packet.Data holds it, with
// socket.io placeholders {"_placeholder":true,"num":N} referring to
// Packet.Attachments; AppendBroadcast and DecodeBroadcast convert.
//
// Requests and responses are JSON, told apart from msgpack by their first
// byte ('{'), except the request of a broadcast with acknowledgements
// (type 7) and the acknowledgements (type 9), which are msgpack because
// they may carry binary values:
//
//	0 SOCKETS            {uid, requestId, type, rooms}      -> {requestId, sockets: [id...]}
//	1 ALL_ROOMS          {uid, requestId, type}             -> {requestId, rooms}
//	2 REMOTE_JOIN        {uid, type, opts: {rooms, except}, rooms}
//	3 REMOTE_LEAVE       {uid, type, opts: {rooms, except}, rooms}
//	4 REMOTE_DISCONNECT  {uid, type, opts: {rooms, except}, close}
//	5 REMOTE_FETCH       {uid, requestId, type, opts}       -> {requestId, sockets: [{id, handshake, rooms, data}...]}
//	6 SERVER_SIDE_EMIT   {uid, requestId?, type, data: [event, ...args]} -> {type: 6, requestId, data}
//	7 BROADCAST          msgpack {uid, requestId, type, packet, opts: {rooms, except, flags}}
//	                     -> {type: 8, requestId, clientCount}, then msgpack {type: 9, requestId, packet}
//
// Types 2, 3 and 4 also have a legacy form naming one socket, {uid,
// requestId, type, sid, room|close}, answered with {requestId}. The
// emitter's requests 2, 3 and 4 have no uid; its serverSideEmit and
// broadcasts have uid "emitter". requestIds are uid2(6) too
// (NewRequestID). AppendRequest, DecodeRequest, AppendResponse and
// DecodeResponse convert requests and responses, one Go type for each
// kind.
//
// # Sharded adapter (createShardedAdapter, SPUBLISH/SSUBSCRIBE)
//
// The sharded adapter is a socket.io-adapter ClusterAdapter. It uses
// <prefix>#<nsp>#, <prefix>#<nsp>#<room># for rooms with a channel of
// their own (depending on the subscription mode), and <prefix>#<nsp>#<uid>#
// for the responses to the server with uid uid (16 hex digits,
// NewClusterUID). Its messages are {type, data, uid, nsp} (ClusterMessage),
// JSON unless their data holds binary values, msgpack then.
//
// # msgpack
//
// The msgpack is notepack.io 3.0.1's, read and written by package
// protocol/msgpack (its Reader, Writer and transcoders, with the
// differences from Node.js its documentation lists); Limits and the
// errors of msgpack values are that package's.
//
// Every error the package returns matches one of its Err* sentinels with
// errors.Is.
package redisadapter
