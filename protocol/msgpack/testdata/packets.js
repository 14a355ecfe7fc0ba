// Writes packets.jsonl: packets encoded by socket.io-msgpack-parser 3.0.2
// (notepack.io 2.2.0), for packet_test.go. Run from this directory:
//
//	NODE_PATH=../../../test/interop/node_modules node packets.js > packets.jsonl
//
// "server" packets are built member for member as socket.io 4.8.4's server
// builds them (Socket.packet, BroadcastOperator.emit, Socket.ack):
// AppendPacket must write the same bytes. "client" packets are built as
// socket.io-client 4.8.4 builds them (Socket.emit adds "options"):
// DecodePacket must read them. Each line has the bytes (hex), the type,
// nsp and id DecodePacket returns, the data as JSON with placeholders for
// the binary values (numbered in document order), and the binary values.
"use strict";
const { Encoder } = require("socket.io-msgpack-parser");

const enc = new Encoder();
const bytes = (n, seed) => Buffer.from(Array.from({ length: n }, (_, i) => (i * 7 + seed) & 0xff));

function describe(data, atts) {
  if (data === undefined) return undefined;
  const walk = (v) => {
    if (Buffer.isBuffer(v)) {
      atts.push(Buffer.from(v).toString("hex"));
      return { _placeholder: true, num: atts.length - 1 };
    }
    if (v instanceof ArrayBuffer) {
      atts.push(Buffer.from(v).toString("hex"));
      return { _placeholder: true, num: atts.length - 1 };
    }
    if (ArrayBuffer.isView(v)) {
      // notepack.io writes the whole underlying ArrayBuffer.
      atts.push(Buffer.from(v.buffer).toString("hex"));
      return { _placeholder: true, num: atts.length - 1 };
    }
    if (Array.isArray(v)) return v.map((e) => (e === undefined ? null : walk(e)));
    if (v instanceof Date) return v.toJSON();
    if (v && typeof v === "object") {
      const o = {};
      for (const k of Object.keys(v)) if (v[k] !== undefined) o[k] = walk(v[k]);
      return o;
    }
    return v;
  };
  return JSON.stringify(walk(data));
}

const cases = [
  // server → client
  ["server", "connect", { type: 0, data: { sid: "Ab3_xY-z0123456789AB" }, nsp: "/" }],
  ["server", "connect chat", { type: 0, data: { sid: "Ab3_xY-z0123456789AB" }, nsp: "/chat" }],
  ["server", "broadcast", { type: 2, data: ["said", { from: "ana", text: "héllo € 😀", n: [1.5, -3, 0.1, 300, 70000] }, null, true, false], nsp: "/" }],
  ["server", "emit with ack", { type: 2, data: ["ask", 42], id: 7, nsp: "/" }],
  ["server", "ack", { id: 7, type: 3, data: ["ok", bytes(3, 1)], nsp: "/chat" }],
  ["server", "ack empty", { id: 4294967296, type: 3, data: [], nsp: "/" }],
  ["server", "binary event", { type: 2, data: ["file", { name: "a.bin", body: bytes(300, 5) }, bytes(0, 0)], nsp: "/" }],
  ["server", "numbers", { type: 2, data: ["n", 2 ** 32, -(2 ** 31) - 1, 2 ** 53, -(2 ** 53), 2 ** 40 + 3, -1e-7, 127, 128, -32, -33, 255, 65535, 65536], nsp: "/" }],
  ["server", "long string", { type: 2, data: ["s", "x".repeat(40), "y".repeat(300)], nsp: "/" }],
  ["server", "many members", { type: 2, data: ["m", Object.fromEntries(Array.from({ length: 17 }, (_, i) => ["k" + i, i])), Array.from({ length: 17 }, (_, i) => i)], nsp: "/" }],
  ["server", "disconnect", { type: 1, nsp: "/chat" }],
  ["server", "connect error", { type: 4, data: { message: "Not authorized", data: { code: 42 } }, nsp: "/" }],
  // client → server
  ["client", "client connect", { type: 0, data: { token: "s3cr3t", user: { id: 1, tags: ["a", "b"] } }, nsp: "/" }],
  ["client", "client connect no auth", { type: 0, nsp: "/chat" }],
  ["client", "client emit", { type: 2, data: ["chat", "hi"], options: { compress: true }, nsp: "/" }],
  ["client", "client emit with ack", { type: 2, data: ["echo", { a: [1, { b: "ü" }] }, bytes(5, 2)], options: { compress: true }, id: 0, nsp: "/" }],
  ["client", "client ack", { type: 3, nsp: "/", id: 12, data: [null, "done"] }],
  ["client", "client disconnect", { type: 1, nsp: "/chat" }],
  ["client", "client arraybuffer", { type: 2, data: ["ab", new Uint8Array([9, 8, 7]).buffer, new Uint8Array([1, 2])], nsp: "/" }],
  ["client", "client undefined and date", { type: 2, data: ["u", undefined, { x: undefined, y: 1 }, new Date(0)], nsp: "/", id: undefined }],
];

for (const [dir, name, packet] of cases) {
  const [buf] = enc.encode(packet);
  const atts = [];
  const data = describe(packet.data, atts);
  const line = { dir, name, hex: Buffer.from(buf).toString("hex"), type: packet.type, nsp: packet.nsp };
  if (packet.id !== undefined) line.id = packet.id;
  if (data !== undefined) line.data = data;
  if (atts.length) line.atts = atts;
  process.stdout.write(JSON.stringify(line) + "\n");
}
