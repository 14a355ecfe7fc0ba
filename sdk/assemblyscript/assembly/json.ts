// Raw JSON values: accessors that scan the bytes on demand, and helpers to
// build JSON text. The host has already checked that event arguments are
// valid JSON, so accessors do not re-validate what they skip.

/** The JSON type of a Value. */
export enum Kind {
  Absent = 0,
  Null = 1,
  Bool = 2,
  Number = 3,
  String = 4,
  Array = 5,
  Object = 6,
  Invalid = 7,
}

// @ts-ignore: decorator
@inline function isSpace(c: u32): bool {
  return c == 0x20 || c == 0x09 || c == 0x0a || c == 0x0d;
}

function skipSpace(p: usize, i: i32, n: i32): i32 {
  while (i < n && isSpace(load<u8>(p + <usize>i))) i++;
  return i;
}

/** Index after the string starting at p[i] == '"', or -1. */
function skipString(p: usize, i: i32, n: i32): i32 {
  for (let j = i + 1; j < n; j++) {
    let c = load<u8>(p + <usize>j);
    if (c == 0x5c) j++;
    else if (c == 0x22) return j + 1;
  }
  return -1;
}

/** Index after the value starting at p[i], or -1. */
function skipValue(p: usize, i: i32, n: i32): i32 {
  if (i >= n) return -1;
  let c = load<u8>(p + <usize>i);
  if (c == 0x22) return skipString(p, i, n);
  if (c == 0x5b || c == 0x7b) {
    let depth = 0;
    for (let j = i; j < n; j++) {
      let d = load<u8>(p + <usize>j);
      if (d == 0x22) {
        j = skipString(p, j, n);
        if (j < 0) return -1;
        j--;
      } else if (d == 0x5b || d == 0x7b) {
        depth++;
      } else if (d == 0x5d || d == 0x7d) {
        if (--depth == 0) return j + 1;
      }
    }
    return -1;
  }
  let j = i;
  while (j < n) {
    let d = load<u8>(p + <usize>j);
    if (d == 0x2c || d == 0x5d || d == 0x7d || isSpace(d)) break;
    j++;
  }
  return j == i ? -1 : j;
}

function hexVal(c: u32): i32 {
  if (c >= 0x30 && c <= 0x39) return <i32>(c - 0x30);
  if (c >= 0x61 && c <= 0x66) return <i32>(c - 0x61 + 10);
  if (c >= 0x41 && c <= 0x46) return <i32>(c - 0x41 + 10);
  return -1;
}

/** The 4 hex digits at p[i..i+4] as a code unit, or -1. */
function hex4(p: usize, i: i32, n: i32): i32 {
  if (i + 4 > n) return -1;
  let r = 0;
  for (let k = 0; k < 4; k++) {
    let h = hexVal(load<u8>(p + <usize>(i + k)));
    if (h < 0) return -1;
    r = (r << 4) | h;
  }
  return r;
}

/** Decodes the JSON string body p[0..n) (escapes included), or null. */
function unescape(p: usize, n: i32): string | null {
  let out = "";
  let start = 0;
  let j = 0;
  while (j < n) {
    if (load<u8>(p + <usize>j) != 0x5c) { j++; continue; }
    if (j > start) out += String.UTF8.decodeUnsafe(p + <usize>start, <usize>(j - start));
    if (j + 1 >= n) return null;
    let e = load<u8>(p + <usize>(j + 1));
    let adv = 2;
    if (e == 0x22 || e == 0x5c || e == 0x2f) out += String.fromCharCode(e);
    else if (e == 0x62) out += "\b";
    else if (e == 0x66) out += "\f";
    else if (e == 0x6e) out += "\n";
    else if (e == 0x72) out += "\r";
    else if (e == 0x74) out += "\t";
    else if (e == 0x75) {
      let u = hex4(p, j + 2, n);
      if (u < 0) return null;
      adv = 6;
      if (u >= 0xd800 && u <= 0xdbff) {
        let lo = j + 7 < n && load<u8>(p + <usize>(j + 6)) == 0x5c && load<u8>(p + <usize>(j + 7)) == 0x75
          ? hex4(p, j + 8, n) : -1;
        if (lo >= 0xdc00 && lo <= 0xdfff) {
          out += String.fromCharCodes([u, lo]);
          adv = 12;
        } else {
          out += "\uFFFD";
        }
      } else if (u >= 0xdc00 && u <= 0xdfff) {
        out += "\uFFFD";
      } else {
        out += String.fromCharCode(u);
      }
    } else return null;
    j += adv;
    start = j;
  }
  if (n > start) out += String.UTF8.decodeUnsafe(p + <usize>start, <usize>(n - start));
  return out;
}

/**
 * One raw JSON value (an event's args array, one argument, a field…) inside
 * a buffer that lives for the current call. An absent value has length 0.
 */
export class Value {
  constructor(
    /** The buffer holding the bytes (kept reachable for the GC runtimes). */
    readonly buffer: ArrayBuffer | null,
    /** Offset of the first byte in buffer. */
    readonly offset: i32,
    /** Length in bytes. */
    readonly length: i32,
  ) {}

  /** The absent value. */
  static absent(): Value { return ABSENT; }

  /** A value holding a copy of the UTF-8 encoding of json. */
  static of(json: string): Value {
    let b = String.UTF8.encode(json);
    return new Value(b, 0, b.byteLength);
  }

  /** Address of the first byte. */
  @inline get ptr(): usize {
    return changetype<usize>(this.buffer) + <usize>this.offset;
  }

  private sub(i: i32, end: i32): Value {
    return new Value(this.buffer, this.offset + i, end - i);
  }

  /** Whether the value is present. */
  exists(): bool { return this.length > 0; }

  /** The JSON type. */
  kind(): Kind {
    let p = this.ptr, n = this.length;
    let i = skipSpace(p, 0, n);
    if (i >= n) return Kind.Absent;
    let c = load<u8>(p + <usize>i);
    if (c == 0x6e) return Kind.Null;
    if (c == 0x74 || c == 0x66) return Kind.Bool;
    if (c == 0x22) return Kind.String;
    if (c == 0x5b) return Kind.Array;
    if (c == 0x7b) return Kind.Object;
    if (c == 0x2d || (c >= 0x30 && c <= 0x39)) return Kind.Number;
    return Kind.Invalid;
  }

  /** Number of elements of an array, else 0. */
  count(): i32 {
    let k = 0;
    while (this.elementEnd(k) >= 0) k++;
    return k;
  }

  /** Element i of an array, or the absent value. */
  at(index: i32): Value {
    let p = this.ptr, n = this.length;
    let i = skipSpace(p, 0, n);
    if (i >= n || load<u8>(p + <usize>i) != 0x5b) return Value.absent();
    i = skipSpace(p, i + 1, n);
    if (i < n && load<u8>(p + <usize>i) == 0x5d) return Value.absent();
    let k = 0;
    while (i < n) {
      let end = skipValue(p, i, n);
      if (end < 0) break;
      if (k == index) return this.sub(i, end);
      k++;
      i = skipSpace(p, end, n);
      if (i >= n || load<u8>(p + <usize>i) != 0x2c) break;
      i = skipSpace(p, i + 1, n);
    }
    return Value.absent();
  }

  private elementEnd(index: i32): i32 {
    let v = this.at(index);
    return v.length > 0 ? v.offset + v.length : -1;
  }

  /** The value of key in an object, or the absent value. */
  get(key: string): Value {
    let p = this.ptr, n = this.length;
    let i = skipSpace(p, 0, n);
    if (i >= n || load<u8>(p + <usize>i) != 0x7b) return Value.absent();
    i = skipSpace(p, i + 1, n);
    while (i < n && load<u8>(p + <usize>i) == 0x22) {
      let kend = skipString(p, i, n);
      if (kend < 0) break;
      let match = keyEquals(p + <usize>(i + 1), kend - i - 2, key);
      i = skipSpace(p, kend, n);
      if (i >= n || load<u8>(p + <usize>i) != 0x3a) break;
      i = skipSpace(p, i + 1, n);
      let end = skipValue(p, i, n);
      if (end < 0) break;
      if (match) return this.sub(i, end);
      i = skipSpace(p, end, n);
      if (i >= n || load<u8>(p + <usize>i) != 0x2c) break;
      i = skipSpace(p, i + 1, n);
    }
    return Value.absent();
  }

  /** Whether the value is a JSON string. */
  isString(): bool { return this.kind() == Kind.String; }

  /** Whether the value is JSON null. */
  isNull(): bool { return this.trimmedEquals("null"); }

  /** The string a JSON string holds, or null when it is not a string. */
  asString(): string | null {
    let p = this.ptr, n = this.length;
    let i = skipSpace(p, 0, n);
    if (i >= n || load<u8>(p + <usize>i) != 0x22) return null;
    let end = skipString(p, i, n);
    if (end < 0) return null;
    let body = p + <usize>(i + 1), len = end - i - 2;
    for (let j = 0; j < len; j++) {
      if (load<u8>(body + <usize>j) == 0x5c) return unescape(body, len);
    }
    return String.UTF8.decodeUnsafe(body, <usize>len);
  }

  /** An integer number (no fraction, no exponent), else def. */
  asInt(def: i64 = 0): i64 {
    let p = this.ptr, n = this.length;
    let i = skipSpace(p, 0, n);
    let neg = false;
    if (i < n && load<u8>(p + <usize>i) == 0x2d) { neg = true; i++; }
    let v: u64 = 0, digits = 0;
    while (i < n) {
      let c = <u32>load<u8>(p + <usize>i);
      if (c < 0x30 || c > 0x39) break;
      let d = <u64>(c - 0x30);
      if (v > (<u64>0x7fffffffffffffff - d) / 10 + <u64>(neg ? 1 : 0)) return def;
      v = v * 10 + d;
      digits++; i++;
    }
    if (digits == 0 || skipSpace(p, i, n) != n) return def;
    return neg ? -(<i64>v) : <i64>v;
  }

  /** A number, else def (NaN by default). */
  asNumber(def: f64 = NaN): f64 {
    if (this.kind() != Kind.Number) return def;
    let f = parseFloat(this.toString().trim());
    return isNaN(f) ? def : f;
  }

  /** A boolean, else def. */
  asBool(def: bool = false): bool {
    if (this.trimmedEquals("true")) return true;
    if (this.trimmedEquals("false")) return false;
    return def;
  }

  /** The raw JSON text. */
  toString(): string {
    return this.length == 0 ? "" : String.UTF8.decodeUnsafe(this.ptr, <usize>this.length);
  }

  /** A copy of the raw JSON bytes. */
  bytes(): Uint8Array {
    let out = new Uint8Array(this.length);
    memory.copy(out.dataStart, this.ptr, <usize>this.length);
    return out;
  }

  private trimmedEquals(word: string): bool {
    let p = this.ptr, n = this.length;
    let i = skipSpace(p, 0, n);
    let j = n;
    while (j > i && isSpace(load<u8>(p + <usize>(j - 1)))) j--;
    if (j - i != word.length) return false;
    for (let k = 0; k < word.length; k++) {
      if (<i32>load<u8>(p + <usize>(i + k)) != word.charCodeAt(k)) return false;
    }
    return true;
  }
}

const ABSENT = new Value(null, 0, 0);

/** Compares the raw (quoted-content) key bytes with key. */
function keyEquals(p: usize, n: i32, key: string): bool {
  let ascii = true;
  for (let k = 0; k < key.length; k++) {
    if (key.charCodeAt(k) >= 0x80) { ascii = false; break; }
  }
  for (let j = 0; j < n; j++) {
    if (load<u8>(p + <usize>j) == 0x5c) {
      let s = unescape(p, n);
      return s != null && s == key;
    }
  }
  if (ascii) {
    if (n != key.length) return false;
    for (let j = 0; j < n; j++) {
      if (<i32>load<u8>(p + <usize>j) != key.charCodeAt(j)) return false;
    }
    return true;
  }
  let enc = String.UTF8.encode(key);
  return enc.byteLength == n && memory.compare(changetype<usize>(enc), p, <usize>n) == 0;
}

const HEX = "0123456789abcdef";

/**
 * s as a JSON string literal, quotes included, escaped as encoding/json does
 * (a lone surrogate becomes U+FFFD).
 */
export function quote(s: string): string {
  let out = "\"";
  let start = 0;
  let n = s.length;
  for (let i = 0; i < n; i++) {
    let c = s.charCodeAt(i);
    let esc = "";
    if (c < 0x20 || c == 0x22 || c == 0x5c) {
      if (c == 0x22) esc = "\\\"";
      else if (c == 0x5c) esc = "\\\\";
      else if (c == 0x0a) esc = "\\n";
      else if (c == 0x0d) esc = "\\r";
      else if (c == 0x09) esc = "\\t";
      else esc = "\\u00" + HEX.charAt(c >> 4) + HEX.charAt(c & 0xf);
    } else if (c >= 0xd800 && c <= 0xdfff) {
      let pair = c <= 0xdbff && i + 1 < n && s.charCodeAt(i + 1) >= 0xdc00 && s.charCodeAt(i + 1) <= 0xdfff;
      if (pair) { i++; continue; }
      esc = "\\ufffd";
    } else continue;
    out += s.substring(start, i) + esc;
    start = i + 1;
  }
  if (start == 0) return out + s + "\"";
  return out + s.substring(start) + "\"";
}

/** A JSON array of strings. */
export function quoteAll(ss: string[]): string {
  let out = "[";
  for (let i = 0; i < ss.length; i++) {
    if (i > 0) out += ",";
    out += quote(ss[i]);
  }
  return out + "]";
}

/** Number of Unicode code points of s (a surrogate pair counts once). */
export function codePoints(s: string): i32 {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    let c = s.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) {
      let d = s.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) i++;
    }
    n++;
  }
  return n;
}
