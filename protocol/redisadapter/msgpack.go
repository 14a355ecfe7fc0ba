package redisadapter

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"math"
	"sync"
	"unsafe"

	"github.com/vmihailenco/msgpack/v5"
	"github.com/vmihailenco/msgpack/v5/msgpcode"
)

// The msgpack primitives (value headers, integers, floats, lengths) are
// read and written by github.com/vmihailenco/msgpack/v5. This file adapts
// it to notepack.io's conventions and to the package's bounds: what is
// left here is what the library does not do (notepack.io's undefined,
// ArrayBuffer and Date extensions, JavaScript truthiness, the checks of
// counts and lengths against the bytes that remain, nesting limits).

// writer appends msgpack to a byte slice through a msgpack.Encoder.
// Writers are pooled, each with its encoder bound to it, so that encoding
// allocates nothing but the output.
//
// The encoder writes in notepack.io's encodings: integers in their
// smallest form (EncodeUint and EncodeInt, as UseCompactInts does),
// float64 for every other number (EncodeFloat64 without compact floats),
// strings as str (fixstr, str 8, 16, 32), binary as bin (8, 16, 32), and
// the smallest array and map headers.
type writer struct {
	buf []byte
	enc *msgpack.Encoder
	// scratch holds an unescaped JSON string while it is encoded.
	scratch []byte
}

// Write implements io.Writer for the encoder; it never fails.
func (w *writer) Write(p []byte) (int, error) {
	w.buf = append(w.buf, p...)
	return len(p), nil
}

// WriteByte implements io.ByteWriter for the encoder; it never fails.
func (w *writer) WriteByte(c byte) error {
	w.buf = append(w.buf, c)
	return nil
}

var writerPool = sync.Pool{New: func() any {
	w := new(writer)
	w.enc = msgpack.NewEncoder(w)
	w.enc.UseCompactInts(true)
	return w
}}

// getWriter returns a writer appending to dst; done returns the result.
func getWriter(dst []byte) *writer {
	w := writerPool.Get().(*writer)
	w.buf = dst
	return w
}

// done returns what w wrote, appended to the slice getWriter was given,
// and puts w back in the pool.
func (w *writer) done() []byte {
	out := w.buf
	w.buf = nil
	if cap(w.scratch) > 64<<10 {
		w.scratch = nil // do not keep a big string's buffer
	}
	writerPool.Put(w)
	return out
}

// The Encoder's methods return only the errors of the writer, and a
// writer never fails: their errors are ignored below.

func (w *writer) boolean(b bool) { _ = w.enc.EncodeBool(b) }

func (w *writer) null() { _ = w.enc.EncodeNil() }

func (w *writer) uint(v uint64) { _ = w.enc.EncodeUint(v) }

func (w *writer) int(v int64) { _ = w.enc.EncodeInt(v) }

func (w *writer) float(f float64) { _ = w.enc.EncodeFloat64(f) }

func (w *writer) str(s string) { _ = w.enc.EncodeString(s) }

// strBytes writes the bytes of b as a str. The encoder reads the string
// only while it copies it to w (it does not intern strings: no dict, no
// UseInternedStrings), so a view of b's bytes saves copying them to a
// string first.
func (w *writer) strBytes(b []byte) {
	_ = w.enc.EncodeString(unsafe.String(unsafe.SliceData(b), len(b)))
}

// bin writes b as a bin, even when nil (EncodeBytes writes nil as nil):
// notepack.io writes an empty Buffer as bin 8 of length 0.
func (w *writer) bin(b []byte) {
	_ = w.enc.EncodeBytesLen(len(b))
	w.buf = append(w.buf, b...)
}

func (w *writer) arrayLen(n int) { _ = w.enc.EncodeArrayLen(n) }

func (w *writer) mapLen(n int) { _ = w.enc.EncodeMapLen(n) }

// number writes f as notepack.io encodes a JavaScript number: an integer
// encoding when f is integral, float64 otherwise. notepack.io writes
// garbage for integral values outside [-2^63, 2^64); they are written as
// float64 here, which decodes to the same number. (The encoder's compact
// floats would write integral floats as integers too, but only within
// the int64 range: notepack.io writes [2^63, 2^64) as uint 64.)
func (w *writer) number(f float64) {
	if math.Floor(f) != f || math.IsInf(f, 0) {
		w.float(f)
		return
	}
	if f >= 0 { // includes -0, which notepack.io writes as 0
		if f < 1<<64 {
			w.uint(uint64(f))
			return
		}
		w.float(f)
		return
	}
	if f >= -(1 << 63) {
		w.int(int64(f))
		return
	}
	w.float(f)
}

// reserveHeader writes a one-byte array or map header, to be fixed by
// patchHeader once the container's size is known, and returns its
// offset.
func (w *writer) reserveHeader(isMap bool) int {
	at := len(w.buf)
	if isMap {
		w.mapLen(0)
	} else {
		w.arrayLen(0)
	}
	return at
}

// patchHeader replaces the one-byte header reserved at at by the header
// of a container of n elements, which the encoder writes; a wider header
// moves the elements.
func (w *writer) patchHeader(at, n int, isMap bool) {
	end := len(w.buf)
	if isMap {
		w.mapLen(n)
	} else {
		w.arrayLen(n)
	}
	var h [5]byte
	size := copy(h[:], w.buf[end:])
	w.buf = w.buf[:end]
	if size > 1 {
		w.buf = append(w.buf, h[:size-1]...) // room for the wider header
		copy(w.buf[at+size:], w.buf[at+1:end])
	}
	copy(w.buf[at:], h[:size])
}

// appendArrayHeader appends the header of an array of n elements.
func appendArrayHeader(dst []byte, n int) []byte {
	w := getWriter(dst)
	w.arrayLen(n)
	return w.done()
}

// kind is the kind of a msgpack value as notepack.io decodes it.
type kind uint8

const (
	kindNil       kind = iota // null
	kindUndefined             // fixext 1 of type 0: undefined
	kindBool                  // b
	kindInt                   // i
	kindUint                  // u, above math.MaxInt64
	kindFloat                 // f (float32 widened, or float64)
	kindStr                   // s: the raw bytes, not necessarily UTF-8
	kindBin                   // s: a Buffer (bin), or an ArrayBuffer (ext type 0)
	kindArray                 // n elements follow
	kindMap                   // n key/value pairs follow
	kindDate                  // f: milliseconds since the epoch, NaN if invalid
	kindExt                   // i: ext type, s: data; notepack.io's [type, Buffer]
)

// token is one decoded msgpack value; the elements of an array or a map
// follow it in the reader.
type token struct {
	kind kind
	b    bool
	i    int64
	u    uint64
	f    float64
	s    []byte
	n    int
}

// number reports whether t is a number and its value as a float64.
func (t token) number() (float64, bool) {
	switch t.kind {
	case kindInt:
		return float64(t.i), true
	case kindUint:
		return float64(t.u), true
	case kindFloat:
		return t.f, true
	}
	return 0, false
}

// truthy reports whether t is truthy in JavaScript.
func (t token) truthy() bool {
	switch t.kind {
	case kindNil, kindUndefined:
		return false
	case kindBool:
		return t.b
	case kindInt:
		return t.i != 0
	case kindFloat:
		return t.f != 0 && !math.IsNaN(t.f)
	case kindStr:
		return len(t.s) > 0
	}
	return true
}

// reader decodes msgpack as notepack.io does, bounded by Limits, with a
// msgpack.Decoder reading from buf. Strings and binary values are not
// copied: the decoder reads their headers, and their bytes are sliced
// from buf. Readers are pooled; release puts one back.
type reader struct {
	buf  []byte
	lim  Limits
	atts int // binary values read so far
	br   bytes.Reader
	dec  *msgpack.Decoder
}

var readerPool = sync.Pool{New: func() any {
	r := new(reader)
	r.dec = msgpack.NewDecoder(&r.br) // a bytes.Reader is read directly, without buffering
	return r
}}

func newReader(buf []byte, lim Limits) *reader {
	r := readerPool.Get().(*reader)
	r.buf, r.lim, r.atts = buf, lim.withDefaults(), 0
	r.br.Reset(buf)
	return r
}

// release puts r back in the pool; r must not be used afterwards.
func (r *reader) release() {
	r.buf = nil
	r.br.Reset(nil)
	readerPool.Put(r)
}

// offset returns the offset of the next byte to read.
func (r *reader) offset() int { return len(r.buf) - r.br.Len() }

// seek moves the reader to offset pos, an offset it has been at.
func (r *reader) seek(pos int) { _, _ = r.br.Seek(int64(pos), io.SeekStart) }

func (r *reader) remaining() int { return r.br.Len() }

func (r *reader) syntax(msg string) error {
	return &SyntaxError{Offset: r.offset(), Msg: msg}
}

// fail turns an error of the decoder into a *SyntaxError: input that
// ends in the middle of a value is the only error left once the type
// byte has been checked.
func (r *reader) fail(err error) error {
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return r.syntax("unexpected end of input")
	}
	return r.syntax(err.Error())
}

// take returns the next n bytes of the input, a length read from it.
func (r *reader) take(n int) ([]byte, error) {
	if n < 0 || n > r.remaining() {
		return nil, r.syntax("length exceeds the input")
	}
	pos := r.offset()
	r.seek(pos + n)
	return r.buf[pos : pos+n : pos+n], nil
}

// count checks that n elements (each at least per bytes long), a count
// the decoder read, fit in the rest of the input, so no count can make
// the decoder allocate or loop beyond the size of the message.
func (r *reader) count(n, per int, err error) (int, error) {
	if err != nil {
		return 0, r.fail(err)
	}
	if n < 0 || n > r.remaining()/per {
		return 0, r.syntax("element count exceeds the input")
	}
	return n, nil
}

// bytes reads the value of a str or bin: its header through the decoder,
// its bytes from the input.
func (r *reader) bytes() ([]byte, error) {
	n, err := r.dec.DecodeBytesLen()
	if err != nil {
		return nil, r.fail(err)
	}
	return r.take(n)
}

// ext decodes an ext value, whose header starts with c, as notepack.io
// does: type 0 is an ArrayBuffer for ext 8/16/32, undefined for fixext 1
// and a millisecond Date for fixext 8; type -1 is a timestamp (fixext 4,
// fixext 8, ext 8 of 12 bytes); anything else is [type, Buffer]. The
// library's DecodeTime does not fit: notepack.io's Dates are JavaScript
// time values (TimeClip'ed milliseconds, NaN when out of range), which
// time.Time does not hold, and type 0 is notepack.io's own.
func (r *reader) ext(c byte) (token, error) {
	typ, n, err := r.dec.DecodeExtHeader()
	if err != nil {
		return token{}, r.fail(err)
	}
	data, err := r.take(n)
	if err != nil {
		return token{}, err
	}
	switch {
	case typ == 0 && (c == msgpcode.Ext8 || c == msgpcode.Ext16 || c == msgpcode.Ext32):
		return token{kind: kindBin, s: data}, nil
	case typ == 0 && c == msgpcode.FixExt1:
		return token{kind: kindUndefined}, nil
	case typ == 0 && c == msgpcode.FixExt8:
		hi := float64(int32(binary.BigEndian.Uint32(data))) * (1 << 32)
		lo := float64(binary.BigEndian.Uint32(data[4:]))
		return token{kind: kindDate, f: timeClip(hi + lo)}, nil
	case typ == -1 && c == msgpcode.FixExt4:
		s := float64(binary.BigEndian.Uint32(data))
		return token{kind: kindDate, f: timeClip(s * 1e3)}, nil
	case typ == -1 && c == msgpcode.FixExt8:
		hi := binary.BigEndian.Uint32(data)
		lo := binary.BigEndian.Uint32(data[4:])
		s := float64(uint64(hi&3)<<32 | uint64(lo))
		return token{kind: kindDate, f: timeClip(float64(s*1e3) + float64(hi>>2)/1e6)}, nil
	case typ == -1 && c == msgpcode.Ext8:
		if n != 12 {
			// notepack.io reads 12 bytes whatever the length says and
			// loses its place; refuse instead.
			return token{}, r.syntax("timestamp 96 of the wrong length")
		}
		ns := float64(binary.BigEndian.Uint32(data))
		s := float64(int32(binary.BigEndian.Uint32(data[4:])))*(1<<32) + float64(binary.BigEndian.Uint32(data[8:]))
		return token{kind: kindDate, f: timeClip(float64(s*1e3) + ns/1e6)}, nil
	}
	return token{kind: kindExt, i: int64(typ), s: data}, nil
}

// timeClip is ECMAScript's TimeClip: the time value of new Date(ms).
func timeClip(ms float64) float64 {
	if math.IsNaN(ms) || math.Abs(ms) > 8.64e15 {
		return math.NaN()
	}
	return math.Trunc(ms) + 0 // +0 turns -0 into 0
}

// codeClass is how next decodes a value by its first byte.
type codeClass uint8

const (
	codeInvalid codeClass = iota // 0xc1, never used
	codeInt                      // fixint, int 8-64, uint 8-32
	codeUint64
	codeFloat // float 32, float 64
	codeNil
	codeBool
	codeStr
	codeBin
	codeArray
	codeMap
	codeExt
)

// codeClasses classifies the first bytes of values, from the library's
// msgpcode (whose codes are variables: a table beats a switch on them).
var codeClasses = func() (t [256]codeClass) {
	for i := range t {
		c := byte(i)
		switch {
		case msgpcode.IsFixedNum(c):
			t[i] = codeInt
		case msgpcode.IsString(c):
			t[i] = codeStr
		case msgpcode.IsBin(c):
			t[i] = codeBin
		case msgpcode.IsFixedArray(c), c == msgpcode.Array16, c == msgpcode.Array32:
			t[i] = codeArray
		case msgpcode.IsFixedMap(c), c == msgpcode.Map16, c == msgpcode.Map32:
			t[i] = codeMap
		case msgpcode.IsExt(c):
			t[i] = codeExt
		case c == msgpcode.Nil:
			t[i] = codeNil
		case c == msgpcode.False, c == msgpcode.True:
			t[i] = codeBool
		case c == msgpcode.Float, c == msgpcode.Double:
			t[i] = codeFloat
		case c == msgpcode.Uint64:
			t[i] = codeUint64
		case c == msgpcode.Uint8, c == msgpcode.Uint16, c == msgpcode.Uint32,
			c == msgpcode.Int8, c == msgpcode.Int16, c == msgpcode.Int32, c == msgpcode.Int64:
			t[i] = codeInt
		}
	}
	return t
}()

// next decodes the next value; for an array or a map, only its header.
func (r *reader) next() (token, error) {
	c, err := r.dec.PeekCode()
	if err != nil {
		return token{}, r.fail(err)
	}
	var t token
	switch codeClasses[c] {
	case codeInt:
		t.kind = kindInt
		t.i, err = r.dec.DecodeInt64()
	case codeStr:
		t.kind = kindStr
		if t.s, err = r.bytes(); err != nil {
			return token{}, err
		}
	case codeMap:
		t.kind = kindMap
		n, err := r.dec.DecodeMapLen()
		if t.n, err = r.count(n, 2, err); err != nil {
			return token{}, err
		}
	case codeArray:
		t.kind = kindArray
		n, err := r.dec.DecodeArrayLen()
		if t.n, err = r.count(n, 1, err); err != nil {
			return token{}, err
		}
	case codeBin:
		t.kind = kindBin
		if t.s, err = r.bytes(); err != nil {
			return token{}, err
		}
	case codeExt:
		return r.ext(c)
	case codeNil:
		t.kind, err = kindNil, r.dec.DecodeNil()
	case codeBool:
		t.kind = kindBool
		t.b, err = r.dec.DecodeBool()
	case codeFloat:
		t.kind = kindFloat
		t.f, err = r.dec.DecodeFloat64()
	case codeUint64:
		t.kind = kindInt
		if t.u, err = r.dec.DecodeUint64(); t.u > math.MaxInt64 {
			t.kind = kindUint
		} else {
			t.i, t.u = int64(t.u), 0
		}
	default:
		return token{}, r.syntax("invalid type byte")
	}
	if err != nil {
		return token{}, r.fail(err)
	}
	return t, nil
}

// skip skips the elements of t, if it is an array or a map, at depth
// depth (t's own nesting level), checking them as appendJSON would.
// (The decoder's Skip would not bound the nesting, and would copy the
// strings it skips.)
func (r *reader) skip(t token, depth int) error {
	switch t.kind {
	case kindArray, kindMap:
		if depth > r.lim.MaxDepth {
			return ErrTooDeep
		}
		n := t.n
		if t.kind == kindMap {
			n *= 2
		}
		for range n {
			e, err := r.next()
			if err != nil {
				return err
			}
			if err := r.skip(e, depth+1); err != nil {
				return err
			}
		}
	}
	return nil
}

// jsonSize estimates the size of the JSON text appendJSON writes for the
// value that starts with t, by reading it a first time: exact for most
// values, an upper bound for numbers, a guess for strings (which rarely
// need escapes). The reader is left where it was.
func (r *reader) jsonSize(t token) int {
	pos := r.offset()
	n, err := r.estimate(t, 0)
	r.seek(pos)
	if err != nil {
		return 64
	}
	return n + 16
}

// estimate returns the estimated JSON size of the value that starts with
// t, a comma included, and skips its elements; depth is t's level.
func (r *reader) estimate(t token, depth int) (int, error) {
	switch t.kind {
	case kindNil, kindUndefined:
		return 5, nil
	case kindBool:
		return 6, nil
	case kindInt:
		if t.i >= 0 && t.i < 100 {
			return 3, nil
		}
		return 21, nil
	case kindUint, kindFloat:
		return 25, nil
	case kindStr:
		return len(t.s) + len(t.s)/8 + 3, nil
	case kindDate:
		return 30, nil
	case kindBin:
		return 32, nil
	case kindExt:
		return 40, nil
	case kindArray, kindMap:
		if depth > r.lim.MaxDepth {
			return 0, ErrTooDeep
		}
		size := 2
		n := t.n
		if t.kind == kindMap {
			n *= 2
		}
		for range n {
			e, err := r.next()
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

// end checks that the whole input was read: notepack.io refuses trailing
// bytes.
func (r *reader) end() error {
	if r.remaining() != 0 {
		return r.syntax("trailing bytes")
	}
	return nil
}
