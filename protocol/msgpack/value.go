package msgpack

import (
	"encoding/binary"
	"math"
	"sync"
)

// The msgpack primitives (value headers, integers, floats, lengths) are
// read and written here on byte slices, in the encodings of the msgpack
// specification that notepack.io uses (the package's tests decode what
// is written with github.com/vmihailenco/msgpack/v5). What is notepack.io's own is
// here too: undefined, the ArrayBuffer and Date extensions, JavaScript
// truthiness, the checks of counts and lengths against the bytes that
// remain, nesting limits.

// Writer appends msgpack to a byte slice in notepack.io's encodings:
// integers in their smallest form, float64 for every other number,
// strings as str (fixstr, str 8, 16, 32), binary as bin (8, 16, 32), and
// the smallest array and map headers. Writers are pooled (NewWriter,
// Done), so that encoding allocates nothing but the output.
type Writer struct {
	buf []byte
}

var writerPool = sync.Pool{New: func() any { return new(Writer) }}

// NewWriter returns a pooled Writer appending to dst; Done returns the
// result and puts the Writer back.
func NewWriter(dst []byte) *Writer {
	w := writerPool.Get().(*Writer)
	w.buf = dst
	return w
}

// Done returns what w wrote, appended to the slice NewWriter was given,
// and puts w back in the pool.
func (w *Writer) Done() []byte {
	out := w.buf
	w.buf = nil
	writerPool.Put(w)
	return out
}

// Bool writes b as true or false.
func (w *Writer) Bool(b bool) {
	if b {
		w.buf = append(w.buf, codeTrue)
	} else {
		w.buf = append(w.buf, codeFalse)
	}
}

// Nil writes nil (null).
func (w *Writer) Nil() { w.buf = append(w.buf, codeNil) }

// Uint writes v in the smallest unsigned or fixint encoding.
func (w *Writer) Uint(v uint64) { w.buf = appendUint(w.buf, v) }

// Int writes v in its smallest integer encoding.
func (w *Writer) Int(v int64) { w.buf = appendInt(w.buf, v) }

// Float writes f as a float 64.
func (w *Writer) Float(f float64) { w.buf = appendFloat(w.buf, f) }

// Str writes s as a str (fixstr, str 8, 16 or 32).
func (w *Writer) Str(s string) {
	w.buf = appendStrHeader(w.buf, len(s))
	w.buf = append(w.buf, s...)
}

// StrBytes writes the bytes of b as a str.
func (w *Writer) StrBytes(b []byte) {
	w.buf = appendStrHeader(w.buf, len(b))
	w.buf = append(w.buf, b...)
}

// Bin writes b as a bin, even when nil: notepack.io writes an empty
// Buffer as bin 8 of length 0.
func (w *Writer) Bin(b []byte) {
	w.buf = appendBinHeader(w.buf, len(b))
	w.buf = append(w.buf, b...)
}

// ArrayLen writes the header of an array of n elements, which follow.
func (w *Writer) ArrayLen(n int) { w.buf = appendContainerHeader(w.buf, n, false) }

// MapLen writes the header of a map of n key/value pairs, which follow.
func (w *Writer) MapLen(n int) { w.buf = appendContainerHeader(w.buf, n, true) }

// Number writes f as notepack.io encodes a JavaScript number: an integer
// encoding when f is integral, float64 otherwise. notepack.io writes
// garbage for integral values outside [-2^63, 2^64); they are written as
// float64 here, which decodes to the same number.
func (w *Writer) Number(f float64) { w.buf = appendNumber(w.buf, f) }

// The type bytes of the msgpack specification.
const (
	codeNil     = 0xc0
	codeFalse   = 0xc2
	codeTrue    = 0xc3
	codeBin8    = 0xc4
	codeBin16   = 0xc5
	codeBin32   = 0xc6
	codeExt8    = 0xc7
	codeExt16   = 0xc8
	codeExt32   = 0xc9
	codeFloat32 = 0xca
	codeFloat64 = 0xcb
	codeUint8   = 0xcc
	codeUint16  = 0xcd
	codeUint32  = 0xce
	codeUint64  = 0xcf
	codeInt8    = 0xd0
	codeInt16   = 0xd1
	codeInt32   = 0xd2
	codeInt64   = 0xd3
	codeFixExt1 = 0xd4
	codeFixExt2 = 0xd5
	codeFixExt4 = 0xd6
	codeFixExt8 = 0xd7
	codeFix16   = 0xd8
	codeStr8    = 0xd9
	codeStr16   = 0xda
	codeStr32   = 0xdb
	codeArr16   = 0xdc
	codeArr32   = 0xdd
	codeMap16   = 0xde
	codeMap32   = 0xdf
)

// appendUint appends v in the smallest unsigned or positive fixint
// encoding.
func appendUint(dst []byte, v uint64) []byte {
	switch {
	case v <= math.MaxInt8:
		return append(dst, byte(v))
	case v <= math.MaxUint8:
		return append(dst, codeUint8, byte(v))
	case v <= math.MaxUint16:
		return append(dst, codeUint16, byte(v>>8), byte(v))
	case v <= math.MaxUint32:
		return append(dst, codeUint32, byte(v>>24), byte(v>>16), byte(v>>8), byte(v))
	}
	return binary.BigEndian.AppendUint64(append(dst, codeUint64), v)
}

// appendInt appends v in its smallest encoding: unsigned when v >= 0.
func appendInt(dst []byte, v int64) []byte {
	switch {
	case v >= 0:
		return appendUint(dst, uint64(v))
	case v >= -32:
		return append(dst, byte(v))
	case v >= math.MinInt8:
		return append(dst, codeInt8, byte(v))
	case v >= math.MinInt16:
		return append(dst, codeInt16, byte(v>>8), byte(v))
	case v >= math.MinInt32:
		return append(dst, codeInt32, byte(v>>24), byte(v>>16), byte(v>>8), byte(v))
	}
	return binary.BigEndian.AppendUint64(append(dst, codeInt64), uint64(v))
}

// appendFloat appends f as a float 64.
func appendFloat(dst []byte, f float64) []byte {
	return binary.BigEndian.AppendUint64(append(dst, codeFloat64), math.Float64bits(f))
}

// appendNumber appends f as Writer.Number writes it.
func appendNumber(dst []byte, f float64) []byte {
	if math.Floor(f) != f || math.IsInf(f, 0) {
		return appendFloat(dst, f)
	}
	if f >= 0 { // includes -0, which notepack.io writes as 0
		if f < 1<<64 {
			return appendUint(dst, uint64(f))
		}
		return appendFloat(dst, f)
	}
	if f >= -(1 << 63) {
		return appendInt(dst, int64(f))
	}
	return appendFloat(dst, f)
}

// strHeaderSize is the size of the header of a str of n bytes.
func strHeaderSize(n int) int {
	switch {
	case n < 32:
		return 1
	case n <= math.MaxUint8:
		return 2
	case n <= math.MaxUint16:
		return 3
	}
	return 5
}

// putStrHeader writes the header of a str of n bytes at b, which has
// room for strHeaderSize(n) bytes.
func putStrHeader(b []byte, n int) {
	switch {
	case n < 32:
		b[0] = 0xa0 | byte(n)
	case n <= math.MaxUint8:
		b[0], b[1] = codeStr8, byte(n)
	case n <= math.MaxUint16:
		b[0] = codeStr16
		binary.BigEndian.PutUint16(b[1:], uint16(n))
	default:
		b[0] = codeStr32
		binary.BigEndian.PutUint32(b[1:], uint32(n))
	}
}

// appendStrHeader appends the header of a str of n bytes.
func appendStrHeader(dst []byte, n int) []byte {
	switch {
	case n < 32:
		return append(dst, 0xa0|byte(n))
	case n <= math.MaxUint8:
		return append(dst, codeStr8, byte(n))
	case n <= math.MaxUint16:
		return append(dst, codeStr16, byte(n>>8), byte(n))
	}
	return binary.BigEndian.AppendUint32(append(dst, codeStr32), uint32(n))
}

// appendBinHeader appends the header of a bin of n bytes.
func appendBinHeader(dst []byte, n int) []byte {
	switch {
	case n <= math.MaxUint8:
		return append(dst, codeBin8, byte(n))
	case n <= math.MaxUint16:
		return append(dst, codeBin16, byte(n>>8), byte(n))
	}
	return binary.BigEndian.AppendUint32(append(dst, codeBin32), uint32(n))
}

// appendContainerHeader appends the header of a map of n pairs or an
// array of n elements.
func appendContainerHeader(dst []byte, n int, isMap bool) []byte {
	fix, c16, c32 := byte(0x90), byte(codeArr16), byte(codeArr32)
	if isMap {
		fix, c16, c32 = 0x80, codeMap16, codeMap32
	}
	switch {
	case n < 16:
		return append(dst, fix|byte(n))
	case n <= math.MaxUint16:
		return append(dst, c16, byte(n>>8), byte(n))
	}
	return binary.BigEndian.AppendUint32(append(dst, c32), uint32(n))
}

// patchHeader replaces the one-byte header of an empty container at
// dst[at] by the header of a container of n elements; a wider header
// moves the elements.
func patchHeader(dst []byte, at, n int, isMap bool) []byte {
	if n < 16 {
		dst[at] |= byte(n)
		return dst
	}
	var h [5]byte
	size := len(appendContainerHeader(h[:0], n, isMap))
	end := len(dst)
	dst = append(dst, h[:size-1]...) // room for the wider header
	copy(dst[at+size:], dst[at+1:end])
	copy(dst[at:], h[:size])
	return dst
}

// AppendArrayHeader appends the header of an array of n elements.
func AppendArrayHeader(dst []byte, n int) []byte {
	return appendContainerHeader(dst, n, false)
}

// Kind is the kind of a msgpack value as notepack.io decodes it.
type Kind uint8

const (
	KindNil       Kind = iota // null
	KindUndefined             // fixext 1 of type 0: undefined
	KindBool                  // b
	KindInt                   // i
	KindUint                  // u, above math.MaxInt64
	KindFloat                 // f (float32 widened, or float64)
	KindStr                   // s: the raw bytes, not necessarily UTF-8
	KindBin                   // s: a Buffer (bin), or an ArrayBuffer (ext type 0)
	KindArray                 // n elements follow
	KindMap                   // n key/value pairs follow
	KindDate                  // f: milliseconds since the epoch, NaN if invalid
	KindExt                   // i: ext type, s: data; notepack.io's [type, Buffer]
)

// Token is one decoded msgpack value; the elements of an array or a map
// follow it in the reader.
type Token struct {
	// Kind is the kind of the value; it tells which other fields hold it.
	Kind Kind
	// Bool is the value of a KindBool.
	Bool bool
	// Int is the value of a KindInt, the type of a KindExt.
	Int int64
	// Uint is the value of a KindUint (above math.MaxInt64).
	Uint uint64
	// Float is the value of a KindFloat, the milliseconds of a KindDate.
	Float float64
	// Bytes are the bytes of a KindStr, a KindBin or a KindExt. They
	// alias the input.
	Bytes []byte
	// Len is the element count of a KindArray, the member count of a
	// KindMap.
	Len int
}

// Number reports whether t is a number and its value as a float64.
func (t Token) Number() (float64, bool) {
	switch t.Kind {
	case KindInt:
		return float64(t.Int), true
	case KindUint:
		return float64(t.Uint), true
	case KindFloat:
		return t.Float, true
	}
	return 0, false
}

// Truthy reports whether t is truthy in JavaScript.
func (t Token) Truthy() bool {
	switch t.Kind {
	case KindNil, KindUndefined:
		return false
	case KindBool:
		return t.Bool
	case KindInt:
		return t.Int != 0
	case KindFloat:
		return t.Float != 0 && !math.IsNaN(t.Float)
	case KindStr:
		return len(t.Bytes) > 0
	}
	return true
}

// Reader decodes msgpack as notepack.io does, bounded by Limits, reading
// buf directly: strings and binary values are not copied, their bytes
// are sliced from buf. Readers are pooled; Release puts one back.
type Reader struct {
	buf  []byte
	pos  int
	lim  Limits
	atts int // binary values read so far
	// json is a buffer that DecodePacket transcodes into.
	json []byte
}

var readerPool = sync.Pool{New: func() any { return new(Reader) }}

// NewReader returns a pooled Reader of buf, bounded by lim (zero fields
// the defaults); Release puts it back.
func NewReader(buf []byte, lim Limits) *Reader {
	r := readerPool.Get().(*Reader)
	r.buf, r.pos, r.lim, r.atts = buf, 0, lim.WithDefaults(), 0
	return r
}

// Release puts r back in the pool; r must not be used afterwards.
func (r *Reader) Release() {
	r.buf = nil
	if cap(r.json) > 64<<10 {
		r.json = nil // do not keep a big message's buffer
	}
	readerPool.Put(r)
}

// Offset returns the offset of the next byte to read.
func (r *Reader) Offset() int { return r.pos }

// Seek moves the reader to offset pos, an offset it has been at.
func (r *Reader) Seek(pos int) { r.pos = pos }

// Remaining returns the number of bytes left to read.
func (r *Reader) Remaining() int { return len(r.buf) - r.pos }

func (r *Reader) syntax(msg string) error {
	return &SyntaxError{Offset: r.pos, Msg: msg}
}

// eof reports input that ends in the middle of a value.
func (r *Reader) eof() error {
	r.pos = len(r.buf)
	return r.syntax("unexpected end of input")
}

// uint reads the size-byte big-endian unsigned integer that follows the
// type byte at r.pos, and moves past both.
func (r *Reader) uint(size int) (uint64, error) {
	p := r.pos + 1
	if len(r.buf)-p < size {
		return 0, r.eof()
	}
	b := r.buf[p : p+size]
	r.pos = p + size
	switch size {
	case 1:
		return uint64(b[0]), nil
	case 2:
		return uint64(binary.BigEndian.Uint16(b)), nil
	case 4:
		return uint64(binary.BigEndian.Uint32(b)), nil
	}
	return binary.BigEndian.Uint64(b), nil
}

// take returns the next n bytes of the input, a length read from it.
func (r *Reader) take(n int) ([]byte, error) {
	if n < 0 || n > len(r.buf)-r.pos {
		return nil, r.syntax("length exceeds the input")
	}
	pos := r.pos
	r.pos += n
	return r.buf[pos : pos+n : pos+n], nil
}

// count checks that n elements (each at least per bytes long), a count
// read from the input, fit in the rest of it, so no count can make a
// decoder allocate or loop beyond the size of the message.
func (r *Reader) count(n uint64, per int) (int, error) {
	if n > uint64(r.Remaining()/per) {
		return 0, r.syntax("element count exceeds the input")
	}
	return int(n), nil
}

// sized reads the value of a str or bin whose length takes size bytes.
func (r *Reader) sized(size int) ([]byte, error) {
	n, err := r.uint(size)
	if err != nil {
		return nil, err
	}
	return r.take(int(n))
}

// ext decodes an ext value, whose header starts with c, as notepack.io
// does: type 0 is an ArrayBuffer for ext 8/16/32, undefined for fixext 1
// and a millisecond Date for fixext 8; type -1 is a timestamp (fixext 4,
// fixext 8, ext 8 of 12 bytes); anything else is [type, Buffer].
// notepack.io's Dates are JavaScript time values (TimeClip'ed
// milliseconds, NaN when out of range), which time.Time does not hold.
func (r *Reader) ext(c byte) (Token, error) {
	var n int
	switch c {
	case codeExt8, codeExt16, codeExt32:
		size := 1 << (c - codeExt8) // 1, 2, 4
		l, err := r.uint(size)
		if err != nil {
			return Token{}, err
		}
		n = int(l)
	default: // fixext 1, 2, 4, 8, 16
		n = 1 << (c - codeFixExt1)
		r.pos++
	}
	if r.pos >= len(r.buf) {
		return Token{}, r.eof()
	}
	typ := int8(r.buf[r.pos])
	r.pos++
	data, err := r.take(n)
	if err != nil {
		return Token{}, err
	}
	switch {
	case typ == 0 && (c == codeExt8 || c == codeExt16 || c == codeExt32):
		return Token{Kind: KindBin, Bytes: data}, nil
	case typ == 0 && c == codeFixExt1:
		return Token{Kind: KindUndefined}, nil
	case typ == 0 && c == codeFixExt8:
		hi := float64(int32(binary.BigEndian.Uint32(data))) * (1 << 32)
		lo := float64(binary.BigEndian.Uint32(data[4:]))
		return Token{Kind: KindDate, Float: timeClip(hi + lo)}, nil
	case typ == -1 && c == codeFixExt4:
		s := float64(binary.BigEndian.Uint32(data))
		return Token{Kind: KindDate, Float: timeClip(s * 1e3)}, nil
	case typ == -1 && c == codeFixExt8:
		hi := binary.BigEndian.Uint32(data)
		lo := binary.BigEndian.Uint32(data[4:])
		s := float64(uint64(hi&3)<<32 | uint64(lo))
		return Token{Kind: KindDate, Float: timeClip(float64(s*1e3) + float64(hi>>2)/1e6)}, nil
	case typ == -1 && c == codeExt8:
		if n != 12 {
			// notepack.io reads 12 bytes whatever the length says and
			// loses its place; refuse instead.
			return Token{}, r.syntax("timestamp 96 of the wrong length")
		}
		ns := float64(binary.BigEndian.Uint32(data))
		s := float64(int32(binary.BigEndian.Uint32(data[4:])))*(1<<32) + float64(binary.BigEndian.Uint32(data[8:]))
		return Token{Kind: KindDate, Float: timeClip(float64(s*1e3) + ns/1e6)}, nil
	}
	return Token{Kind: KindExt, Int: int64(typ), Bytes: data}, nil
}

// timeClip is ECMAScript's TimeClip: the time value of new Date(ms).
func timeClip(ms float64) float64 {
	if math.IsNaN(ms) || math.Abs(ms) > 8.64e15 {
		return math.NaN()
	}
	return math.Trunc(ms) + 0 // +0 turns -0 into 0
}

// Next decodes the next value; for an array or a map, only its header.
func (r *Reader) Next() (Token, error) {
	if r.pos >= len(r.buf) {
		return Token{}, r.eof()
	}
	c := r.buf[r.pos]
	switch {
	case c < 0x80: // positive fixint
		r.pos++
		return Token{Kind: KindInt, Int: int64(c)}, nil
	case c >= 0xe0: // negative fixint
		r.pos++
		return Token{Kind: KindInt, Int: int64(int8(c))}, nil
	case c >= 0xa0 && c < 0xc0: // fixstr
		r.pos++
		b, err := r.take(int(c & 0x1f))
		return Token{Kind: KindStr, Bytes: b}, err
	case c < 0x90: // fixmap
		r.pos++
		n, err := r.count(uint64(c&0xf), 2)
		return Token{Kind: KindMap, Len: n}, err
	case c < 0xa0: // fixarray
		r.pos++
		n, err := r.count(uint64(c&0xf), 1)
		return Token{Kind: KindArray, Len: n}, err
	}
	var t Token
	var err error
	var u uint64
	switch c {
	case codeNil:
		r.pos++
		return Token{Kind: KindNil}, nil
	case codeFalse, codeTrue:
		r.pos++
		return Token{Kind: KindBool, Bool: c == codeTrue}, nil
	case codeStr8, codeStr16, codeStr32:
		t.Kind = KindStr
		t.Bytes, err = r.sized(1 << (c - codeStr8))
	case codeBin8, codeBin16, codeBin32:
		t.Kind = KindBin
		t.Bytes, err = r.sized(1 << (c - codeBin8))
	case codeArr16, codeArr32:
		t.Kind = KindArray
		if u, err = r.uint(2 << (c - codeArr16)); err == nil {
			t.Len, err = r.count(u, 1)
		}
	case codeMap16, codeMap32:
		t.Kind = KindMap
		if u, err = r.uint(2 << (c - codeMap16)); err == nil {
			t.Len, err = r.count(u, 2)
		}
	case codeUint8, codeUint16, codeUint32:
		t.Kind = KindInt
		u, err = r.uint(1 << (c - codeUint8))
		t.Int = int64(u)
	case codeUint64:
		t.Kind = KindInt
		u, err = r.uint(8)
		if u > math.MaxInt64 {
			t.Kind, t.Uint = KindUint, u
		} else {
			t.Int = int64(u)
		}
	case codeInt8:
		t.Kind = KindInt
		u, err = r.uint(1)
		t.Int = int64(int8(u))
	case codeInt16:
		t.Kind = KindInt
		u, err = r.uint(2)
		t.Int = int64(int16(u))
	case codeInt32:
		t.Kind = KindInt
		u, err = r.uint(4)
		t.Int = int64(int32(u))
	case codeInt64:
		t.Kind = KindInt
		u, err = r.uint(8)
		t.Int = int64(u)
	case codeFloat32:
		t.Kind = KindFloat
		u, err = r.uint(4)
		t.Float = float64(math.Float32frombits(uint32(u)))
	case codeFloat64:
		t.Kind = KindFloat
		u, err = r.uint(8)
		t.Float = math.Float64frombits(u)
	case codeExt8, codeExt16, codeExt32, codeFixExt1, codeFixExt2, codeFixExt4, codeFixExt8, codeFix16:
		return r.ext(c)
	default: // 0xc1, never used
		return Token{}, r.syntax("invalid type byte")
	}
	if err != nil {
		return Token{}, err
	}
	return t, nil
}

// Skip skips the elements of t, if it is an array or a map, at depth
// depth (t's own nesting level), checking them as appendJSON would.
// (The decoder's Skip would not bound the nesting, and would copy the
// strings it skips.)
func (r *Reader) Skip(t Token, depth int) error {
	switch t.Kind {
	case KindArray, KindMap:
		if depth > r.lim.MaxDepth {
			return ErrTooDeep
		}
		n := t.Len
		if t.Kind == KindMap {
			n *= 2
		}
		for range n {
			e, err := r.Next()
			if err != nil {
				return err
			}
			if err := r.Skip(e, depth+1); err != nil {
				return err
			}
		}
	}
	return nil
}

// JSONSize estimates the size of the JSON text appendJSON writes for the
// value that starts with t, by reading it a first time: exact for most
// values, an upper bound for numbers, a guess for strings (which rarely
// need escapes). The reader is left where it was.
func (r *Reader) JSONSize(t Token) int {
	pos := r.Offset()
	n, err := r.estimate(t, 0)
	r.Seek(pos)
	if err != nil {
		return 64
	}
	return n + 16
}

// estimate returns the estimated JSON size of the value that starts with
// t, a comma included, and skips its elements; depth is t's level.
func (r *Reader) estimate(t Token, depth int) (int, error) {
	switch t.Kind {
	case KindNil, KindUndefined:
		return 5, nil
	case KindBool:
		return 6, nil
	case KindInt:
		if t.Int >= 0 && t.Int < 100 {
			return 3, nil
		}
		return 21, nil
	case KindUint, KindFloat:
		return 25, nil
	case KindStr:
		return len(t.Bytes) + len(t.Bytes)/8 + 3, nil
	case KindDate:
		return 30, nil
	case KindBin:
		return 32, nil
	case KindExt:
		return 40, nil
	case KindArray, KindMap:
		if depth > r.lim.MaxDepth {
			return 0, ErrTooDeep
		}
		size := 2
		n := t.Len
		if t.Kind == KindMap {
			n *= 2
		}
		for range n {
			e, err := r.Next()
			if err != nil {
				return 0, err
			}
			m, err := r.estimate(e, depth+1)
			if err != nil {
				return 0, err
			}
			size += m
		}
		return size, nil
	}
	return 0, nil
}

// End checks that the whole input was read: notepack.io refuses trailing
// bytes.
func (r *Reader) End() error {
	if r.Remaining() != 0 {
		return r.syntax("trailing bytes")
	}
	return nil
}
