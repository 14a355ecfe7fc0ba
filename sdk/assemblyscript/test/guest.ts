// A plugin that uses every part of the SDK, run by the host's tests
// (host/plugin/as_bench_test.go, TestASSDK; the server-side events:
// host/plugin/as_server_test.go, TestASSDKServerEvents).

import {
  AckResponse, AckStatus, Blob, Conn, Err, Event, Kind, Level, Rejection, ServerEvent, Socket, Value, codePoints,
  errorText, inRooms, log, ofNamespace, onAny, onConnection, onAckResponse, onDisconnect, onEngineClose,
  onEngineMessage, onEngineOpen, onEvent, onEventMiddleware, onServerAck, onServerEvent, quote, quoteAll, serverEmit,
} from "../index";

export { sockwasm_abi_v1, sockwasm_handle } from "../index";

// A global set by top-level code survives calls.
const greeting = "hello " + "there";

onConnection((s: Socket): void => {
  s.emit("welcome", "[" + quote(s.id) + "," + quote(s.namespace) + "," + quote(greeting) + "]");
});

onEvent("emit", (s: Socket, e: Event): void => {
  let b = new Uint8Array(3);
  b[0] = 1; b[1] = 2; b[2] = 255;
  s.emit("out", '["a",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]', [Blob.bytes(b), Blob.ref(0)]);
});

onEvent("bcast", (s: Socket, e: Event): void => {
  s.broadcast().except("x").emit("b", "[1]");
  s.toRooms(["r1", "r2"]).includeSelf().emit("c", "[2]");
  s.to("r3").to("r4").except("y").except("z").emit("d", "[3]");
});

onEvent("info", (s: Socket, e: Event): void => {
  s.join("zz");
  s.join("aa");
  e.ack("[" + quote(s.id) + "," + quote(s.namespace) + "," + quote(s.transport) + "," + quoteAll(s.rooms()) + "," +
    s.clientCount().toString() + "," + s.auth.toString() + "," + s.roomSize("zz").toString() + "]");
});

onEvent("json", (s: Socket, e: Event): void => {
  let o = e.arg(0);
  let str = o.get("s").asString();
  let arr = o.get("arr");
  let out = "[" + quote(str != null ? str : "(null)") +
    "," + o.get("i").asInt(0).toString() +
    "," + o.get("f").asNumber(0).toString() +
    "," + (o.get("b").asBool(false) ? "true" : "false") +
    "," + (o.get("n").isNull() ? "true" : "false") +
    "," + arr.count().toString() +
    "," + quote(arr.at(2).get("x").asString()!) +
    "," + arr.at(1).toString() +
    "," + o.get("big").asInt(-1).toString() +
    "," + (<i32>o.get("missing").kind()).toString() +
    "," + (<i32>o.kind()).toString() +
    "," + (o.get("i").isString() ? "true" : "false") +
    "," + codePoints(str != null ? str : "").toString() +
    "," + quote("\u0001\n\"\\\ud800x") +
    "," + (o.get("esc\"key").exists() ? "true" : "false") +
    "," + e.args.count().toString() +
    "]";
  e.ack(out);
});

onEvent("att", (s: Socket, e: Event): void => {
  let a = e.attachment(0);
  let missing = e.attachment(5);
  e.ack("[" + e.numAttachments.toString() + "," + (a != null ? a.length.toString() + "," + a[a.length - 1].toString() : "-1,-1") +
    "," + (missing == null ? "true" : "false") + "]");
});

onEvent("errors", (s: Socket, e: Event): void => {
  let bad = s.emit("x", "not json");
  let empty = s.join("");
  e.ack("[" + bad.toString() + "," + empty.toString() + "," + quote(errorText(Err.INVALID)) + "]");
  let again = e.ack("[]");
  log(Level.Info, "second ack: " + errorText(again));
});

onEvent("ask", (s: Socket, e: Event): void => {
  let ctx = new Uint8Array(2);
  ctx[0] = 7; ctx[1] = 9;
  s.emitWithAck("question", e.args, 500, ctx);
});

onAckResponse((s: Socket, r: AckResponse): void => {
  if (r.isBroadcast) {
    let replies = r.replies();
    let out = "[" + (<i32>r.status).toString();
    for (let i = 0; i < replies.length; i++) out += "," + quote(replies[i].socketID) + "," + replies[i].args.toString();
    s.emit("replies", out + "]");
    return;
  }
  s.emit("answered", "[" + (<i32>r.status).toString() + "," + (r.ok ? "true" : "false") + "," +
    r.context.length.toString() + "," + r.context[1].toString() + "," + r.args.toString() + "]");
});

onEvent("abort", (s: Socket, e: Event): void => {
  throw new Error("boom");
});

onAny((s: Socket, e: Event): void => {
  e.ack("[" + quote(e.name) + "," + e.args.toString() + "]");
});

onDisconnect((s: Socket, reason: string, rooms: string[]): void => {
  s.broadcast().emit("gone", "[" + quote(s.id) + "," + quote(reason) + "," + quoteAll(rooms) + "]");
});

onEngineOpen((c: Conn): void => { c.send("open " + c.id + " " + c.transport); });
onEngineMessage((c: Conn, data: Uint8Array, binary: bool): void => { c.send(data, binary); });
onEngineClose((c: Conn, reason: string): void => { log(Level.Info, "closed: " + reason); });

onEvent("ext", (s: Socket, e: Event): void => {
  let set = s.setData('{"user":"ann"}');
  let bad = s.setData("{nope");
  let hs = s.handshake;
  let socks = inRooms(["room1"]).fetchSockets();
  let list = "";
  for (let i = 0; i < socks.length; i++) {
    if (i > 0) list += ",";
    list += "[" + quote(socks[i].id) + "," + quoteAll(socks[i].rooms) + "," + socks[i].data.toString() + "]";
  }
  inRooms(["room1"]).socketsJoin(["room2"]);
  inRooms(["room2"]).socketsLeave(["room1"]);
  s.volatile().emit("v", "[1]");
  s.to("room2").volatile().compress(true).emit("w", "[2]");
  e.ack("[" + set.toString() + "," + bad.toString() + "," + s.data().toString() + "," +
    quote(hs.get("headers").get("user-agent").asString()!) + "," + hs.get("issued").asInt(0).toString() + ",[" + list + "]]");
});

onEvent("ask-all", (s: Socket, e: Event): void => {
  inRooms().emitWithAck("poll", "[]", 1000);
});

onEvent("kick", (s: Socket, e: Event): void => {
  inRooms(["room2"]).disconnectSockets(true);
});

onEventMiddleware((s: Socket, e: Event): Rejection | null => {
  if (e.name == "blocked") return new Rejection("no", '{"why":' + e.arg(0).toString() + "}");
  if (e.name == "plain") return new Rejection("nope");
  s.setData('{"seen":' + quote(e.name) + "}");
  return null;
});

// Server-side events between the nodes of a cluster (TestASSDKServerEvents).

// sse: asks the other nodes of the socket's namespace ("who", answers with
// ctx "c:1"), tells them ("hello", no answer), and acks the result codes,
// those of refused emits included.
onEvent("sse", (s: Socket, e: Event): void => {
  let ctx = new Uint8Array(3);
  ctx[0] = 0x63; ctx[1] = 0x3a; ctx[2] = 0x31; // "c:1"
  let asked = serverEmit(s.namespace, "who", e.args, 2000, ctx);
  let told = ofNamespace(s.namespace).serverSideEmit("hello", '["all"]');
  let bad = serverEmit(s.namespace, "x", "not json");
  let slow = serverEmit(s.namespace, "x", "[]", 600001);
  let denied = serverEmit("/elsewhere", "x", "[]");
  let missing = serverEmit("/nope", "x", "[]");
  e.ack("[" + asked.toString() + "," + told.toString() + "," + bad.toString() + "," + slow.toString() + "," +
    denied.toString() + "," + missing.toString() + "]");
});

// Reports each server-side event to its namespace ("server-event": name,
// args, hasAck, the first and a second ack's codes, and for "relay" the
// code of a server-side emit from the SERVER_EVENT call).
onServerEvent((e: ServerEvent): void => {
  let first = e.ack('["as-ack",{"ignored":true}]');
  let second = e.ack("[]");
  let relayed = e.name == "relay" ? serverEmit(e.namespace, "relayed", e.args) : 1;
  ofNamespace(e.namespace).emit("server-event", "[" + quote(e.name) + "," + e.args.toString() + "," +
    e.arg(0).toString() + "," + (e.hasAck ? "true" : "false") + "," + first.toString() + "," + second.toString() + "," +
    relayed.toString() + "]");
});

// Reports the answers to "sse"'s server-side emit ("server-answers").
onServerAck((nsp: string, status: AckStatus, answers: Value, ctx: Uint8Array): void => {
  ofNamespace(nsp).emit("server-answers", "[" + quote(nsp) + "," + (<i32>status).toString() + "," +
    answers.toString() + "," + answers.count().toString() + "," +
    quote(String.UTF8.decodeUnsafe(ctx.dataStart, <usize>ctx.length)) + "]");
});
