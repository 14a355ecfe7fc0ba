// Lines of "<float64 bits in hex> <String(x)>" for testing AppendJSNumber:
// node jsnumbers.js > jsnumbers.txt (values are partly random).
const crypto = require("crypto");
const buf = Buffer.alloc(8);
const vals = [0.1, 0.2, 0.3, 1 / 3, 2 / 3, 1e21, 1e-6, 1e-7, 9.999999999999999e20, 1.0000000000000001e21,
  123456789012345680000, 0.000001234, 1.234e-7, 5e-324, 1.7976931348623157e308, 2 ** 53 + 2, 2 ** 60, 2 ** 70,
  -1e-7, -123.456, 100, 1e100, 4.35, 0.5, 1.5e300, 299792458, 6.02214076e23, 1.602176634e-19, 2.5e-6, 9.5e-7];
for (let i = 0; i < 400; i++) {
  crypto.randomFillSync(buf);
  const x = buf.readDoubleBE(0);
  if (isFinite(x)) vals.push(x);
}
for (let e = -30; e <= 30; e++) for (const m of [1, 1.5, 7.25, 9.999]) vals.push(m * Math.pow(10, e));
for (let i = 0; i < 100; i++) vals.push(Math.random() * Math.pow(10, Math.floor(Math.random() * 40) - 20));
for (const x of vals) { buf.writeDoubleBE(x, 0); console.log(buf.toString("hex"), String(x)); }
