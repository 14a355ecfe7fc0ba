// The chat example plugin in AssemblyScript (plugins/chat-as.wasm), the
// same behaviour as the Go chat example (examples/chat/plugin):
//
//   - middleware: auth {"token":"bad"} is refused with
//     {"message":"unauthorized","data":{"code":401}};
//   - echo: acks the same args, or emits echo-back to the sender;
//   - join / leave {room}: ack {ok, room, size};
//   - say {room, text}: said {room, from, text} to the room but the sender;
//   - rooms, whoami, stats: information acks;
//   - ping-me: asks the client back (server-ping, 2 s) and acks the original
//     event with the answer or a timeout, later, from the ack response;
//   - bye: disconnects the socket;
//   - on disconnect, the other members of each room get left {room, id, reason}.

import {
  AckResponse, ConnectError, Event, Kind, Socket, codePoints, onAckResponse, onConnect, onDisconnect,
  onEvent, quote, quoteAll,
} from "@sockwasm/sdk";

export { sockwasm_abi_v1, sockwasm_handle } from "@sockwasm/sdk";

const MAX_ROOM_LEN = 128;
const BAD_REQUEST = '[{"ok":false,"error":"bad request"}]';

function middleware(s: Socket): ConnectError | null {
  let tok = s.auth.get("token").asString();
  if (tok != null && tok == "bad") return new ConnectError("unauthorized", '{"code":401}');
  return null;
}

function echo(s: Socket, e: Event): void {
  if (e.hasAck) {
    e.ack(e.args, e.attachments());
    return;
  }
  s.emit("echo-back", e.args, e.attachments());
}

/** The valid room of the first argument {room: string}, or null. */
function room(e: Event): string | null {
  let r = e.arg(0).get("room").asString();
  if (r == null || r.length == 0 || codePoints(r) > MAX_ROOM_LEN) return null;
  return r;
}

function membership(s: Socket, e: Event, join: bool): void {
  let r = room(e);
  if (r == null) {
    e.ack(BAD_REQUEST);
    return;
  }
  if (join) s.join(r);
  else s.leave(r);
  e.ack('[{"ok":true,"room":' + quote(r) + ',"size":' + count(s.roomSize(r)) + "}]");
}

function say(s: Socket, e: Event): void {
  let r = room(e);
  let text = e.arg(0).get("text");
  if (r == null || text.kind() != Kind.String) {
    e.ack(BAD_REQUEST);
    return;
  }
  s.to(r).emit("said", '[{"room":' + quote(r) + ',"from":' + quote(s.id) + ',"text":' + text.toString() + "}]");
  e.ack('[{"ok":true}]');
}

function rooms(s: Socket, e: Event): void {
  let all = s.rooms();
  let id = s.id;
  let out = new Array<string>();
  for (let i = 0; i < all.length; i++) {
    if (all[i] != id) out.push(all[i]);
  }
  out.sort((a: string, b: string): i32 => (a < b ? -1 : a > b ? 1 : 0));
  e.ack("[" + quoteAll(out) + "]");
}

function whoami(s: Socket, e: Event): void {
  let auth = s.auth.toString();
  if (auth.length == 0) auth = "{}";
  e.ack('[{"id":' + quote(s.id) + ',"nsp":' + quote(s.namespace) + ',"auth":' + auth +
    ',"transport":' + quote(s.transport) + "}]");
}

function stats(s: Socket, e: Event): void {
  e.ack('[{"clients":' + count(s.clientCount()) + "}]");
}

/** A count as JSON: null when the host could not count (a negative code). */
function count(n: i32): string {
  return n < 0 ? "null" : n.toString();
}

// pingMe asks the client back; the original ack id travels in the context
// and is answered from pong.
function pingMe(s: Socket, e: Event): void {
  let ctx: Uint8Array | null = null;
  if (e.hasAck) {
    let c = new Uint8Array(8);
    store<u64>(c.dataStart, e.ackID);
    ctx = c;
  }
  if (s.emitWithAck("server-ping", e.args, 2000, ctx, e.attachments()) < 0 && e.hasAck) {
    e.ack('[{"ok":false,"error":"unavailable"}]');
  }
}

function pong(s: Socket, r: AckResponse): void {
  if (r.context.length != 8) return;
  let id = load<u64>(r.context.dataStart);
  if (!r.ok) {
    s.ack(id, '[{"ok":false,"error":"timeout"}]');
    return;
  }
  let answer = r.arg(0).toString();
  if (answer.length == 0) answer = "null";
  s.ack(id, '[{"ok":true,"answer":' + answer + "}]", r.attachments());
}

function bye(s: Socket, e: Event): void {
  s.disconnect();
}

function left(s: Socket, reason: string, rooms: string[]): void {
  for (let i = 0; i < rooms.length; i++) {
    let r = rooms[i];
    s.to(r).emit("left", '[{"room":' + quote(r) + ',"id":' + quote(s.id) + ',"reason":' + quote(reason) + "}]");
  }
}

onConnect(middleware);
onEvent("echo", echo);
onEvent("join", (s: Socket, e: Event): void => { membership(s, e, true); });
onEvent("leave", (s: Socket, e: Event): void => { membership(s, e, false); });
onEvent("say", say);
onEvent("rooms", rooms);
onEvent("whoami", whoami);
onEvent("stats", stats);
onEvent("ping-me", pingMe);
onAckResponse(pong);
onEvent("bye", bye);
onDisconnect(left);
