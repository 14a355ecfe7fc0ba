package msgpack

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"strconv"
	"unicode/utf16"
	"unicode/utf8"
	"unsafe"

	"github.com/sockwasm/sockwasm/protocol/socketio"
)

// AppendJSON appends the JSON text of msg, a single msgpack value, and
// appends its binary values to atts: the JSON that a Node.js server sends
// its clients for the value notepack.io decodes from msg. Binary values
// (bin, and ext type 0 ArrayBuffers) become placeholders
// {"_placeholder":true,"num":N} numbered from len(atts), in document
// order; the attachments alias msg. Integers are written exactly (even
// above 2^53, where JavaScript would round), other numbers as
// Number.prototype.toString writes them, NaN and the infinities as null,
// timestamps as ISO strings (null when out of range), other ext values as
// [type, <binary>], undefined as null in arrays and not at all in maps
// (and as null at the top), and strings with ill-formed UTF-8 with U+FFFD
// for each maximal ill-formed subsequence. A map key must be a string or a
// number (written in its JavaScript string form); a "__proto__" member is
// dropped, as assigning it in JavaScript adds no property. A map with
// "_placeholder": true is refused with ErrBadPlaceholder, as it would
// read as a placeholder. On error dst and atts are returned unchanged.
func AppendJSON(dst, msg []byte, atts [][]byte, lim Limits) ([]byte, [][]byte, error) {
	r := NewReader(msg, lim)
	defer r.Release()
	t, err := r.Next()
	if err != nil {
		return dst, atts, err
	}
	outAtts := atts
	out, defined, err := r.AppendJSONValue(dst, t, &outAtts, 0)
	if err == nil {
		err = r.End()
	}
	if err != nil {
		return dst, atts, err
	}
	if !defined {
		out = append(out, "null"...)
	}
	return out, outAtts, nil
}

// AppendJSONValue appends the value that starts with t, whose enclosing
// container is at nesting level depth (0 at the top). defined is false
// for undefined, of which nothing is written. Binary values are appended
// to *atts; with atts nil they are refused.
func (r *Reader) AppendJSONValue(dst []byte, t Token, atts *[][]byte, depth int) ([]byte, bool, error) {
	var err error
	switch t.Kind {
	case KindNil:
		return append(dst, "null"...), true, nil
	case KindUndefined:
		return dst, false, nil
	case KindBool:
		if t.Bool {
			return append(dst, "true"...), true, nil
		}
		return append(dst, "false"...), true, nil
	case KindInt:
		return strconv.AppendInt(dst, t.Int, 10), true, nil
	case KindUint:
		return strconv.AppendUint(dst, t.Uint, 10), true, nil
	case KindFloat:
		return AppendJSONNumber(dst, t.Float), true, nil
	case KindStr:
		return appendJSONString(dst, t.Bytes), true, nil
	case KindDate:
		return appendISODate(dst, t.Float), true, nil
	case KindBin:
		dst, err = r.placeholder(dst, t.Bytes, atts, depth+1)
		return dst, true, err
	case KindExt:
		// notepack.io's [type, Buffer]
		if depth+1 > r.lim.MaxDepth {
			return dst, false, ErrTooDeep
		}
		dst = append(dst, '[')
		dst = strconv.AppendInt(dst, t.Int, 10)
		dst = append(dst, ',')
		dst, err = r.placeholder(dst, t.Bytes, atts, depth+2)
		return append(dst, ']'), true, err
	case KindArray:
		if depth+1 > r.lim.MaxDepth {
			return dst, false, ErrTooDeep
		}
		dst = append(dst, '[')
		for i := range t.Len {
			if i > 0 {
				dst = append(dst, ',')
			}
			var defined bool
			var err error
			dst, defined, err = r.appendValue(dst, atts, depth+1)
			if err != nil {
				return dst, false, err
			}
			if !defined {
				dst = append(dst, "null"...)
			}
		}
		return append(dst, ']'), true, nil
	case KindMap:
		if depth+1 > r.lim.MaxDepth {
			return dst, false, ErrTooDeep
		}
		dst = append(dst, '{')
		first := true
		var err error
		for range t.Len {
			mark := len(dst)
			if !first {
				dst = append(dst, ',')
			}
			var k Token
			if key, ok := r.fixstr(); ok {
				k = Token{Kind: KindStr, Bytes: key}
			} else if k, err = r.Next(); err != nil {
				return dst, false, err
			}
			if k.Kind == KindStr && string(k.Bytes) == "__proto__" {
				v, err := r.Next()
				if err != nil {
					return dst, false, err
				}
				if err := r.Skip(v, depth+2); err != nil {
					return dst, false, err
				}
				dst = dst[:mark]
				continue
			}
			if dst, err = AppendMapKey(dst, k); err != nil {
				return dst, false, err
			}
			dst = append(dst, ':')
			if k.Kind == KindStr && string(k.Bytes) == "_placeholder" && r.pos < len(r.buf) && r.buf[r.pos] == codeTrue {
				// It would read as a placeholder.
				r.pos++
				return dst, false, ErrBadPlaceholder
			}
			var defined bool
			dst, defined, err = r.appendValue(dst, atts, depth+1)
			if err != nil {
				return dst, false, err
			}
			if !defined {
				dst = dst[:mark]
				continue
			}
			first = false
		}
		return append(dst, '}'), true, nil
	}
	return dst, false, r.syntax("unexpected value") // not reached
}

// appendValue appends the JSON of the next value as AppendJSONValue
// does. The commonest values (positive fixint, fixstr, float 64) are
// decoded here from their type byte, without a Token.
func (r *Reader) appendValue(dst []byte, atts *[][]byte, depth int) ([]byte, bool, error) {
	if r.pos < len(r.buf) {
		switch c := r.buf[r.pos]; {
		case c < 0x80:
			r.pos++
			return strconv.AppendUint(dst, uint64(c), 10), true, nil
		case c == codeFloat64 && len(r.buf)-r.pos > 8:
			f := math.Float64frombits(binary.BigEndian.Uint64(r.buf[r.pos+1:]))
			r.pos += 9
			return AppendJSONNumber(dst, f), true, nil
		}
		if s, ok := r.fixstr(); ok {
			return appendJSONString(dst, s), true, nil
		}
	}
	t, err := r.Next()
	if err != nil {
		return dst, false, err
	}
	return r.AppendJSONValue(dst, t, atts, depth)
}

// fixstr reads the next value if it is a whole fixstr, and returns its
// bytes.
func (r *Reader) fixstr() ([]byte, bool) {
	if r.pos >= len(r.buf) {
		return nil, false
	}
	c := r.buf[r.pos]
	n := int(c & 0x1f)
	if c&0xe0 != 0xa0 || n >= len(r.buf)-r.pos {
		return nil, false
	}
	s := r.buf[r.pos+1 : r.pos+1+n : r.pos+1+n]
	r.pos += 1 + n
	return s, true
}

// AppendMapKey appends the map key k as a JSON string: JavaScript turns a
// number key into its string form.
func AppendMapKey(dst []byte, k Token) ([]byte, error) {
	switch k.Kind {
	case KindStr:
		return appendJSONString(dst, k.Bytes), nil
	case KindInt:
		dst = append(dst, '"')
		dst = strconv.AppendInt(dst, k.Int, 10)
		return append(dst, '"'), nil
	case KindUint:
		dst = append(dst, '"')
		dst = strconv.AppendUint(dst, k.Uint, 10)
		return append(dst, '"'), nil
	case KindFloat:
		dst = append(dst, '"')
		dst = AppendJSNumber(dst, k.Float)
		return append(dst, '"'), nil
	}
	return dst, ErrMapKey
}

// placeholder appends the placeholder of the binary value b, at nesting
// level level, and records b as an attachment.
func (r *Reader) placeholder(dst, b []byte, atts *[][]byte, level int) ([]byte, error) {
	if atts == nil {
		return dst, ErrUnexpectedBinary
	}
	if level > r.lim.MaxDepth {
		return dst, ErrTooDeep
	}
	r.atts++
	if r.atts > r.lim.MaxAttachments {
		return dst, ErrTooManyAttachments
	}
	dst = socketio.AppendPlaceholder(dst, len(*atts))
	*atts = append(*atts, b)
	return dst, nil
}

// appendJSONString appends b, the bytes of a msgpack str, as
// JSON.stringify writes the string Node.js decodes from them
// (socketio.AppendString: ill-formed UTF-8 becomes U+FFFD as
// Buffer.toString("utf8") makes it).
func appendJSONString(dst, b []byte) []byte {
	return socketio.AppendString(dst, unsafe.String(unsafe.SliceData(b), len(b)))
}

// AppendMsgpack appends the msgpack encoding of data, one JSON value in
// which placeholders {"_placeholder":true,"num":N} stand for atts[N], as
// notepack.io encodes the value JSON.parse gives with the placeholders
// replaced by Buffers: the binary goes inline as bin, integers take the
// smallest encoding, other numbers float64, strings str, objects maps
// with their members in order. (JSON.parse would also move array-index
// keys like "1" to the front and keep only the last of duplicate keys;
// the receiving notepack.io decoder and JSON.parse do that anyway.)
// Integers are taken exactly, even beyond 2^53; integral values outside
// [-2^63, 2^64) become float64. A \u escape of a lone surrogate becomes
// U+FFFD. An object with "_placeholder" true is a placeholder, and its num
// must name an attachment (ErrBadPlaceholder). Nesting beyond
// lim.MaxDepth is refused. On error dst is returned unchanged.
func AppendMsgpack(dst, data []byte, atts [][]byte, lim Limits) ([]byte, error) {
	w := Writer{buf: dst}
	if err := w.JSONValue(data, atts, lim); err != nil {
		return dst, err
	}
	return w.buf, nil
}

// AppendMsgpackText appends the msgpack encoding of data, one JSON value,
// as AppendMsgpack does but with no placeholders: an object with
// "_placeholder" is an object like any other, and binary values cannot
// occur. Nesting beyond maxDepth is refused. On error dst is returned
// unchanged.
func AppendMsgpackText(dst, data []byte, maxDepth int) ([]byte, error) {
	e := jsonEncoder{src: data, maxDepth: maxDepth}
	out, err := e.whole(dst)
	if err != nil {
		return dst, err
	}
	return out, nil
}

// JSONValue writes the msgpack of data as AppendMsgpack does.
func (w *Writer) JSONValue(data []byte, atts [][]byte, lim Limits) error {
	out, err := appendJSONMsgpack(w.buf, data, atts, lim)
	if err == nil {
		w.buf = out
	}
	return err
}

// appendJSONMsgpack is AppendMsgpack, except that dst may have been
// written to on error.
func appendJSONMsgpack(dst, data []byte, atts [][]byte, lim Limits) ([]byte, error) {
	lim = lim.WithDefaults()
	e := jsonEncoder{src: data, atts: atts, placeholders: true, maxDepth: lim.MaxDepth}
	return e.whole(dst)
}

// jsonEncoder transcodes JSON text to msgpack in one pass. Its methods
// take the output and return it extended, so that it stays in registers
// rather than in a struct. Container headers are reserved as one byte
// and widened when a container has 16 elements or more.
type jsonEncoder struct {
	src []byte
	pos int
	// atts are the attachments placeholders refer to.
	atts [][]byte
	// placeholders enables placeholder replacement.
	placeholders bool
	maxDepth     int
	// last describes the last literal or number written, for the
	// members of a placeholder.
	last scalar
}

// scalar describes a scalar value written at dst[start:end]: whether it
// is true, or a non-negative integer and which.
type scalar struct {
	start, end int
	isTrue     bool
	isUint     bool
	u          uint64
}

func (e *jsonEncoder) syntax(msg string) error {
	return &SyntaxError{Offset: e.pos, Msg: msg, JSON: true}
}

func (e *jsonEncoder) ws() {
	for e.pos < len(e.src) {
		switch e.src[e.pos] {
		case ' ', '\t', '\n', '\r':
			e.pos++
		default:
			return
		}
	}
}

// whole transcodes src as exactly one JSON value.
func (e *jsonEncoder) whole(dst []byte) ([]byte, error) {
	dst, err := e.value(dst, 0)
	if err != nil {
		return dst, err
	}
	e.ws()
	if e.pos != len(e.src) {
		return dst, e.syntax("data after the JSON value")
	}
	return dst, nil
}

// value transcodes the value at e.pos; depth is the nesting level of the
// enclosing container.
func (e *jsonEncoder) value(dst []byte, depth int) ([]byte, error) {
	e.ws()
	if e.pos >= len(e.src) {
		return dst, e.syntax("unexpected end of input")
	}
	switch c := e.src[e.pos]; {
	case c == '"':
		dst, _, err := e.string(dst)
		return dst, err
	case c == '-' || isDigit(c):
		return e.number(dst)
	case c == '{':
		return e.object(dst, depth+1)
	case c == '[':
		return e.array(dst, depth+1)
	case c == 't':
		return e.literal(dst, "true", codeTrue)
	case c == 'f':
		return e.literal(dst, "false", codeFalse)
	case c == 'n':
		return e.literal(dst, "null", codeNil)
	}
	return dst, e.syntax("invalid character")
}

func (e *jsonEncoder) literal(dst []byte, word string, code byte) ([]byte, error) {
	if len(e.src)-e.pos < len(word) || string(e.src[e.pos:e.pos+len(word)]) != word {
		return dst, e.syntax("invalid literal")
	}
	e.pos += len(word)
	e.last = scalar{start: len(dst), end: len(dst) + 1, isTrue: code == codeTrue}
	return append(dst, code), nil
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// pow10 are the powers of ten that a float64 holds exactly.
var pow10 = [...]float64{1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10,
	1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22}

func (e *jsonEncoder) number(dst []byte) ([]byte, error) {
	src := e.src
	start := e.pos
	i := start
	neg := src[i] == '-'
	if neg {
		i++
	}
	if i >= len(src) || !isDigit(src[i]) {
		e.pos = i
		return dst, e.syntax("invalid number")
	}
	// The significant digits as an integer while they fit, for the
	// exact fast paths.
	var mant uint64
	nd := 0 // digits in mant, leading zeros not counted
	exact := true
	digit := func(c byte) {
		if mant == 0 && c == '0' {
			return
		}
		if nd < 19 {
			mant = mant*10 + uint64(c-'0')
			nd++
		} else {
			exact = false
		}
	}
	if src[i] == '0' {
		i++
	} else {
		for ; i < len(src) && isDigit(src[i]); i++ {
			digit(src[i])
		}
	}
	intEnd := i
	frac := 0
	integer := true
	if i < len(src) && src[i] == '.' {
		integer = false
		i++
		fs := i
		for ; i < len(src) && isDigit(src[i]); i++ {
			digit(src[i])
		}
		frac = i - fs
		if frac == 0 {
			e.pos = i
			return dst, e.syntax("invalid number")
		}
	}
	exp := 0
	if i < len(src) && (src[i] == 'e' || src[i] == 'E') {
		integer = false
		i++
		expNeg := false
		if i < len(src) && (src[i] == '+' || src[i] == '-') {
			expNeg = src[i] == '-'
			i++
		}
		es := i
		for ; i < len(src) && isDigit(src[i]); i++ {
			if exp < 10000 {
				exp = exp*10 + int(src[i]-'0')
			} else {
				exact = false // and exp stops growing
			}
		}
		if i == es {
			e.pos = i
			return dst, e.syntax("invalid number")
		}
		if expNeg {
			exp = -exp
		}
	}
	e.pos = i
	e.last = scalar{start: len(dst)}
	if integer {
		u, ok := mant, exact // up to 19 digits
		if !exact {
			mag := src[start:intEnd]
			if neg {
				mag = mag[1:]
			}
			u, ok = parseUint(mag)
		}
		if ok {
			switch {
			case !neg || u == 0: // -0 is 0, as in notepack.io
				dst = appendUint(dst, u)
				e.last.isUint, e.last.u = true, u
			case u <= 1<<63:
				dst = appendInt(dst, int64(-u))
			}
			if !neg || u <= 1<<63 {
				e.last.end = len(dst)
				return dst, nil
			}
		}
	}
	var f float64
	// Clinger's fast path: an integer below 2^53 times or divided by an
	// exact power of ten is one correctly rounded operation, as
	// strconv.ParseFloat would round.
	if e10 := exp - frac; exact && mant < 1<<53 && e10 >= -22 && e10 <= 22 {
		f = float64(mant)
		if e10 >= 0 {
			f *= pow10[e10]
		} else {
			f /= pow10[-e10]
		}
		if neg {
			f = -f
		}
	} else {
		tok := src[start:i]
		f, _ = strconv.ParseFloat(unsafe.String(unsafe.SliceData(tok), len(tok)), 64) // syntax checked; overflow gives ±Inf as in JavaScript
	}
	dst = appendNumber(dst, f)
	if f >= 0 && f < 1<<64 && math.Floor(f) == f { // written as an integer
		e.last.isUint, e.last.u = true, uint64(f)
	}
	e.last.end = len(dst)
	return dst, nil
}

// parseUint parses decimal digits that fit in a uint64.
func parseUint(b []byte) (uint64, bool) {
	if len(b) > 20 {
		return 0, false
	}
	var u uint64
	for _, c := range b {
		d := uint64(c - '0')
		if u > (1<<64-1-d)/10 {
			return 0, false
		}
		u = u*10 + d
	}
	return u, true
}

func (e *jsonEncoder) object(dst []byte, level int) ([]byte, error) {
	if level > e.maxDepth {
		return dst, ErrTooDeep
	}
	start := len(dst)
	dst = append(dst, 0x80) // fixmap, patched
	e.pos++                 // {
	e.ws()
	if e.pos < len(e.src) && e.src[e.pos] == '}' {
		e.pos++
		return dst, nil
	}
	n := 0
	var isPlaceholder, numOK bool
	num := 0
	var err error
	for {
		e.ws()
		if e.pos >= len(e.src) || e.src[e.pos] != '"' {
			return dst, e.syntax("expected object key")
		}
		var key []byte
		if dst, key, err = e.string(dst); err != nil {
			return dst, err
		}
		// key is only valid until the next value: look at it now.
		placeholderKey := e.placeholders && string(key) == "_placeholder"
		numKey := e.placeholders && string(key) == "num"
		e.ws()
		if e.pos >= len(e.src) || e.src[e.pos] != ':' {
			return dst, e.syntax("expected :")
		}
		e.pos++
		valStart := len(dst)
		e.last = scalar{start: -1}
		if dst, err = e.value(dst, level); err != nil {
			return dst, err
		}
		// Whether the value is a scalar: a scalar nested in it starts
		// after its header.
		isScalar := e.last.start == valStart && e.last.end == len(dst)
		switch {
		case placeholderKey:
			isPlaceholder = isScalar && e.last.isTrue
		case numKey:
			numOK = isScalar && e.last.isUint && e.last.u < 1<<31
			num = int(e.last.u)
		}
		n++
		e.ws()
		if e.pos >= len(e.src) {
			return dst, e.syntax("unexpected end of input in object")
		}
		switch e.src[e.pos] {
		case ',':
			e.pos++
			continue
		case '}':
			e.pos++
		default:
			return dst, e.syntax("expected , or }")
		}
		break
	}
	if isPlaceholder {
		if !numOK || num >= len(e.atts) {
			return dst, ErrBadPlaceholder
		}
		dst = appendBinHeader(dst[:start], len(e.atts[num]))
		return append(dst, e.atts[num]...), nil
	}
	return patchHeader(dst, start, n, true), nil
}

func (e *jsonEncoder) array(dst []byte, level int) ([]byte, error) {
	if level > e.maxDepth {
		return dst, ErrTooDeep
	}
	start := len(dst)
	dst = append(dst, 0x90) // fixarray, patched
	e.pos++                 // [
	e.ws()
	if e.pos < len(e.src) && e.src[e.pos] == ']' {
		e.pos++
		return dst, nil
	}
	n := 0
	var err error
	for {
		if dst, err = e.value(dst, level); err != nil {
			return dst, err
		}
		n++
		e.ws()
		if e.pos >= len(e.src) {
			return dst, e.syntax("unexpected end of input in array")
		}
		switch e.src[e.pos] {
		case ',':
			e.pos++
			continue
		case ']':
			e.pos++
		default:
			return dst, e.syntax("expected , or ]")
		}
		break
	}
	return patchHeader(dst, start, n, false), nil
}

// plainJSON marks the bytes that stand for themselves in a JSON string,
// in JSON text or in JSON.stringify's output: ASCII from 0x20, except "
// and \.
var plainJSON = func() (t [256]bool) {
	for c := 0x20; c < 0x80; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()

// plainPrefix returns the length of the longest prefix of b whose bytes
// are all plainJSON, eight bytes at a time while it can.
func plainPrefix(b []byte) int {
	const ones, highs = 0x0101010101010101, 0x8080808080808080
	i := 0
	for ; len(b)-i >= 8; i += 8 {
		x := binary.LittleEndian.Uint64(b[i:])
		q := x ^ (ones * '"')
		bs := x ^ (ones * '\\')
		// A byte's high bit is set here when it is non-ASCII, below
		// 0x20, " or \. The subtractions borrow across bytes only from
		// a byte that is one of these, so the test is exact.
		if (x|((x-ones*0x20)&^x)|((q-ones)&^q)|((bs-ones)&^bs))&highs != 0 {
			break
		}
	}
	for i < len(b) && plainJSON[b[i]] {
		i++
	}
	return i
}

func isHex(c byte) bool {
	return isDigit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')
}

// string transcodes the JSON string at e.pos to a msgpack str, and
// returns its contents, valid until the next value is written.
func (e *jsonEncoder) string(dst []byte) (out, contents []byte, err error) {
	i := e.pos + 1
	escapes := false
	for {
		i += plainPrefix(e.src[i:])
		if i >= len(e.src) {
			e.pos = i
			return dst, nil, e.syntax("unexpected end of input in string")
		}
		c := e.src[i]
		if c == '"' {
			break
		}
		switch {
		case c == '\\':
			escapes = true
			if i+1 >= len(e.src) {
				e.pos = i
				return dst, nil, e.syntax("unexpected end of input in string")
			}
			switch e.src[i+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				i += 2
			case 'u':
				if len(e.src)-i < 6 || !isHex(e.src[i+2]) || !isHex(e.src[i+3]) || !isHex(e.src[i+4]) || !isHex(e.src[i+5]) {
					e.pos = i
					return dst, nil, e.syntax("invalid unicode escape")
				}
				i += 6
			default:
				e.pos = i
				return dst, nil, e.syntax("invalid escape")
			}
		case c < 0x20:
			e.pos = i
			return dst, nil, e.syntax("control character in string")
		default: // c >= utf8.RuneSelf
			r, size := utf8.DecodeRune(e.src[i:])
			if r == utf8.RuneError && size == 1 {
				e.pos = i
				return dst, nil, e.syntax("invalid UTF-8 in string")
			}
			i += size
		}
	}
	s := e.src[e.pos+1 : i]
	e.pos = i + 1
	if !escapes {
		dst = appendStrHeader(dst, len(s))
		return append(dst, s...), s, nil
	}
	// Unescaping only shrinks a string: write it after a header sized
	// for len(s), then narrow the header if the string shrank below a
	// size class.
	buf := dst
	at := len(buf)
	h := strHeaderSize(len(s))
	buf = append(buf, make([]byte, h)...)
	buf = unescape(buf, s)
	n := len(buf) - at - h
	if hn := strHeaderSize(n); hn != h {
		copy(buf[at+hn:], buf[at+h:])
		buf = buf[:at+hn+n]
		h = hn
	}
	putStrHeader(buf[at:], n)
	return buf, buf[at+h:], nil
}

// unescape appends the contents of a validated JSON string, without its
// quotes, decoded to UTF-8; a lone surrogate becomes U+FFFD.
func unescape(dst, raw []byte) []byte {
	for i := 0; i < len(raw); {
		if raw[i] != '\\' {
			j := bytes.IndexByte(raw[i:], '\\')
			if j < 0 {
				return append(dst, raw[i:]...)
			}
			dst = append(dst, raw[i:i+j]...)
			i += j
			continue
		}
		switch raw[i+1] {
		case 'b':
			dst = append(dst, '\b')
		case 'f':
			dst = append(dst, '\f')
		case 'n':
			dst = append(dst, '\n')
		case 'r':
			dst = append(dst, '\r')
		case 't':
			dst = append(dst, '\t')
		case 'u':
			r := hex4(raw[i+2:])
			i += 6
			if utf16.IsSurrogate(r) {
				if len(raw)-i >= 6 && raw[i] == '\\' && raw[i+1] == 'u' {
					if dec := utf16.DecodeRune(r, hex4(raw[i+2:])); dec != utf8.RuneError {
						dst = utf8.AppendRune(dst, dec)
						i += 6
						continue
					}
				}
				r = utf8.RuneError
			}
			dst = utf8.AppendRune(dst, r)
			continue
		default: // " \ /
			dst = append(dst, raw[i+1])
		}
		i += 2
	}
	return dst
}

// hex4 decodes four validated hex digits.
func hex4(b []byte) rune {
	var r rune
	for _, c := range b[:4] {
		r <<= 4
		switch {
		case isDigit(c):
			r |= rune(c - '0')
		case c >= 'a' && c <= 'f':
			r |= rune(c - 'a' + 10)
		default:
			r |= rune(c - 'A' + 10)
		}
	}
	return r
}

// AppendRawJSON appends raw, a JSON value, without whitespace outside
// strings (as JSON.stringify writes it), after checking its syntax and
// nesting against maxDepth.
func AppendRawJSON(dst, raw []byte, maxDepth int) ([]byte, error) {
	if err := socketio.Validate(raw, maxDepth); err != nil {
		var se *socketio.SyntaxError
		switch {
		case errors.As(err, &se):
			return dst, &SyntaxError{Offset: se.Offset, Msg: se.Msg, JSON: true}
		case errors.Is(err, socketio.ErrTooDeep):
			return dst, ErrTooDeep
		}
		return dst, fmt.Errorf("%w: %v", ErrInvalidJSON, err)
	}
	inString := false
	start := 0
	for i := 0; i < len(raw); i++ {
		c := raw[i]
		switch {
		case inString:
			switch c {
			case '\\':
				i++
			case '"':
				inString = false
			}
		case c == '"':
			inString = true
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			dst = append(dst, raw[start:i]...)
			start = i + 1
		}
	}
	return append(dst, raw[start:]...), nil
}
