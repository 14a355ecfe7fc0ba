package socketio

import (
	"unicode/utf16"
	"unicode/utf8"
)

// reserved lists the event names a client may not emit (the reference
// parser refuses them).
func reserved(name string) bool {
	switch name {
	case "connect", "connect_error", "disconnect", "disconnecting", "newListener", "removeListener":
		return true
	}
	return false
}

// SplitEvent splits the data of an EVENT packet, a JSON array whose first
// element is the event name, into the name and args, a JSON array of the
// remaining elements.
//
// It does not copy: args aliases data, and SplitEvent rewrites the one byte
// of data just before args into '['. data must be valid JSON (the Decoder
// guarantees it); SplitEvent checks only the array and the name.
func SplitEvent(data []byte) (name string, args []byte, err error) {
	name, end, err := eventName(data)
	if err != nil {
		return "", nil, err
	}
	// end is just after the name's closing quote: find , or ].
	s := scanner{data: data, pos: end}
	s.ws()
	if s.pos >= len(data) {
		return "", nil, s.syntax("unexpected end of input in array")
	}
	switch data[s.pos] {
	case ',':
		data[s.pos] = '['
		return name, data[s.pos:], nil
	case ']':
		data[s.pos-1] = '['
		return name, data[s.pos-1 : s.pos+1], nil
	}
	return "", nil, s.syntax("expected , or ]")
}

// EventName returns the event name of EVENT data without modifying it.
func EventName(data []byte) (string, error) {
	name, _, err := eventName(data)
	return name, err
}

// eventName returns the name and the offset just after its closing quote.
func eventName(data []byte) (string, int, error) {
	q, err := eventNameRaw(data)
	if err != nil {
		return "", 0, err
	}
	name, ok := unquote(q)
	if !ok {
		return "", 0, &SyntaxError{Offset: cap(data) - cap(q), Msg: "invalid string"}
	}
	return name, cap(data) - cap(q) + len(q), nil
}

// reservedRaw reports whether the quoted JSON string q is a reserved event
// name, without allocating for names without escapes.
func reservedRaw(q []byte) bool {
	for _, c := range q {
		if c == '\\' {
			name, _ := unquote(q)
			return reserved(name)
		}
	}
	switch string(q[1 : len(q)-1]) {
	case "connect", "connect_error", "disconnect", "disconnecting", "newListener", "removeListener":
		return true
	}
	return false
}

// eventNameRaw returns the event name as a quoted JSON string aliasing data.
func eventNameRaw(data []byte) ([]byte, error) {
	c, i := firstByte(data)
	if c != '[' {
		return nil, ErrNotArray
	}
	s := scanner{data: data, pos: i + 1}
	s.ws()
	if s.pos >= len(data) || data[s.pos] != '"' {
		return nil, ErrEventName
	}
	start := s.pos
	if err := s.str(); err != nil {
		return nil, err
	}
	return data[start:s.pos], nil
}

// unquote decodes a JSON string literal, quotes included, that the scanner
// has validated.
func unquote(q []byte) (string, bool) {
	raw := q[1 : len(q)-1]
	simple := true
	for _, c := range raw {
		if c == '\\' {
			simple = false
			break
		}
	}
	if simple {
		return string(raw), true
	}
	out := make([]byte, 0, len(raw))
	for i := 0; i < len(raw); {
		c := raw[i]
		if c != '\\' {
			out = append(out, c)
			i++
			continue
		}
		if i+1 >= len(raw) {
			return "", false
		}
		switch raw[i+1] {
		case '"', '\\', '/':
			out = append(out, raw[i+1])
		case 'b':
			out = append(out, '\b')
		case 'f':
			out = append(out, '\f')
		case 'n':
			out = append(out, '\n')
		case 'r':
			out = append(out, '\r')
		case 't':
			out = append(out, '\t')
		case 'u':
			r, ok := hex4(raw[i+2:])
			if !ok {
				return "", false
			}
			i += 6
			if utf16.IsSurrogate(r) {
				if len(raw)-i >= 6 && raw[i] == '\\' && raw[i+1] == 'u' {
					if r2, ok := hex4(raw[i+2:]); ok {
						if dec := utf16.DecodeRune(r, r2); dec != utf8.RuneError {
							out = utf8.AppendRune(out, dec)
							i += 6
							continue
						}
					}
				}
				r = utf8.RuneError
			}
			out = utf8.AppendRune(out, r)
			continue
		default:
			return "", false
		}
		i += 2
	}
	return string(out), true
}

func hex4(b []byte) (rune, bool) {
	if len(b) < 4 {
		return 0, false
	}
	var r rune
	for _, c := range b[:4] {
		r <<= 4
		switch {
		case isDigit(c):
			r |= rune(c - '0')
		case c >= 'a' && c <= 'f':
			r |= rune(c - 'a' + 10)
		case c >= 'A' && c <= 'F':
			r |= rune(c - 'A' + 10)
		default:
			return 0, false
		}
	}
	return r, true
}

const hexDigits = "0123456789abcdef"

// AppendString appends s as a JSON string, escaped the way JavaScript's
// JSON.stringify does: only ", \ and control characters are escaped, and
// ill-formed UTF-8 becomes U+FFFD as Node.js's Buffer.toString("utf8")
// decodes it (one for each maximal ill-formed subsequence, the WHATWG
// Encoding Standard's rule).
func AppendString(dst []byte, s string) []byte {
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			dst = append(dst, s[start:i]...)
			switch c {
			case '"', '\\':
				dst = append(dst, '\\', c)
			case '\b':
				dst = append(dst, '\\', 'b')
			case '\f':
				dst = append(dst, '\\', 'f')
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			default:
				dst = append(dst, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			dst = append(dst, s[start:i]...)
			dst = append(dst, "\ufffd"...)
			i += invalidLen(s[i:])
			start = i
			continue
		}
		i += size
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}

// NodeString returns the string Node.js decodes from b with
// Buffer.toString("utf8"): b itself when it is valid UTF-8, else with
// U+FFFD for each maximal ill-formed subsequence.
func NodeString(b []byte) string {
	if utf8.Valid(b) {
		return string(b)
	}
	out := make([]byte, 0, len(b)+8)
	for i := 0; i < len(b); {
		r, size := utf8.DecodeRune(b[i:])
		if r == utf8.RuneError && size == 1 {
			out = append(out, "\ufffd"...)
			i += invalidLen(b[i:])
			continue
		}
		out = append(out, b[i:i+size]...)
		i += size
	}
	return string(out)
}

// invalidLen returns the length of the maximal ill-formed subsequence at
// the start of s, which does not begin with a valid UTF-8 sequence.
func invalidLen[T string | []byte](s T) int {
	lo, hi := byte(0x80), byte(0xbf)
	need := 0
	switch c := s[0]; {
	case c >= 0xc2 && c <= 0xdf:
		need = 1
	case c == 0xe0:
		need, lo = 2, 0xa0
	case c == 0xed:
		need, hi = 2, 0x9f
	case c >= 0xe1 && c <= 0xef:
		need = 2
	case c == 0xf0:
		need, lo = 3, 0x90
	case c == 0xf4:
		need, hi = 3, 0x8f
	case c >= 0xf1 && c <= 0xf3:
		need = 3
	default:
		return 1
	}
	i := 1
	for ; i <= need && i < len(s); i++ {
		if s[i] < lo || s[i] > hi {
			break
		}
		lo, hi = 0x80, 0xbf
	}
	return i
}

// AppendEventData appends the data of an EVENT packet, ["name",args...], to
// dst. args is a JSON array (nil or empty means no arguments); its elements
// are copied byte for byte, never re-encoded.
func AppendEventData(dst []byte, name string, args []byte) ([]byte, error) {
	dst = append(dst, '[')
	dst = AppendString(dst, name)
	if len(args) == 0 {
		return append(dst, ']'), nil
	}
	c, i := firstByte(args)
	if c != '[' {
		return dst, ErrNotArray
	}
	if c2, _ := firstByte(args[i+1:]); c2 == ']' {
		return append(dst, ']'), nil
	}
	dst = append(dst, ',')
	return append(dst, args[i+1:]...), nil
}
