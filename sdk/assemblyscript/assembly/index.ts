// sockwasm AssemblyScript SDK: plugin ABI v1 (sdk/ABI.md) for AssemblyScript.
//
// A plugin registers its handlers in top-level code and re-exports the two
// ABI entry points from its entry file:
//
//   import { onEvent, Socket, Event } from "@sockwasm/sdk";
//   export { sockwasm_abi_v1, sockwasm_handle } from "@sockwasm/sdk";
//   onEvent("echo", (s: Socket, e: Event): void => { e.ack(e.args, e.attachments()); });
//
// JSON arguments are raw JSON text: pass a string ('[{"ok":true}]'), a
// Value (e.g. e.args, forwarded byte for byte) or UTF-8 bytes (Uint8Array).

import * as host from "./host";
import { Kind, Value, codePoints, quote, quoteAll } from "./json";

export { Kind, Value, codePoints, quote, quoteAll };

// ---------------------------------------------------------------- constants

/** Log levels of log(). */
export enum Level {
  Debug = 0,
  Info = 1,
  Warn = 2,
  Error = 3,
}

/** How a server→client ack ended (AckResponse.status), or a server-side emit's (onServerAck). */
export enum AckStatus {
  /** The client answered. */
  OK = 0,
  /** No answer within the timeout. */
  Timeout = 1,
  /** The socket left before answering. */
  Disconnected = 2,
}

/** Host function result codes (negative results; 0 and up is success). */
export namespace Err {
  /** A pointer/length pair is outside guest memory. */
  export const MEMORY: i32 = -1;
  /** Malformed argument (args not a JSON array, empty name or room…). */
  export const INVALID: i32 = -2;
  /** Attachment index out of range. */
  export const NOT_FOUND: i32 = -3;
  /** Not available in this kind of call. */
  export const NOT_ALLOWED: i32 = -4;
  /** The socket or session is gone. */
  export const DISCONNECTED: i32 = -5;
  /** A bound was hit (attachments, rooms, pending acks). */
  export const LIMIT: i32 = -6;
  /** No unanswered client ack with that id (or server-side event to answer). */
  export const UNKNOWN_ACK: i32 = -7;
  /** The host refused for another reason. */
  export const FAILED: i32 = -8;
  /** Other nodes of the cluster did not all answer in time. */
  export const TIMEOUT: i32 = -9;
  /** The cluster's store (Redis) cannot be reached. */
  export const UNAVAILABLE: i32 = -10;
}

/** Text for a host result code. */
export function errorText(code: i32): string {
  switch (code) {
    case Err.MEMORY: return "memory out of range";
    case Err.INVALID: return "invalid argument";
    case Err.NOT_FOUND: return "not found";
    case Err.NOT_ALLOWED: return "not allowed in this call";
    case Err.DISCONNECTED: return "disconnected";
    case Err.LIMIT: return "limit exceeded";
    case Err.UNKNOWN_ACK: return "unknown ack id";
    case Err.FAILED: return "refused by host";
    case Err.TIMEOUT: return "cluster request timed out";
    case Err.UNAVAILABLE: return "cluster store unavailable";
  }
  return code >= 0 ? "ok" : "error " + code.toString();
}

// @ts-ignore: decorator
@inline const KIND_MIDDLEWARE = 1;
// @ts-ignore: decorator
@inline const KIND_CONNECT = 2;
// @ts-ignore: decorator
@inline const KIND_EVENT = 3;
// @ts-ignore: decorator
@inline const KIND_ACK_RESPONSE = 4;
// @ts-ignore: decorator
@inline const KIND_DISCONNECT = 5;
// @ts-ignore: decorator
@inline const KIND_ENGINE_OPEN = 6;
// @ts-ignore: decorator
@inline const KIND_ENGINE_MESSAGE = 7;
// @ts-ignore: decorator
@inline const KIND_ENGINE_CLOSE = 8;
// @ts-ignore: decorator
@inline const KIND_EVENT_MIDDLEWARE = 9;
// @ts-ignore: decorator
@inline const KIND_INIT = 10;
// @ts-ignore: decorator
@inline const KIND_TIMER = 11;
// @ts-ignore: decorator
@inline const KIND_SERVER_EVENT = 12;
// @ts-ignore: decorator
@inline const KIND_SERVER_ACK = 13;
// @ts-ignore: decorator
@inline const KIND_HTTP_RESPONSE = 14;
// @ts-ignore: decorator
@inline const FLAG_BROADCAST_ACK: u16 = 4;
// @ts-ignore: decorator
@inline const BROADCAST_VOLATILE = 2;
// @ts-ignore: decorator
@inline const BROADCAST_COMPRESS = 4;
// @ts-ignore: decorator
@inline const KV_OLD_ABSENT = 1;
// @ts-ignore: decorator
@inline const KV_NEW_ABSENT = 2;
// @ts-ignore: decorator
@inline const FLAG_HAS_ACK: u16 = 1;
// @ts-ignore: decorator
@inline const FLAG_BINARY: u16 = 2;
// @ts-ignore: decorator
@inline const BROADCAST_EXCEPT_SENDER = 1;
// @ts-ignore: decorator
@inline const ATTACHMENT_REF: u32 = 0x80000000;
// @ts-ignore: decorator
@inline const FRAME_HEADER = 24;

// ------------------------------------------------------------- raw bytes

/**
 * The bytes of a JSON or data argument: a string (UTF-8 encoded), a Value
 * (as is), a Uint8Array or an ArrayBuffer.
 */
function raw<T>(v: T): Value {
  if (isNullable<T>()) {
    if (v == null) return Value.absent();
  }
  if (isString<T>()) return Value.of(changetype<string>(v));
  if (v instanceof Value) return changetype<Value>(v);
  if (v instanceof Uint8Array) {
    let a = changetype<Uint8Array>(v);
    return new Value(a.buffer, a.byteOffset, a.byteLength);
  }
  if (v instanceof ArrayBuffer) {
    let b = changetype<ArrayBuffer>(v);
    return new Value(b, 0, b.byteLength);
  }
  ERROR("sockwasm: expected string, Value, Uint8Array or ArrayBuffer");
  return Value.absent();
}

/** One binary attachment to send: bytes, or a reference to an input attachment. */
export class Blob {
  private constructor(readonly data: Uint8Array | null, readonly ref: i32) {}

  /** A Blob sending data. */
  static bytes(data: Uint8Array): Blob { return new Blob(data, -1); }

  /**
   * A reference to attachment index of the current call's input, forwarded by
   * the host without copying it through the guest.
   */
  static ref(index: i32): Blob { return new Blob(null, index); }
}

/** Encodes an attachment list (sdk/ABI.md section 4). */
function encodeBlobs(atts: Blob[] | null): Value {
  if (atts == null || atts.length == 0) return Value.absent();
  let size = 4;
  for (let i = 0; i < atts.length; i++) {
    let d = atts[i].data;
    size += 4 + (d != null ? d.byteLength : 0);
  }
  let buf = new ArrayBuffer(size);
  let p = changetype<usize>(buf);
  store<u32>(p, <u32>atts.length);
  let o: usize = 4;
  for (let i = 0; i < atts.length; i++) {
    let a = atts[i];
    let d = a.data;
    if (d == null) {
      store<u32>(p + o, ATTACHMENT_REF | <u32>a.ref);
      o += 4;
    } else {
      store<u32>(p + o, <u32>d.byteLength);
      memory.copy(p + o + 4, d.dataStart, <usize>d.byteLength);
      o += 4 + <usize>d.byteLength;
    }
  }
  return new Value(buf, 0, size);
}

/** Encodes a room list; empty for none. */
function encodeStrings(ss: string[]): Value {
  if (ss.length == 0) return Value.absent();
  let enc = new Array<ArrayBuffer>(ss.length);
  let size = 4;
  for (let i = 0; i < ss.length; i++) {
    enc[i] = String.UTF8.encode(ss[i]);
    size += 4 + enc[i].byteLength;
  }
  let buf = new ArrayBuffer(size);
  let p = changetype<usize>(buf);
  store<u32>(p, <u32>ss.length);
  let o: usize = 4;
  for (let i = 0; i < ss.length; i++) {
    let b = enc[i];
    store<u32>(p + o, <u32>b.byteLength);
    memory.copy(p + o + 4, changetype<usize>(b), <usize>b.byteLength);
    o += 4 + <usize>b.byteLength;
  }
  return new Value(buf, 0, size);
}

/** Decodes a room list. */
function decodeStrings(v: Value): string[] {
  let out = new Array<string>();
  if (v.length < 4) return out;
  let p = v.ptr, end = p + <usize>v.length;
  let n = load<u32>(p);
  p += 4;
  for (let i: u32 = 0; i < n; i++) {
    if (p + 4 > end) break;
    let len = <usize>load<u32>(p);
    p += 4;
    if (p + len > end) break;
    out.push(String.UTF8.decodeUnsafe(p, len));
    p += len;
  }
  return out;
}

// @ts-ignore: decorator
@inline const GET_SOCKET_ID = 0;
// @ts-ignore: decorator
@inline const GET_NAMESPACE = 1;
// @ts-ignore: decorator
@inline const GET_AUTH = 2;
// @ts-ignore: decorator
@inline const GET_TRANSPORT = 3;
// @ts-ignore: decorator
@inline const GET_ROOMS = 4;
// @ts-ignore: decorator
@inline const GET_HANDSHAKE = 5;
// @ts-ignore: decorator
@inline const GET_SOCKET_DATA = 6;
// @ts-ignore: decorator
@inline const GET_CONFIG = 7;

function callGetter(which: i32, buf: usize, limit: i32): i32 {
  switch (which) {
    case GET_HANDSHAKE: return host.handshake(buf, limit);
    case GET_SOCKET_DATA: return host.socket_data(buf, limit);
    case GET_CONFIG: return host.config(buf, limit);
    case GET_SOCKET_ID: return host.socket_id(buf, limit);
    case GET_NAMESPACE: return host.namespace(buf, limit);
    case GET_AUTH: return host.auth(buf, limit);
    case GET_TRANSPORT: return host.transport(buf, limit);
    case GET_ROOMS: return host.rooms(buf, limit);
  }
  return Err.INVALID;
}

/** Calls a buffer-filling host function, growing the buffer once. */
function getter(which: i32): Value {
  let buf = new ArrayBuffer(64);
  let n = callGetter(which, changetype<usize>(buf), 64);
  if (n < 0) return Value.absent();
  if (n > 64) {
    buf = new ArrayBuffer(n);
    let m = callGetter(which, changetype<usize>(buf), n);
    if (m < 0 || m > n) return Value.absent();
    n = m;
  }
  return new Value(buf, 0, n);
}

function readAttachment(i: i32): Uint8Array | null {
  let n = host.read_attachment(i, 0, 0);
  if (n < 0) return null;
  let out = new Uint8Array(n);
  if (n > 0 && host.read_attachment(i, out.dataStart, n) < 0) return null;
  return out;
}

const NO_BLOBS = new Array<Blob>(0);

function refs(n: i32): Blob[] {
  if (n == 0) return NO_BLOBS;
  let out = new Array<Blob>(n);
  for (let i = 0; i < n; i++) out[i] = Blob.ref(i);
  return out;
}

function sendAck<T>(id: u64, args: T, atts: Blob[] | null): i32 {
  let a = raw(args);
  let b = encodeBlobs(atts);
  return host.ack(id, a.ptr, a.length, b.ptr, b.length);
}

// ------------------------------------------------------------------ logging

/** Writes msg to the host log at level, tagged with the plugin and the socket. */
export function log(level: Level, msg: string): void {
  let b = String.UTF8.encode(msg);
  host.log(level, changetype<usize>(b), b.byteLength);
}

/**
 * The abort handler the build script installs (--use abort=…): logs the
 * message and location at error level, then traps (a fault: sdk/ABI.md
 * section 6).
 */
// @ts-ignore: decorator
@global export function sockwasmAbort(message: string | null, fileName: string | null, line: u32, column: u32): void {
  let m = "abort: " + (message != null ? message : "") + " at " +
    (fileName != null ? fileName : "?") + ":" + line.toString() + ":" + column.toString();
  log(Level.Error, m);
  unreachable();
}

// ------------------------------------------------------------------ frame

// The current call's input frame (sdk/ABI.md section 3), parsed into
// globals: an instance runs one call at a time. Frames up to INBUF_SIZE
// bytes are read into a static buffer (no allocation); field values hold
// absolute addresses (Value with a null buffer) or point into frameBuf.

// @ts-ignore: decorator
@inline const INBUF_SIZE = 16384;
const inbuf = memory.data(INBUF_SIZE, 16);

let frameBuf: ArrayBuffer | null = null;
let fKind: i32 = 0;
let fFlags: u16 = 0;
let fNatts: i32 = 0;
let fAckID: u64 = 0;
let fStatus: u32 = 0;
/** Offsets (from the frame's start) and lengths of the seven fields. */
const fOff = memory.data(7 * 4, 4);
const fLen = memory.data(7 * 4, 4);
let fRooms: i32 = 0;
let fRoomCount: i32 = 0;

// @ts-ignore: decorator
@inline const F_NAMESPACE = 0;
// @ts-ignore: decorator
@inline const F_SOCKET_ID = 1;
// @ts-ignore: decorator
@inline const F_NAME = 2;
// @ts-ignore: decorator
@inline const F_ARGS = 3;
// @ts-ignore: decorator
@inline const F_AUTH = 4;
// @ts-ignore: decorator
@inline const F_CONTEXT = 5;
// @ts-ignore: decorator
@inline const F_REASON = 6;

// @ts-ignore: decorator
@inline function frameBase(): usize {
  let b = frameBuf;
  return b != null ? changetype<usize>(b) : inbuf;
}

// @ts-ignore: decorator
@inline function fieldPtr(k: i32): usize {
  return frameBase() + <usize>load<i32>(fOff + (<usize>k << 2));
}

// @ts-ignore: decorator
@inline function fieldLen(k: i32): i32 {
  return load<i32>(fLen + (<usize>k << 2));
}

/** Field k of the frame as a Value. */
function field(k: i32): Value {
  let b = frameBuf;
  let off = load<i32>(fOff + (<usize>k << 2));
  let len = fieldLen(k);
  if (len == 0) return Value.absent();
  return b != null ? new Value(b, off, len) : new Value(null, <i32>inbuf + off, len);
}

/** Field k of the frame decoded as a string. */
function fieldString(k: i32): string {
  return String.UTF8.decodeUnsafe(fieldPtr(k), <usize>fieldLen(k));
}

/** A copy of field k. */
function fieldBytes(k: i32): Uint8Array {
  let n = fieldLen(k);
  let out = new Uint8Array(n);
  memory.copy(out.dataStart, fieldPtr(k), <usize>n);
  return out;
}

/** Reads and parses the current input frame; false when unreadable or malformed. */
function readFrame(n: i32): bool {
  if (n < 0) n = 0;
  frameBuf = null;
  let p = inbuf;
  let limit = INBUF_SIZE;
  if (n > INBUF_SIZE) {
    let b = new ArrayBuffer(n);
    frameBuf = b;
    p = changetype<usize>(b);
    limit = n;
  }
  let got = host.read_input(p, limit);
  if (got > limit) {
    let b = new ArrayBuffer(got);
    frameBuf = b;
    p = changetype<usize>(b);
    limit = got;
    got = host.read_input(p, limit);
    if (got > limit) return false;
  }
  if (got < 0) return false;
  return parseFrame(p, got);
}

/** Records field k at offset o; returns the offset after it, or -1 (kept -1 once malformed). */
// @ts-ignore: decorator
@inline function parseField(p: usize, n: i32, o: i32, k: i32): i32 {
  if (o < 0 || o > n - 4) return -1;
  let len = <i32>load<u32>(p + <usize>o);
  o += 4;
  if (len < 0 || len > n - o) return -1;
  store<i32>(fOff + (<usize>k << 2), o);
  store<i32>(fLen + (<usize>k << 2), len);
  return o + len;
}

function parseFrame(p: usize, n: i32): bool {
  if (n < FRAME_HEADER || load<u8>(p) != 1) return false;
  fKind = <i32>load<u8>(p, 1);
  fFlags = load<u16>(p, 2);
  fNatts = <i32>load<u32>(p, 4);
  fAckID = load<u64>(p, 8);
  fStatus = load<u32>(p, 16);
  // Unrolled: a loop costs a termination check per iteration in the host.
  let o = FRAME_HEADER;
  o = parseField(p, n, o, F_NAMESPACE);
  o = parseField(p, n, o, F_SOCKET_ID);
  o = parseField(p, n, o, F_NAME);
  o = parseField(p, n, o, F_ARGS);
  o = parseField(p, n, o, F_AUTH);
  o = parseField(p, n, o, F_CONTEXT);
  o = parseField(p, n, o, F_REASON);
  if (o < 0 || o > n - 4) return false;
  let count = <i32>load<u32>(p + <usize>o);
  o += 4;
  fRooms = o;
  fRoomCount = count;
  for (let k = 0; k < count; k++) {
    if (o > n - 4) return false;
    let len = <i32>load<u32>(p + <usize>o);
    o += 4;
    if (len < 0 || len > n - o) return false;
    o += len;
  }
  return true;
}

/** The rooms of a DISCONNECT frame. */
function frameRooms(): string[] {
  let out = new Array<string>(fRoomCount);
  let p = frameBase();
  let o = fRooms;
  for (let k = 0; k < fRoomCount; k++) {
    let len = <i32>load<u32>(p + <usize>o);
    o += 4;
    out[k] = String.UTF8.decodeUnsafe(p + <usize>o, <usize>len);
    o += len;
  }
  return out;
}

// ------------------------------------------------------------------ API

/**
 * Refuses a connection from the connection middleware: the client gets
 * CONNECT_ERROR {"message": message, "data": data}; data is JSON text,
 * omitted when null.
 */
export class ConnectError {
  constructor(public message: string, public data: string | null = null) {}
}

/** The client socket a call is about; valid during the call. */
export class Socket {
  private _id: string | null = null;
  private _nsp: string | null = null;
  private _auth: Value | null = null;

  /** The socket id. */
  get id(): string {
    let id = this._id;
    if (id == null) this._id = id = fieldString(F_SOCKET_ID);
    return id;
  }

  /** The namespace name, e.g. "/". */
  get namespace(): string {
    let n = this._nsp;
    if (n == null) this._nsp = n = fieldString(F_NAMESPACE);
    return n;
  }

  /** The CONNECT payload as raw JSON ({} when the client sent none). */
  get auth(): Value {
    let a = this._auth;
    if (a != null) return a;
    // An HTTP_RESPONSE frame's auth field holds the response headers.
    let b = fieldLen(F_AUTH) > 0 && fKind != KIND_HTTP_RESPONSE ? field(F_AUTH) : getter(GET_AUTH);
    this._auth = b;
    return b;
  }

  /** "polling" or "websocket". */
  get transport(): string { return getter(GET_TRANSPORT).toString(); }

  /**
   * The handshake as JSON (sdk/ABI.md section 4.1): headers, query,
   * address, issued, secure, xdomain, url, auth.
   */
  get handshake(): Value { return getter(GET_HANDSHAKE); }

  /**
   * The socket's data, kept by the host with the socket (it survives
   * reloads and is shared by the plugins serving the socket): JSON, absent
   * when never set.
   */
  data(): Value { return getter(GET_SOCKET_DATA); }

  /**
   * Replaces the socket's data with a JSON value (empty clears it). 0, or
   * Err.INVALID when not JSON, Err.LIMIT over the plugin's max socket data.
   */
  setData<T>(json: T): i32 {
    let d = raw(json);
    return min(host.set_socket_data(d.ptr, d.length), 0);
  }

  /** A volatile emit to this socket: dropped when its transport is not writable right now. */
  volatile(): Broadcast { return new Broadcast(BROADCAST_VOLATILE).to(this.id); }

  /** The rooms the socket is in, sorted, its own id room included. */
  rooms(): string[] { return decodeStrings(getter(GET_ROOMS)); }

  /** Adds the socket to room; 0 or an Err code. */
  join(room: string): i32 {
    let r = raw(room);
    return min(host.join(r.ptr, r.length), 0);
  }

  /** Removes the socket from room; 0 or an Err code. */
  leave(room: string): i32 {
    let r = raw(room);
    return min(host.leave(r.ptr, r.length), 0);
  }

  /** Number of sockets in room in this namespace, on every node of a
   * cluster; a negative Err code (Err.TIMEOUT, Err.UNAVAILABLE) when the
   * other nodes did not all answer. */
  roomSize(room: string): i32 {
    let r = raw(room);
    return host.room_size(r.ptr, r.length);
  }

  /** Number of sockets connected to this namespace, on every node of a
   * cluster; a negative Err code as for roomSize. */
  clientCount(): i32 { return host.client_count(); }

  /**
   * Sends event name with args (a JSON array) and attachments to this
   * socket; binary attachments go with placeholders in args
   * ({"_placeholder":true,"num":i}). 0 or an Err code.
   */
  emit<T>(name: string, args: T, atts: Blob[] | null = null): i32 {
    let nm = raw(name), a = raw(args), b = encodeBlobs(atts);
    return min(host.emit(nm.ptr, nm.length, a.ptr, a.length, b.ptr, b.length), 0);
  }

  /**
   * Sends an event asking the client for an ack. The answer, a timeout
   * (timeoutMs, 1…600000) or a disconnection comes later to the
   * onAckResponse handler with ctx back unchanged. 0 or an Err code (then
   * no response will come).
   */
  emitWithAck<T>(name: string, args: T, timeoutMs: i32, ctx: Uint8Array | null = null, atts: Blob[] | null = null): i32 {
    let nm = raw(name), a = raw(args), b = encodeBlobs(atts), c = raw(ctx);
    return min(host.emit_with_ack(nm.ptr, nm.length, a.ptr, a.length, b.ptr, b.length,
      timeoutMs < 1 ? 1 : timeoutMs, c.ptr, c.length), 0);
  }

  /** Answers the client's ack id with args, once (e.g. later, from onAckResponse). */
  ack<T>(id: u64, args: T, atts: Blob[] | null = null): i32 {
    return min(sendAck(id, args, atts), 0);
  }

  /** Disconnects the socket from its namespace after the call. */
  disconnect(): i32 { return min(host.disconnect(0), 0); }

  /** Disconnects the socket and closes its Engine.IO session after the call
   * (the session only when the plugin is routed in every namespace; see ABI.md). */
  closeConnection(): i32 { return min(host.disconnect(1), 0); }

  /** A broadcast to the sockets in room, this socket excluded (socket.to(room)). */
  to(room: string): Broadcast { return new Broadcast(BROADCAST_EXCEPT_SENDER).to(room); }

  /** A broadcast to the sockets in any of rooms, this socket excluded. */
  toRooms(rooms: string[]): Broadcast {
    let b = new Broadcast(BROADCAST_EXCEPT_SENDER);
    for (let i = 0; i < rooms.length; i++) b.to(rooms[i]);
    return b;
  }

  /** A broadcast to every socket of the namespace but this one. */
  broadcast(): Broadcast { return new Broadcast(BROADCAST_EXCEPT_SENDER); }
}

/** The receivers of a broadcast. */
export class Broadcast {
  private rooms: string[] = [];
  private excepts: string[] = [];

  constructor(private flags: i32) {}

  /** Adds a room to send to. */
  to(room: string): Broadcast { this.rooms.push(room); return this; }

  /** Excludes the members of room (a socket id excludes that socket). */
  except(room: string): Broadcast { this.excepts.push(room); return this; }

  /** Makes the broadcast reach the calling socket too. */
  includeSelf(): Broadcast { this.flags &= ~BROADCAST_EXCEPT_SENDER; return this; }

  /** Drops the packet for receivers whose transport is not writable right now. */
  volatile(): Broadcast { this.flags |= BROADCAST_VOLATILE; return this; }

  /** Socket.IO's compress flag (accepted; this host does not compress). */
  compress(on: bool): Broadcast {
    if (on) this.flags |= BROADCAST_COMPRESS;
    else this.flags &= ~BROADCAST_COMPRESS;
    return this;
  }

  /**
   * Sends an event to the selected sockets, each asked for an ack. Later one
   * onAckResponse call (r.isBroadcast) carries every answer (r.replies()),
   * with ctx; status Timeout when timeoutMs passed first. 0 or an Err code.
   */
  emitWithAck<T>(name: string, args: T, timeoutMs: i32, ctx: Uint8Array | null = null, atts: Blob[] | null = null): i32 {
    let r = encodeStrings(this.rooms), e = encodeStrings(this.excepts);
    let nm = raw(name), a = raw(args), b = encodeBlobs(atts), c = raw(ctx);
    return min(host.broadcast_with_ack(r.ptr, r.length, e.ptr, e.length, this.flags,
      nm.ptr, nm.length, a.ptr, a.length, b.ptr, b.length, timeoutMs < 1 ? 1 : timeoutMs, c.ptr, c.length), 0);
  }

  /**
   * The selected sockets (the calling one included when selected, whatever
   * includeSelf says): id, rooms, data. Empty on error.
   */
  fetchSockets(): RemoteSocket[] {
    let r = encodeStrings(this.rooms), e = encodeStrings(this.excepts);
    let out = new Array<RemoteSocket>();
    let size = 256;
    for (let tries = 0; tries < 8; tries++) {
      let buf = new ArrayBuffer(size);
      let n = host.fetch_sockets(r.ptr, r.length, e.ptr, e.length, changetype<usize>(buf), size);
      if (n < 0) return out;
      if (n <= size) {
        let list = new Value(buf, 0, n);
        let count = list.count();
        for (let i = 0; i < count; i++) {
          let o = list.at(i);
          let id = o.get("id").asString();
          let rooms = new Array<string>();
          let rl = o.get("rooms");
          let rc = rl.count();
          for (let k = 0; k < rc; k++) {
            let room = rl.at(k).asString();
            if (room != null) rooms.push(room);
          }
          out.push(new RemoteSocket(id != null ? id : "", rooms, o.get("data")));
        }
        return out;
      }
      size = n;
    }
    return out;
  }

  /** Makes the selected sockets join rooms. 0 or an Err code. */
  socketsJoin(rooms: string[]): i32 {
    let r = encodeStrings(this.rooms), e = encodeStrings(this.excepts), j = encodeStrings(rooms);
    return min(host.sockets_join(r.ptr, r.length, e.ptr, e.length, j.ptr, j.length), 0);
  }

  /** Makes the selected sockets leave rooms. 0 or an Err code. */
  socketsLeave(rooms: string[]): i32 {
    let r = encodeStrings(this.rooms), e = encodeStrings(this.excepts), l = encodeStrings(rooms);
    return min(host.sockets_leave(r.ptr, r.length, e.ptr, e.length, l.ptr, l.length), 0);
  }

  /** Disconnects the selected sockets after the call (closeSession: their Engine.IO
   * sessions too, when the plugin is routed in every namespace). */
  disconnectSockets(closeSession: bool = false): i32 {
    let r = encodeStrings(this.rooms), e = encodeStrings(this.excepts);
    return min(host.disconnect_sockets(r.ptr, r.length, e.ptr, e.length, closeSession ? 1 : 0), 0);
  }

  /** Sends event name with args and attachments; encoded once by the host. 0 or an Err code. */
  emit<T>(name: string, args: T, atts: Blob[] | null = null): i32 {
    let r = encodeStrings(this.rooms), e = encodeStrings(this.excepts);
    let nm = raw(name), a = raw(args), b = encodeBlobs(atts);
    return min(host.broadcast(r.ptr, r.length, e.ptr, e.length, this.flags,
      nm.ptr, nm.length, a.ptr, a.length, b.ptr, b.length), 0);
  }
}

/**
 * The sockets of this namespace in any of rooms (every socket when rooms is
 * empty), the calling one included: for a broadcast or the server-side
 * operations (fetchSockets, socketsJoin, socketsLeave, disconnectSockets).
 */
export function inRooms(rooms: string[] = []): Broadcast {
  let b = new Broadcast(0);
  for (let i = 0; i < rooms.length; i++) b.to(rooms[i]);
  return b;
}

/**
 * A broadcast to a namespace named by the plugin (Socket.IO's
 * io.of(nsp).to(room).emit(...)): it needs no socket, so it works in
 * onInit, onTimer, the engine handlers and the socket handlers alike, not
 * in the middleware ones (Err.NOT_ALLOWED).
 */
export class NamespaceBroadcast {
  private rooms: string[] = [];
  private excepts: string[] = [];
  private flags: i32 = 0;

  constructor(private nsp: string) {}

  /** Adds a room to send to (none: every socket of the namespace). */
  to(room: string): NamespaceBroadcast { this.rooms.push(room); return this; }

  /** Excludes the members of room (a socket id excludes that socket). */
  except(room: string): NamespaceBroadcast { this.excepts.push(room); return this; }

  /** Drops the packet for receivers whose transport is not writable right now. */
  volatile(): NamespaceBroadcast { this.flags |= BROADCAST_VOLATILE; return this; }

  /** Socket.IO's compress flag (accepted; this host does not compress). */
  compress(on: bool): NamespaceBroadcast {
    if (on) this.flags |= BROADCAST_COMPRESS;
    else this.flags &= ~BROADCAST_COMPRESS;
    return this;
  }

  /**
   * serverEmit to this namespace (Socket.IO's io.of(nsp).serverSideEmit);
   * the rooms and flags do not apply.
   */
  serverSideEmit<T>(name: string, args: T, timeoutMs: i32 = 0, ctx: Uint8Array | null = null): i32 {
    return serverEmit(this.nsp, name, args, timeoutMs, ctx);
  }

  /**
   * Sends event name with args and attachments to the selected sockets of
   * the namespace; encoded once by the host. 0 or an Err code (Err.NOT_FOUND
   * when the namespace does not exist on the server).
   */
  emit<T>(name: string, args: T, atts: Blob[] | null = null): i32 {
    let r = encodeStrings(this.rooms), e = encodeStrings(this.excepts);
    let ns = raw(this.nsp), nm = raw(name), a = raw(args), b = encodeBlobs(atts);
    return min(host.ns_broadcast(ns.ptr, ns.length, r.ptr, r.length, e.ptr, e.length, this.flags,
      nm.ptr, nm.length, a.ptr, a.length, b.ptr, b.length), 0);
  }
}

/** Starts a broadcast to namespace nsp, e.g. "/chat" (Socket.IO's io.of(nsp)). */
export function ofNamespace(nsp: string): NamespaceBroadcast { return new NamespaceBroadcast(nsp); }

/**
 * Sends event name with args (a JSON array, no binary) to the other nodes
 * of the cluster serving namespace nsp: Socket.IO's
 * io.of(nsp).serverSideEmit(name, ...args). They get it in their
 * onServerEvent handler (a Node.js node in its io.on(name) listeners); this
 * node never gets its own. The namespace rule is ofNamespace's: a namespace
 * the plugin serves, or one granted ("emit:/nsp"). Not in the middleware
 * handlers (Err.NOT_ALLOWED).
 *
 * With timeoutMs 0 nothing comes back. With timeoutMs 1…600000 every other
 * node is asked for one answer: later one onServerAck call carries the
 * answers with a copy of ctx, AckStatus.OK once all have come,
 * AckStatus.Timeout with those that came by timeoutMs. With no other node
 * (or the memory adapter) that call comes at once, with no answers; asking
 * again from it chains, bounded by max_call_chain (Err.LIMIT).
 *
 * 0 or an Err code (Err.INVALID for args that are not a JSON array or a
 * timeout out of range, Err.NOT_FOUND for an unknown namespace, Err.LIMIT
 * over a budget); after an error no onServerAck call comes.
 */
export function serverEmit<T>(nsp: string, name: string, args: T, timeoutMs: i32 = 0, ctx: Uint8Array | null = null): i32 {
  let ns = raw(nsp), nm = raw(name), a = raw(args), c = raw(ctx);
  return min(host.server_emit(ns.ptr, ns.length, nm.ptr, nm.length, a.ptr, a.length, timeoutMs, c.ptr, c.length), 0);
}

/**
 * A server-side event another node of the cluster sent to a namespace this
 * plugin handles (Socket.IO's serverSideEmit): from a sockwasm node
 * (serverEmit) or a Node.js one. Valid during the onServerEvent call.
 */
export class ServerEvent {
  constructor(
    /** The namespace it was sent to, e.g. "/". */
    readonly namespace: string,
    /** The event name. */
    readonly name: string,
    /** The arguments: a JSON array (no binary). */
    readonly args: Value,
    /** Whether the sender waits for this node's answer (ack). */
    readonly hasAck: bool,
    /** The frame's ack id (1 when hasAck). */
    readonly ackID: u64,
  ) {}

  /** Argument i, or the absent value. */
  arg(i: i32): Value { return this.args.at(i); }

  /**
   * Answers the sender with the first element of args (a JSON array; null
   * when empty), the one value a Socket.IO server's callback passes back.
   * Once, during the onServerEvent call: 0, Err.UNKNOWN_ACK when the sender
   * expects no answer or it was given, Err.INVALID when args is not a JSON
   * array.
   */
  ack<T>(args: T): i32 {
    if (!this.hasAck) return Err.UNKNOWN_ACK;
    let a = raw(args);
    return min(host.server_ack(this.ackID, a.ptr, a.length), 0);
  }
}

/** A socket described by Broadcast.fetchSockets. */
export class RemoteSocket {
  constructor(
    /** The socket id. */
    readonly id: string,
    /** Its rooms, sorted, its own id room included. */
    readonly rooms: string[],
    /** Its data (JSON null when never set). */
    readonly data: Value,
  ) {}
}

/** One socket's answer to Broadcast.emitWithAck. */
export class BroadcastReply {
  constructor(
    /** The socket that answered. */
    readonly socketID: string,
    /** Its ack arguments, a JSON array. */
    readonly args: Value,
  ) {}
}

/**
 * Refuses an event in per-event middleware: its handler is not called and
 * the client's ack, if any, gets [{"error": message, "data": data}] (data is
 * JSON text, omitted when null).
 */
export class Rejection {
  constructor(public message: string, public data: string | null = null) {}
}

/** One event from a client. */
export class Event {
  constructor(
    /** The event name. */
    readonly name: string,
    /** The arguments: a JSON array, binary placeholders in place. */
    readonly args: Value,
    /** Number of binary attachments. */
    readonly numAttachments: i32,
    /** Whether the client asked for an ack. */
    readonly hasAck: bool,
    /** The client's ack id (valid when hasAck), to answer later with Socket.ack. */
    readonly ackID: u64,
  ) {}

  /** Argument i, or the absent value. */
  arg(i: i32): Value { return this.args.at(i); }

  /** Answers the client's ack with args and attachments. 0 or an Err code. */
  ack<T>(args: T, atts: Blob[] | null = null): i32 {
    if (!this.hasAck) return Err.UNKNOWN_ACK;
    return min(sendAck(this.ackID, args, atts), 0);
  }

  /** A copy of attachment i, or null. */
  attachment(i: i32): Uint8Array | null { return readAttachment(i); }

  /** References to all attachments, in order, to forward them unchanged. */
  attachments(): Blob[] { return refs(this.numAttachments); }
}

/** A client's answer to Socket.emitWithAck, or its absence. */
export class AckResponse {
  constructor(
    /** Whether the client answered. */
    readonly status: AckStatus,
    /** The ctx given to emitWithAck. */
    readonly context: Uint8Array,
    /** The client's ack arguments (a JSON array; [] without answer). */
    readonly args: Value,
    /** Number of binary attachments of the answer. */
    readonly numAttachments: i32,
    /** Whether this answers a Broadcast.emitWithAck (see replies()). */
    readonly isBroadcast: bool = false,
  ) {}

  /** Whether the client answered (for a broadcast: every selected socket answered or left). */
  get ok(): bool { return this.status == AckStatus.OK; }

  /** The answers to a Broadcast.emitWithAck, in arrival order. */
  replies(): BroadcastReply[] {
    let out = new Array<BroadcastReply>();
    if (!this.isBroadcast) return out;
    let n = this.args.count();
    for (let i = 0; i < n; i++) {
      let x = this.args.at(i);
      let id = x.at(0).asString();
      let args = "[";
      let m = x.count();
      for (let k = 1; k < m; k++) {
        if (k > 1) args += ",";
        args += x.at(k).toString();
      }
      out.push(new BroadcastReply(id != null ? id : "", Value.of(args + "]")));
    }
    return out;
  }

  /** Argument i of the answer, or the absent value. */
  arg(i: i32): Value { return this.args.at(i); }

  /** A copy of attachment i of the answer, or null. */
  attachment(i: i32): Uint8Array | null { return readAttachment(i); }

  /** References to the answer's attachments. */
  attachments(): Blob[] { return refs(this.numAttachments); }
}

/** A session of a bare Engine.IO endpoint. */
export class Conn {
  constructor(readonly id: string) {}

  /** "polling" or "websocket". */
  get transport(): string { return getter(GET_TRANSPORT).toString(); }

  /** Sends one message: data is a string, Value, Uint8Array or ArrayBuffer. 0 or an Err code. */
  send<T>(data: T, binary: bool = false): i32 {
    let d = raw(data);
    return min(host.engine_send(d.ptr, d.length, binary ? 1 : 0), 0);
  }
}

// ------------------------------------------------------------ registration

class EventHandler {
  constructor(readonly name: string, readonly utf8: ArrayBuffer, readonly fn: (s: Socket, e: Event) => void) {}
}

let middleware: ((s: Socket) => ConnectError | null) | null = null;
let connectFn: ((s: Socket) => void) | null = null;
let anyFn: ((s: Socket, e: Event) => void) | null = null;
let ackResponseFn: ((s: Socket, r: AckResponse) => void) | null = null;
let disconnectFn: ((s: Socket, reason: string, rooms: string[]) => void) | null = null;
let engineOpenFn: ((c: Conn) => void) | null = null;
let engineMessageFn: ((c: Conn, data: Uint8Array, binary: bool) => void) | null = null;
let engineCloseFn: ((c: Conn, reason: string) => void) | null = null;
let eventMiddlewareFn: ((s: Socket, e: Event) => Rejection | null) | null = null;
let initFn: ((config: Value) => string | null) | null = null;
let timerFn: ((id: i32, ctx: Uint8Array) => void) | null = null;
let serverEventFn: ((e: ServerEvent) => void) | null = null;
let serverAckFn: ((nsp: string, status: AckStatus, answers: Value, ctx: Uint8Array) => void) | null = null;
let httpResponseFn: ((r: HTTPResponse) => void) | null = null;
const events = new Array<EventHandler>();

/**
 * Registers the connection middleware: it runs before a socket joins its
 * namespace; returning a ConnectError refuses it. Without it every
 * connection is accepted.
 */
export function onConnect(fn: (s: Socket) => ConnectError | null): void { middleware = fn; }

/** Registers the handler run once a socket has connected (it may emit). */
export function onConnection(fn: (s: Socket) => void): void { connectFn = fn; }

/** Registers the handler of event name (the last registration wins). */
export function onEvent(name: string, fn: (s: Socket, e: Event) => void): void {
  let h = new EventHandler(name, String.UTF8.encode(name), fn);
  for (let i = 0; i < events.length; i++) {
    if (events[i].name == name) { events[i] = h; return; }
  }
  events.push(h);
}

/**
 * Registers the handler of events without their own onEvent handler.
 * Without it such events are ignored.
 */
export function onAny(fn: (s: Socket, e: Event) => void): void { anyFn = fn; }

/** Registers the handler of answers (or timeouts) to Socket.emitWithAck. */
export function onAckResponse(fn: (s: Socket, r: AckResponse) => void): void { ackResponseFn = fn; }

/**
 * Registers the handler run when a socket leaves, with the reason and the
 * rooms it was in (its own id room excluded). It can no longer emit to the
 * socket, but broadcasts work.
 */
export function onDisconnect(fn: (s: Socket, reason: string, rooms: string[]) => void): void { disconnectFn = fn; }

/** Registers the handler of new sessions on a bare Engine.IO endpoint. */
export function onEngineOpen(fn: (c: Conn) => void): void { engineOpenFn = fn; }

/** Registers the handler of messages on a bare Engine.IO endpoint. */
export function onEngineMessage(fn: (c: Conn, data: Uint8Array, binary: bool) => void): void { engineMessageFn = fn; }

/** Registers the handler of closed sessions on a bare Engine.IO endpoint. */
export function onEngineClose(fn: (c: Conn, reason: string) => void): void { engineCloseFn = fn; }

/**
 * Registers the per-event middleware (Socket.IO's socket.use): it sees each
 * event routed through it before the handler and returns null to pass it or
 * a Rejection to refuse it. Besides rejecting it may only change the
 * socket's data (Socket.setData).
 */
export function onEventMiddleware(fn: (s: Socket, e: Event) => Rejection | null): void { eventMiddlewareFn = fn; }

/**
 * Registers the INIT handler, called once per new version of the plugin
 * with its config table from server.toml (JSON, {} when none). Returning an
 * error message refuses the version; null accepts it.
 */
export function onInit(fn: (config: Value) => string | null): void { initFn = fn; }

/** Registers the handler of timers started with setTimer: the timer id and its ctx. */
export function onTimer(fn: (id: i32, ctx: Uint8Array) => void): void { timerFn = fn; }

/**
 * Registers the handler of server-side events from the other nodes of the
 * cluster (serverEmit there, Socket.IO's serverSideEmit): e.ack(args)
 * answers one that asks for it (e.hasAck). They come one at a time, in
 * arrival order, without a socket; the handler may use ofNamespace and
 * serverEmit. Without it such events are ignored (and the sender's wait
 * for this node's answer times out).
 */
export function onServerEvent(fn: (e: ServerEvent) => void): void { serverEventFn = fn; }

/**
 * Registers the handler of the answers to serverEmit with a timeout: the
 * namespace it was sent to, AckStatus.OK when every other node answered or
 * AckStatus.Timeout when not in time, the answers (a JSON array, one
 * element per node that answered, [] with no other node) and the ctx
 * given to serverEmit.
 */
export function onServerAck(fn: (nsp: string, status: AckStatus, answers: Value, ctx: Uint8Array) => void): void {
  serverAckFn = fn;
}

/**
 * Registers the handler of the responses to httpRequest: the response, or
 * why there is none (r.failure), with the ctx given to httpRequest. When
 * the request was started in a call about a socket, r.socket is that
 * socket (the handler may emit to it, ack, disconnect it…); else null.
 */
export function onHTTPResponse(fn: (r: HTTPResponse) => void): void { httpResponseFn = fn; }

/** The plugin's config table from server.toml as JSON ({} when none). */
export function config(): Value { return getter(GET_CONFIG); }

/**
 * Starts a timer (grant "timers"): after delayMs (≥ 1), and with repeat
 * every delayMs (≥ 10), the host calls the onTimer handler with the id and
 * a copy of ctx. Returns the id (> 0) or an Err code.
 */
export function setTimer(delayMs: i32, repeat: bool = false, ctx: Uint8Array | null = null): i32 {
  let c = raw(ctx);
  return host.timer_set(delayMs, repeat ? 1 : 0, c.ptr, c.length);
}

/** Cancels a pending timer. 0, or Err.NOT_FOUND when it is not pending. */
export function cancelTimer(id: i32): i32 { return min(host.timer_cancel(id), 0); }

/** Why an outbound HTTP request has no response (HTTPResponse.failure). */
export namespace HTTPFailure {
  /** A redirect led outside http_allow; it was not followed. */
  export const NOT_ALLOWED = "not_allowed";
  /** No complete response within the plugin's http_timeout. */
  export const TIMEOUT = "timeout";
  /** The body was over max_http_response_bytes. */
  export const TOO_LARGE = "too_large";
  /** The connection failed, the name did not resolve, TLS failed, too many redirects… */
  export const FAILED = "failed";
}

/**
 * Starts an outbound HTTP request (grant "http"; the URL must be under one
 * of the plugin's http_allow prefixes) and returns its id (> 0) at once, or
 * an Err code: Err.NOT_ALLOWED outside http_allow (or in onConnect,
 * onEventMiddleware, onInit), Err.INVALID for a bad method, URL or header,
 * Err.LIMIT with max_http_concurrent requests in flight or a body or ctx
 * too large. The response comes later in an onHTTPResponse call with a
 * copy of ctx. headers is a JSON object of strings, e.g.
 * '{"content-type":"application/json"}'; body is sent as UTF-8.
 */
export function httpRequest(method: string, url: string, headers: string | null = null, body: string | null = null,
  ctx: Uint8Array | null = null): i32 {
  return httpRequestBytes(method, url, headers, body != null ? Uint8Array.wrap(String.UTF8.encode(body)) : null, ctx);
}

/** httpRequest with a binary body. */
export function httpRequestBytes(method: string, url: string, headers: string | null = null, body: Uint8Array | null = null,
  ctx: Uint8Array | null = null): i32 {
  let d = raw('{"method":' + quote(method) + ',"url":' + quote(url) + ',"headers":' + (headers != null ? headers : "{}") + "}");
  let b = raw(body), c = raw(ctx);
  return host.http_request(d.ptr, d.length, b.ptr, b.length, c.ptr, c.length);
}

/** The outcome of an httpRequest: a response (failure empty), or why there is none. */
export class HTTPResponse {
  constructor(
    /** The id httpRequest returned. */
    readonly id: i32,
    /** The HTTP status code; 0 on failure. */
    readonly status: i32,
    /** Empty when a response came, else an HTTPFailure value. */
    readonly failure: string,
    /** What failed, for a person; empty when a response came. */
    readonly detail: string,
    /** The response headers as a JSON object: lower-case names, repeated values joined with ", ". */
    readonly headers: Value,
    /** The body (raw bytes; parse JSON with json()). */
    readonly body: Uint8Array,
    /** The ctx given to httpRequest. */
    readonly context: Uint8Array,
    /** The socket of the call that started the request, or null. */
    readonly socket: Socket | null,
  ) {}

  /** Whether a response came with a 2xx status. */
  get ok(): bool { return this.failure.length == 0 && this.status >= 200 && this.status < 300; }

  /** The value of header name (lower case), or null. */
  header(name: string): string | null { return this.headers.get(name).asString(); }

  /** The body as UTF-8 text. */
  text(): string { return String.UTF8.decodeUnsafe(this.body.dataStart, <usize>this.body.length); }

  /** The body as raw JSON. */
  json(): Value { return new Value(this.body.buffer, this.body.byteOffset, this.body.byteLength); }
}

/**
 * The plugin's key-value store in the host (grant "kv"), shared by every
 * instance and version of the plugin. Values are bytes; strings are stored
 * as UTF-8.
 */
export namespace kv {
  /** The result code of the last get or incr: 0, or an Err code (Err.NOT_FOUND: absent). */
  export let lastError: i32 = 0;

  /** The value of key, or null when absent, expired or on error (see lastError). */
  export function get(key: string): Uint8Array | null {
    let k = raw(key);
    let size = 256;
    for (let tries = 0; tries < 4; tries++) {
      let out = new Uint8Array(size);
      let n = host.kv_get(k.ptr, k.length, out.dataStart, size);
      if (n < 0) { lastError = n; return null; }
      if (n <= size) { lastError = 0; return out.subarray(0, n); }
      size = n;
    }
    lastError = Err.FAILED;
    return null;
  }

  /** The value of key as a string, or null. */
  export function getString(key: string): string | null {
    let v = get(key);
    return v != null ? String.UTF8.decodeUnsafe(v.dataStart, <usize>v.length) : null;
  }

  /** Stores value (string, Value, Uint8Array or ArrayBuffer) at key, expiring after ttlMs (0: never). 0 or an Err code. */
  export function set<T>(key: string, value: T, ttlMs: i64 = 0): i32 {
    let k = raw(key), v = raw(value);
    return min(host.kv_set(k.ptr, k.length, v.ptr, v.length, ttlMs), 0);
  }

  /** Removes key: 1 when it existed, 0 when not, or an Err code. */
  export function remove(key: string): i32 {
    let k = raw(key);
    return host.kv_delete(k.ptr, k.length);
  }

  /**
   * Adds delta to the decimal integer at key (absent counts as 0) and
   * returns the new value; 0 with lastError set on error.
   */
  export function incr(key: string, delta: i64 = 1): i64 {
    let k = raw(key);
    let out = memory.data(8, 8);
    let rc = host.kv_incr(k.ptr, k.length, delta, out);
    lastError = min(rc, 0);
    return rc < 0 ? 0 : load<i64>(out);
  }

  /**
   * Atomically replaces the value of key by newValue if it is oldValue:
   * 1 when swapped, 0 when not, or an Err code. A null oldValue means "key
   * absent"; a null newValue deletes the key.
   */
  export function compareAndSwap<O, N>(key: string, oldValue: O, newValue: N, ttlMs: i64 = 0): i32 {
    let flags = 0;
    if (isNullable<O>()) { if (oldValue == null) flags |= KV_OLD_ABSENT; }
    if (isNullable<N>()) { if (newValue == null) flags |= KV_NEW_ABSENT; }
    let k = raw(key), o = raw(oldValue), n = raw(newValue);
    return host.kv_cas(k.ptr, k.length, o.ptr, o.length, n.ptr, n.length, flags, ttlMs);
  }
}

// ------------------------------------------------------------------ dispatch

/** Whether a[0..n) == b[0..n), in words (few loop iterations for short names). */
function bytesEqual(a: usize, b: usize, n: i32): bool {
  while (n >= 8) {
    if (load<u64>(a) != load<u64>(b)) return false;
    a += 8; b += 8; n -= 8;
  }
  if (n >= 4) {
    if (load<u32>(a) != load<u32>(b)) return false;
    a += 4; b += 4; n -= 4;
  }
  if (n >= 2) {
    if (load<u16>(a) != load<u16>(b)) return false;
    a += 2; b += 2; n -= 2;
  }
  return n == 0 || load<u8>(a) == load<u8>(b);
}

function findEvent(): EventHandler | null {
  let p = fieldPtr(F_NAME), n = fieldLen(F_NAME);
  for (let i = 0, k = events.length; i < k; i++) {
    let h = unchecked(events[i]);
    if (h.utf8.byteLength == n && bytesEqual(changetype<usize>(h.utf8), p, n)) return h;
  }
  return null;
}

function dispatch(kind: i32, n: i32): i32 {
  if (!readFrame(n) || fKind != kind) return 1;
  switch (kind) {
    case KIND_ENGINE_OPEN: case KIND_ENGINE_MESSAGE: case KIND_ENGINE_CLOSE: {
      let c = new Conn(fieldString(F_SOCKET_ID));
      if (kind == KIND_ENGINE_OPEN) {
        let fn = engineOpenFn;
        if (fn) fn(c);
      } else if (kind == KIND_ENGINE_MESSAGE) {
        let fn = engineMessageFn;
        if (fn) fn(c, fieldBytes(F_ARGS), (fFlags & FLAG_BINARY) != 0);
      } else {
        let fn = engineCloseFn;
        if (fn) fn(c, fieldString(F_REASON));
      }
      return 0;
    }
  }
  switch (kind) {
    case KIND_INIT: {
      let fn = initFn;
      if (fn) {
        let err = fn(field(F_ARGS));
        if (err != null) {
          log(Level.Error, "init: " + err);
          return 1;
        }
      }
      return 0;
    }
    case KIND_TIMER: {
      let fn = timerFn;
      if (fn) fn(<i32>fAckID, fieldBytes(F_CONTEXT));
      return 0;
    }
    case KIND_SERVER_EVENT: {
      let fn = serverEventFn;
      if (fn) {
        fn(new ServerEvent(fieldString(F_NAMESPACE), fieldString(F_NAME), field(F_ARGS),
          (fFlags & FLAG_HAS_ACK) != 0, fAckID));
      }
      return 0;
    }
    case KIND_SERVER_ACK: {
      let fn = serverAckFn;
      if (fn) fn(fieldString(F_NAMESPACE), <AckStatus>fStatus, field(F_ARGS), fieldBytes(F_CONTEXT));
      return 0;
    }
    case KIND_HTTP_RESPONSE: {
      let fn = httpResponseFn;
      if (fn) {
        let sock: Socket | null = fieldLen(F_SOCKET_ID) > 0 ? new Socket() : null;
        let headers = fieldLen(F_AUTH) > 0 ? field(F_AUTH) : Value.of("{}");
        fn(new HTTPResponse(<i32>fAckID, <i32>fStatus, fieldString(F_NAME), fieldString(F_REASON), headers,
          fieldBytes(F_ARGS), fieldBytes(F_CONTEXT), sock));
      }
      return 0;
    }
  }
  let s = new Socket();
  switch (kind) {
    case KIND_EVENT_MIDDLEWARE: {
      let fn = eventMiddlewareFn;
      if (fn) {
        let r = fn(s, new Event(fieldString(F_NAME), field(F_ARGS), fNatts, (fFlags & FLAG_HAS_ACK) != 0, fAckID));
        if (r != null) {
          let m = raw(r.message), d = raw(r.data);
          host.reject_event(m.ptr, m.length, d.ptr, d.length);
        }
      }
      break;
    }
    case KIND_MIDDLEWARE: {
      let fn = middleware;
      if (fn) {
        let e = fn(s);
        if (e != null) {
          let m = raw(e.message), d = raw(e.data);
          host.reject(m.ptr, m.length, d.ptr, d.length);
        }
      }
      break;
    }
    case KIND_CONNECT: {
      let fn = connectFn;
      if (fn) fn(s);
      break;
    }
    case KIND_EVENT: {
      let h = findEvent();
      let hasAck = (fFlags & FLAG_HAS_ACK) != 0;
      if (h != null) {
        let fn = h.fn;
        fn(s, new Event(h.name, field(F_ARGS), fNatts, hasAck, fAckID));
      } else {
        let fn = anyFn;
        if (fn) fn(s, new Event(fieldString(F_NAME), field(F_ARGS), fNatts, hasAck, fAckID));
      }
      break;
    }
    case KIND_ACK_RESPONSE: {
      let fn = ackResponseFn;
      if (fn) {
        fn(s, new AckResponse(<AckStatus>fStatus, fieldBytes(F_CONTEXT), field(F_ARGS), fNatts,
          (fFlags & FLAG_BROADCAST_ACK) != 0));
      }
      break;
    }
    case KIND_DISCONNECT: {
      let fn = disconnectFn;
      if (fn) fn(s, fieldString(F_REASON), frameRooms());
      break;
    }
  }
  return 0;
}

// ------------------------------------------------------------------ heap

// Instances are stateless between calls (sdk/ABI.md section 2). With the
// stub runtime (the build script's default) nothing is ever freed, so every
// call starts from the heap as it was after initialization: what a call
// allocates is discarded when it returns. Keep nothing allocated during a
// call in a global. With the minimal runtime the garbage is collected after
// each call; the incremental runtime collects by itself.

// @ts-ignore: decorator
@inline const STUB_BLOCK_OVERHEAD: usize = 4;
let heapMark: usize = 0;

// @ts-ignore: decorator
@inline function heapEnter(): void {
  if (ASC_RUNTIME == 0 && heapMark == 0) heapMark = __alloc(0);
}

// @ts-ignore: decorator
@inline function heapLeave(): void {
  if (ASC_RUNTIME == 0) {
    // The stub allocator frees only its last block: make the mark block
    // span up to the current end, free it, and allocate it again.
    let t = __alloc(0);
    let end = t + load<usize>(t - STUB_BLOCK_OVERHEAD);
    store<usize>(heapMark - STUB_BLOCK_OVERHEAD, end - heapMark);
    __free(heapMark);
    __alloc(0);
  } else if (ASC_RUNTIME == 1) {
    __collect();
  }
}

/** The ABI version marker (never called). */
export function sockwasm_abi_v1(): void {}

/** The ABI entry point: runs one call of kind with an input frame of n bytes. */
export function sockwasm_handle(kind: i32, n: i32): i32 {
  if (kind < KIND_MIDDLEWARE || kind > KIND_HTTP_RESPONSE) return 0;
  heapEnter();
  let rc = dispatch(kind, n);
  heapLeave();
  return rc;
}
