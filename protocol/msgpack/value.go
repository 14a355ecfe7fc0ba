package msgpack

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

// Writer appends msgpack to a byte slice through a msgpack.Encoder.
// Writers are pooled, each with its encoder bound to it, so that encoding
// allocates nothing but the output.
//
// The encoder writes in notepack.io's encodings: integers in their
// smallest form (EncodeUint and EncodeInt, as UseCompactInts does),
// float64 for every other number (EncodeFloat64 without compact floats),
// strings as str (fixstr, str 8, 16, 32), binary as bin (8, 16, 32), and
// the smallest array and map headers.
type Writer struct {
	buf []byte
	enc *msgpack.Encoder
	// scratch holds an unescaped JSON string while it is encoded.
	scratch []byte
}

// Write implements io.Writer for the encoder; it never fails.
func (w *Writer) Write(p []byte) (int, error) {
	w.buf = append(w.buf, p...)
	return len(p), nil
}

// WriteByte implements io.ByteWriter for the encoder; it never fails.
func (w *Writer) WriteByte(c byte) error {
	w.buf = append(w.buf, c)
	return nil
}

var writerPool = sync.Pool{New: func() any {
	w := new(Writer)
	w.enc = msgpack.NewEncoder(w)
	w.enc.UseCompactInts(true)
	return w
}}

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
	if cap(w.scratch) > 64<<10 {
		w.scratch = nil // do not keep a big string's buffer
	}
	writerPool.Put(w)
	return out
}

// The Encoder's methods return only the errors of the writer, and a
// writer never fails: their errors are ignored below.

// Bool writes b as true or false.
func (w *Writer) Bool(b bool) { _ = w.enc.EncodeBool(b) }

// Nil writes nil (null).
func (w *Writer) Nil() { _ = w.enc.EncodeNil() }

// Uint writes v in the smallest unsigned or fixint encoding.
func (w *Writer) Uint(v uint64) { _ = w.enc.EncodeUint(v) }

// Int writes v in its smallest integer encoding.
func (w *Writer) Int(v int64) { _ = w.enc.EncodeInt(v) }

// Float writes f as a float 64.
func (w *Writer) Float(f float64) { _ = w.enc.EncodeFloat64(f) }

// Str writes s as a str (fixstr, str 8, 16 or 32).
func (w *Writer) Str(s string) { _ = w.enc.EncodeString(s) }

// StrBytes writes the bytes of b as a str. The encoder reads the string
// only while it copies it to w (it does not intern strings: no dict, no
// UseInternedStrings), so a view of b's bytes saves copying them to a
// string first.
func (w *Writer) StrBytes(b []byte) {
	_ = w.enc.EncodeString(unsafe.String(unsafe.SliceData(b), len(b)))
}

// Bin writes b as a bin, even when nil (EncodeBytes writes nil as nil):
// notepack.io writes an empty Buffer as bin 8 of length 0.
func (w *Writer) Bin(b []byte) {
	_ = w.enc.EncodeBytesLen(len(b))
	w.buf = append(w.buf, b...)
}

// ArrayLen writes the header of an array of n elements, which follow.
func (w *Writer) ArrayLen(n int) { _ = w.enc.EncodeArrayLen(n) }

// MapLen writes the header of a map of n key/value pairs, which follow.
func (w *Writer) MapLen(n int) { _ = w.enc.EncodeMapLen(n) }

// Number writes f as notepack.io encodes a JavaScript number: an integer
// encoding when f is integral, float64 otherwise. notepack.io writes
// garbage for integral values outside [-2^63, 2^64); they are written as
// float64 here, which decodes to the same number. (The encoder's compact
// floats would write integral floats as integers too, but only within
// the int64 range: notepack.io writes [2^63, 2^64) as uint 64.)
func (w *Writer) Number(f float64) {
	if math.Floor(f) != f || math.IsInf(f, 0) {
		w.Float(f)
		return
	}
	if f >= 0 { // includes -0, which notepack.io writes as 0
		if f < 1<<64 {
			w.Uint(uint64(f))
			return
		}
		w.Float(f)
		return
	}
	if f >= -(1 << 63) {
		w.Int(int64(f))
		return
	}
	w.Float(f)
}

// reserveHeader writes a one-byte array or map header, to be fixed by
// patchHeader once the container's size is known, and returns its
// offset.
func (w *Writer) reserveHeader(isMap bool) int {
	at := len(w.buf)
	if isMap {
		w.MapLen(0)
	} else {
		w.ArrayLen(0)
	}
	return at
}

// patchHeader replaces the one-byte header reserved at at by the header
// of a container of n elements, which the encoder writes; a wider header
// moves the elements.
func (w *Writer) patchHeader(at, n int, isMap bool) {
	end := len(w.buf)
	if isMap {
		w.MapLen(n)
	} else {
		w.ArrayLen(n)
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

// AppendArrayHeader appends the header of an array of n elements.
func AppendArrayHeader(dst []byte, n int) []byte {
	w := NewWriter(dst)
	w.ArrayLen(n)
	return w.Done()
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

// Reader decodes msgpack as notepack.io does, bounded by Limits, with a
// msgpack.Decoder reading from buf. Strings and binary values are not
// copied: the decoder reads their headers, and their bytes are sliced
// from buf. Readers are pooled; release puts one back.
type Reader struct {
	buf  []byte
	lim  Limits
	atts int // binary values read so far
	br   bytes.Reader
	dec  *msgpack.Decoder
}

var readerPool = sync.Pool{New: func() any {
	r := new(Reader)
	r.dec = msgpack.NewDecoder(&r.br) // a bytes.Reader is read directly, without buffering
	return r
}}

// NewReader returns a pooled Reader of buf, bounded by lim (zero fields
// the defaults); Release puts it back.
func NewReader(buf []byte, lim Limits) *Reader {
	r := readerPool.Get().(*Reader)
	r.buf, r.lim, r.atts = buf, lim.WithDefaults(), 0
	r.br.Reset(buf)
	return r
}

// Release puts r back in the pool; r must not be used afterwards.
func (r *Reader) Release() {
	r.buf = nil
	r.br.Reset(nil)
	readerPool.Put(r)
}

// Offset returns the offset of the next byte to read.
func (r *Reader) Offset() int { return len(r.buf) - r.br.Len() }

// Seek moves the reader to offset pos, an offset it has been at.
func (r *Reader) Seek(pos int) { _, _ = r.br.Seek(int64(pos), io.SeekStart) }

// Remaining returns the number of bytes left to read.
func (r *Reader) Remaining() int { return r.br.Len() }

func (r *Reader) syntax(msg string) error {
	return &SyntaxError{Offset: r.Offset(), Msg: msg}
}

// fail turns an error of the decoder into a *SyntaxError: input that
// ends in the middle of a value is the only error left once the type
// byte has been checked.
func (r *Reader) fail(err error) error {
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return r.syntax("unexpected end of input")
	}
	return r.syntax(err.Error())
}

// take returns the next n bytes of the input, a length read from it.
func (r *Reader) take(n int) ([]byte, error) {
	if n < 0 || n > r.Remaining() {
		return nil, r.syntax("length exceeds the input")
	}
	pos := r.Offset()
	r.Seek(pos + n)
	return r.buf[pos : pos+n : pos+n], nil
}

// count checks that n elements (each at least per bytes long), a count
// the decoder read, fit in the rest of the input, so no count can make
// the decoder allocate or loop beyond the size of the message.
func (r *Reader) count(n, per int, err error) (int, error) {
	if err != nil {
		return 0, r.fail(err)
	}
	if n < 0 || n > r.Remaining()/per {
		return 0, r.syntax("element count exceeds the input")
	}
	return n, nil
}

// bytes reads the value of a str or bin: its header through the decoder,
// its bytes from the input.
func (r *Reader) bytes() ([]byte, error) {
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
func (r *Reader) ext(c byte) (Token, error) {
	typ, n, err := r.dec.DecodeExtHeader()
	if err != nil {
		return Token{}, r.fail(err)
	}
	data, err := r.take(n)
	if err != nil {
		return Token{}, err
	}
	switch {
	case typ == 0 && (c == msgpcode.Ext8 || c == msgpcode.Ext16 || c == msgpcode.Ext32):
		return Token{Kind: KindBin, Bytes: data}, nil
	case typ == 0 && c == msgpcode.FixExt1:
		return Token{Kind: KindUndefined}, nil
	case typ == 0 && c == msgpcode.FixExt8:
		hi := float64(int32(binary.BigEndian.Uint32(data))) * (1 << 32)
		lo := float64(binary.BigEndian.Uint32(data[4:]))
		return Token{Kind: KindDate, Float: timeClip(hi + lo)}, nil
	case typ == -1 && c == msgpcode.FixExt4:
		s := float64(binary.BigEndian.Uint32(data))
		return Token{Kind: KindDate, Float: timeClip(s * 1e3)}, nil
	case typ == -1 && c == msgpcode.FixExt8:
		hi := binary.BigEndian.Uint32(data)
		lo := binary.BigEndian.Uint32(data[4:])
		s := float64(uint64(hi&3)<<32 | uint64(lo))
		return Token{Kind: KindDate, Float: timeClip(float64(s*1e3) + float64(hi>>2)/1e6)}, nil
	case typ == -1 && c == msgpcode.Ext8:
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

// Next decodes the next value; for an array or a map, only its header.
func (r *Reader) Next() (Token, error) {
	c, err := r.dec.PeekCode()
	if err != nil {
		return Token{}, r.fail(err)
	}
	var t Token
	switch codeClasses[c] {
	case codeInt:
		t.Kind = KindInt
		t.Int, err = r.dec.DecodeInt64()
	case codeStr:
		t.Kind = KindStr
		if t.Bytes, err = r.bytes(); err != nil {
			return Token{}, err
		}
	case codeMap:
		t.Kind = KindMap
		n, err := r.dec.DecodeMapLen()
		if t.Len, err = r.count(n, 2, err); err != nil {
			return Token{}, err
		}
	case codeArray:
		t.Kind = KindArray
		n, err := r.dec.DecodeArrayLen()
		if t.Len, err = r.count(n, 1, err); err != nil {
			return Token{}, err
		}
	case codeBin:
		t.Kind = KindBin
		if t.Bytes, err = r.bytes(); err != nil {
			return Token{}, err
		}
	case codeExt:
		return r.ext(c)
	case codeNil:
		t.Kind, err = KindNil, r.dec.DecodeNil()
	case codeBool:
		t.Kind = KindBool
		t.Bool, err = r.dec.DecodeBool()
	case codeFloat:
		t.Kind = KindFloat
		t.Float, err = r.dec.DecodeFloat64()
	case codeUint64:
		t.Kind = KindInt
		if t.Uint, err = r.dec.DecodeUint64(); t.Uint > math.MaxInt64 {
			t.Kind = KindUint
		} else {
			t.Int, t.Uint = int64(t.Uint), 0
		}
	default:
		return Token{}, r.syntax("invalid type byte")
	}
	if err != nil {
		return Token{}, r.fail(err)
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
