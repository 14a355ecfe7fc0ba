// In a scratch directory with notepack.io 3.0.1 and socket.io-parser 4.2.x
// installed: node values.js, whose output is the table notepackGolden in
// golden_test.go (with \x7f, U+2028 and U+FFFD written as escapes).
//
// Golden values for notepack.io 3.0.1: for each value, the msgpack bytes
// notepack.io writes, and the JSON (with socket.io placeholders) a Node.js
// server sends its clients for the value notepack.io decodes.
const enc = require("notepack.io/lib/encode");
const dec = require("notepack.io/lib/decode");
const { deconstructPacket } = require(require.resolve("socket.io-parser").replace(/index\.js$/, "binary.js"));
function clientJSON(v) {
  const { packet, buffers } = deconstructPacket({ type: 2, data: v });
  return { json: JSON.stringify(packet.data === undefined ? null : packet.data), atts: buffers.map((b) => Buffer.from(b).toString("hex")) };
}
const B = (...a) => Buffer.from(a);
const encodeCases = [
  ["zero", 0], ["minus one", -1], ["255", 255], ["256", 256], ["65535", 65535], ["65536", 65536],
  ["2^32-1", 2 ** 32 - 1], ["2^32", 2 ** 32], ["-2^31-1", -(2 ** 31) - 1], ["-2^31", -(2 ** 31)],
  ["2^53", 2 ** 53], ["-2^53", -(2 ** 53)], ["127", 127], ["128", 128], ["-32", -32], ["-33", -33],
  ["-128", -128], ["-129", -129], ["-32768", -32768], ["-32769", -32769], ["1.5", 1.5], ["-2.5", -2.5],
  ["0.1", 0.1], ["1e-7", 1e-7], ["1e300", 1e300], ["-0", -0], ["2^63", 2 ** 63], ["-2^63", -(2 ** 63)],
  ["1e20", 1e20], ["max safe", Number.MAX_SAFE_INTEGER], ["1e21 as float", 1.5e21],
  ["empty string", ""], ["string 31", "a".repeat(31)], ["string 32", "b".repeat(32)],
  ["string 255", "c".repeat(255)], ["string 256", "d".repeat(256)], ["string 65536", "e".repeat(65536)],
  ["unicode", "é€😀\u2028"], ["escapes", "\u0000\n\t\"\\/\u001f\u007f"],
  ["true", true], ["false", false], ["null", null],
  ["array 15", Array.from({ length: 15 }, (_, i) => i)], ["array 16", Array.from({ length: 16 }, (_, i) => i)],
  ["map 15", Object.fromEntries(Array.from({ length: 15 }, (_, i) => ["k" + i, i]))],
  ["map 16", Object.fromEntries(Array.from({ length: 16 }, (_, i) => ["k" + i, i]))],
  ["nested", { a: [1, { b: [null, true, "x"] }], c: {} , d: []}],
  ["binary", ["bin", B(1, 2, 3), { nested: [Buffer.alloc(0)] }, B(...new Array(256).fill(7))]],
  ["binary 300", [Buffer.alloc(300, 1)]],
  ["binary 70000", [Buffer.alloc(70000, 2)]],
  ["said", ["said", { room: "r1", from: "zXvlABCDEFGHIJKLAAAB", text: "hi" }]],
];
const decodeCases = [
  ["undefined in array", "93c0d40000c3"],
  ["undefined in map", "82a161d40000a162c3"],
  ["undefined top", "d40000"],
  ["float32", "ca3dcccccd"],
  ["float64 integral", "cb3ff0000000000000"],
  ["NaN", "cb7ff8000000000000"],
  ["Infinity", "cb7ff0000000000000"],
  ["-Infinity", "cbfff0000000000000"],
  ["-0 float", "cb8000000000000000"],
  ["timestamp32", "d6ff5f5e1000"],
  ["timestamp64", "d7ff000f424000000000"],
  ["timestamp64 ns", "d7ff3b9ac9fc5f5e1000"],
  ["timestamp96 negative", "c70cff00000000ffffffffffffffff"],
  ["timestamp96 far", "c70cff0000000000000001ffffffff"],
  ["timestamp96 huge", "c70cff00000000000000ffffffffff"],
  ["legacy date", "d70000000000000003e8"],
  ["array buffer", "c70300010203"],
  ["ext 5", "d505abcd"],
  ["fixext1 type 1", "d40107"],
  ["ext16 type -1", "c80002ff0102"],
  ["map int key", "8101a178"],
  ["map neg key", "81e0c0"],
  ["map float key", "81cb3ff8000000000000c0"],
  ["map NaN key", "81cb7ff8000000000000c0"],
  ["map proto key", "82a95f5f70726f746f5f5f81a178c3a179c2"],
  ["invalid utf8", "a8e28241ff80edb080"],
  ["truncated 4 byte", "a4f09f9841"],
  ["surrogate utf8", "a3eda080"],
  ["overlong", "a2c0af"],
  ["uint64 max", "cfffffffffffffffff"],
  ["int64 min", "d38000000000000000"],
  ["uint64 2^53+1", "cf0020000000000001"],
];
const lines = [];
for (const [name, v] of encodeCases) {
  const hex = enc(v).toString("hex");
  const c = clientJSON(dec(Buffer.from(hex, "hex")));
  lines.push({ kind: "encode", name, hex, json: c.json, atts: c.atts, input: clientJSON(v).json });
}
for (const [name, hex] of decodeCases) {
  let c;
  try { c = clientJSON(dec(Buffer.from(hex, "hex"))); } catch (e) { c = { json: "ERROR " + e.message, atts: [] }; }
  lines.push({ kind: "decode", name, hex, json: c.json, atts: c.atts, input: "" });
}
const crypto = require("crypto");
const q = (s) => JSON.stringify(s);
for (const l of lines) {
  let hex = l.hex, sum = "";
  if (hex.length > 600) { sum = crypto.createHash("sha256").update(Buffer.from(hex, "hex")).digest("hex"); hex = hex.slice(0, 32); }
  let json = l.json;
  let atts = l.atts;
  if (json.length > 600) json = "";
  let input = l.input.length > 600 ? "" : l.input;
  if (atts.some((a) => a.length > 600)) atts = [];
  console.log(`\t{${q(l.kind)}, ${q(l.name)}, ${q(input)}, ${q(hex)}, ${q(sum)}, ${q(json)}, []string{${atts.map(q).join(", ")}}},`);
}
