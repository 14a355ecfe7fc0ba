// Host functions of plugin ABI v1 (module "sockwasm_v1"), sdk/ABI.md
// section 4. A module imports only the functions it uses: the compiler
// drops the ones never called.

// @ts-ignore: decorator
@external("sockwasm_v1", "read_input")
export declare function read_input(buf: usize, limit: i32): i32;

// @ts-ignore: decorator
@external("sockwasm_v1", "read_attachment")
export declare function read_attachment(index: i32, buf: usize, limit: i32): i32;

// @ts-ignore: decorator
@external("sockwasm_v1", "ack")
export declare function ack(ackID: u64, args: usize, argsLen: i32, atts: usize, attsLen: i32): i32;

// @ts-ignore: decorator
@external("sockwasm_v1", "emit")
export declare function emit(name: usize, nameLen: i32, args: usize, argsLen: i32, atts: usize, attsLen: i32): i32;

// @ts-ignore: decorator
@external("sockwasm_v1", "broadcast")
export declare function broadcast(
  rooms: usize, roomsLen: i32, except: usize, exceptLen: i32, flags: i32,
  name: usize, nameLen: i32, args: usize, argsLen: i32, atts: usize, attsLen: i32,
): i32;

// @ts-ignore: decorator
@external("sockwasm_v1", "emit_with_ack")
export declare function emit_with_ack(
  name: usize, nameLen: i32, args: usize, argsLen: i32, atts: usize, attsLen: i32,
  timeoutMs: i32, ctx: usize, ctxLen: i32,
): i32;

// @ts-ignore: decorator
@external("sockwasm_v1", "join")
export declare function join(room: usize, roomLen: i32): i32;

// @ts-ignore: decorator
@external("sockwasm_v1", "leave")
export declare function leave(room: usize, roomLen: i32): i32;

// @ts-ignore: decorator
@external("sockwasm_v1", "disconnect")
export declare function disconnect(closeSession: i32): i32;

// @ts-ignore: decorator
@external("sockwasm_v1", "socket_id")
export declare function socket_id(buf: usize, limit: i32): i32;

// @ts-ignore: decorator
@external("sockwasm_v1", "namespace")
export declare function namespace(buf: usize, limit: i32): i32;

// @ts-ignore: decorator
@external("sockwasm_v1", "auth")
export declare function auth(buf: usize, limit: i32): i32;

// @ts-ignore: decorator
@external("sockwasm_v1", "transport")
export declare function transport(buf: usize, limit: i32): i32;

// @ts-ignore: decorator
@external("sockwasm_v1", "rooms")
export declare function rooms(buf: usize, limit: i32): i32;

// @ts-ignore: decorator
@external("sockwasm_v1", "room_size")
export declare function room_size(room: usize, roomLen: i32): i32;

// @ts-ignore: decorator
@external("sockwasm_v1", "client_count")
export declare function client_count(): i32;

// @ts-ignore: decorator
@external("sockwasm_v1", "reject")
export declare function reject(msg: usize, msgLen: i32, data: usize, dataLen: i32): i32;

// @ts-ignore: decorator
@external("sockwasm_v1", "engine_send")
export declare function engine_send(data: usize, dataLen: i32, binary: i32): i32;

// @ts-ignore: decorator
@external("sockwasm_v1", "log")
export declare function log(level: i32, msg: usize, msgLen: i32): void;

// Socket handshake and data, server-side room operations, per-event
// middleware, broadcast acks (sdk/ABI.md section 4, 4.1, 4.2).

// @ts-ignore: decorator
@external("sockwasm_v1", "handshake")
export declare function handshake(buf: usize, limit: i32): i32;

// @ts-ignore: decorator
@external("sockwasm_v1", "socket_data")
export declare function socket_data(buf: usize, limit: i32): i32;

// @ts-ignore: decorator
@external("sockwasm_v1", "set_socket_data")
export declare function set_socket_data(data: usize, dataLen: i32): i32;

// @ts-ignore: decorator
@external("sockwasm_v1", "broadcast_with_ack")
export declare function broadcast_with_ack(
  rooms: usize, roomsLen: i32, except: usize, exceptLen: i32, flags: i32,
  name: usize, nameLen: i32, args: usize, argsLen: i32, atts: usize, attsLen: i32,
  timeoutMs: i32, ctx: usize, ctxLen: i32,
): i32;

// @ts-ignore: decorator
@external("sockwasm_v1", "fetch_sockets")
export declare function fetch_sockets(rooms: usize, roomsLen: i32, except: usize, exceptLen: i32, buf: usize, limit: i32): i32;

// @ts-ignore: decorator
@external("sockwasm_v1", "sockets_join")
export declare function sockets_join(rooms: usize, roomsLen: i32, except: usize, exceptLen: i32, join: usize, joinLen: i32): i32;

// @ts-ignore: decorator
@external("sockwasm_v1", "sockets_leave")
export declare function sockets_leave(rooms: usize, roomsLen: i32, except: usize, exceptLen: i32, leave: usize, leaveLen: i32): i32;

// @ts-ignore: decorator
@external("sockwasm_v1", "disconnect_sockets")
export declare function disconnect_sockets(rooms: usize, roomsLen: i32, except: usize, exceptLen: i32, closeSession: i32): i32;

// @ts-ignore: decorator
@external("sockwasm_v1", "reject_event")
export declare function reject_event(msg: usize, msgLen: i32, data: usize, dataLen: i32): i32;

// Plugin state (sdk/ABI.md section 4.3). The kv_* functions need the grant
// "kv", timer_* the grant "timers".

// @ts-ignore: decorator
@external("sockwasm_v1", "config")
export declare function config(buf: usize, limit: i32): i32;

// @ts-ignore: decorator
@external("sockwasm_v1", "kv_get")
export declare function kv_get(key: usize, keyLen: i32, buf: usize, limit: i32): i32;

// @ts-ignore: decorator
@external("sockwasm_v1", "kv_set")
export declare function kv_set(key: usize, keyLen: i32, val: usize, valLen: i32, ttlMs: i64): i32;

// @ts-ignore: decorator
@external("sockwasm_v1", "kv_delete")
export declare function kv_delete(key: usize, keyLen: i32): i32;

// @ts-ignore: decorator
@external("sockwasm_v1", "kv_incr")
export declare function kv_incr(key: usize, keyLen: i32, delta: i64, out: usize): i32;

// @ts-ignore: decorator
@external("sockwasm_v1", "kv_cas")
export declare function kv_cas(
  key: usize, keyLen: i32, old: usize, oldLen: i32, val: usize, valLen: i32, flags: i32, ttlMs: i64,
): i32;

// @ts-ignore: decorator
@external("sockwasm_v1", "timer_set")
export declare function timer_set(delayMs: i32, repeat: i32, ctx: usize, ctxLen: i32): i32;

// @ts-ignore: decorator
@external("sockwasm_v1", "timer_cancel")
export declare function timer_cancel(id: i32): i32;

// Namespace broadcast: no socket needed (sdk/ABI.md section 4.4).

// @ts-ignore: decorator
@external("sockwasm_v1", "ns_broadcast")
export declare function ns_broadcast(
  nsp: usize, nspLen: i32, rooms: usize, roomsLen: i32, except: usize, exceptLen: i32, flags: i32,
  name: usize, nameLen: i32, args: usize, argsLen: i32, atts: usize, attsLen: i32,
): i32;

// Server-side events between the nodes of a cluster (sdk/ABI.md sections
// 4.4 and 4.5).

// @ts-ignore: decorator
@external("sockwasm_v1", "server_emit")
export declare function server_emit(
  nsp: usize, nspLen: i32, name: usize, nameLen: i32, args: usize, argsLen: i32,
  timeoutMs: i32, ctx: usize, ctxLen: i32,
): i32;

// @ts-ignore: decorator
@external("sockwasm_v1", "server_ack")
export declare function server_ack(id: u64, args: usize, argsLen: i32): i32;

// Outbound HTTP (sdk/ABI.md section 4.6); needs the grant "http".

// @ts-ignore: decorator
@external("sockwasm_v1", "http_request")
export declare function http_request(req: usize, reqLen: i32, body: usize, bodyLen: i32, ctx: usize, ctxLen: i32): i32;
