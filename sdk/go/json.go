package sockwasm

import (
	"strconv"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/sockwasm/sockwasm/sdk/abi"
)

// Value is one raw JSON value (an event's args array, one argument, a
// field…). The zero Value means "absent". Accessors scan the bytes on
// demand without encoding/json and without allocating, except AsString
// when the string has escapes. The host checks that args are valid JSON, so
// accessors do not re-validate everything they skip.
type Value []byte

// Kind is the JSON type of a Value.
type Kind uint8

// Kinds of Value.
const (
	KindAbsent Kind = iota
	KindNull
	KindBool
	KindNumber
	KindString
	KindArray
	KindObject
	KindInvalid
)

// Raw returns the JSON bytes.
func (v Value) Raw() []byte { return v }

// Exists reports whether the value is present.
func (v Value) Exists() bool { return len(v) > 0 }

// Kind returns the JSON type of v.
func (v Value) Kind() Kind {
	i := skipSpace(v, 0)
	if i >= len(v) {
		return KindAbsent
	}
	switch c := v[i]; {
	case c == 'n':
		return KindNull
	case c == 't' || c == 'f':
		return KindBool
	case c == '"':
		return KindString
	case c == '[':
		return KindArray
	case c == '{':
		return KindObject
	case c == '-' || (c >= '0' && c <= '9'):
		return KindNumber
	}
	return KindInvalid
}

// Len returns the number of elements of an array, or 0.
func (v Value) Len() int {
	n := 0
	v.each(func(Value) bool { n++; return true })
	return n
}

// Index returns element i of an array, or an absent Value.
func (v Value) Index(i int) Value {
	var out Value
	n := 0
	v.each(func(e Value) bool {
		if n == i {
			out = e
			return false
		}
		n++
		return true
	})
	return out
}

// each calls fn with each element of an array until fn returns false.
func (v Value) each(fn func(Value) bool) {
	i := skipSpace(v, 0)
	if i >= len(v) || v[i] != '[' {
		return
	}
	i = skipSpace(v, i+1)
	if i < len(v) && v[i] == ']' {
		return
	}
	for i < len(v) {
		end := skipValue(v, i)
		if end < 0 {
			return
		}
		if !fn(v[i:end]) {
			return
		}
		i = skipSpace(v, end)
		if i >= len(v) || v[i] != ',' {
			return
		}
		i = skipSpace(v, i+1)
	}
}

// Get returns the value of key in an object, or an absent Value.
func (v Value) Get(key string) Value {
	i := skipSpace(v, 0)
	if i >= len(v) || v[i] != '{' {
		return nil
	}
	i = skipSpace(v, i+1)
	for i < len(v) && v[i] == '"' {
		kend := skipString(v, i)
		if kend < 0 {
			return nil
		}
		match := keyEquals(v[i:kend], key)
		i = skipSpace(v, kend)
		if i >= len(v) || v[i] != ':' {
			return nil
		}
		i = skipSpace(v, i+1)
		end := skipValue(v, i)
		if end < 0 {
			return nil
		}
		if match {
			return v[i:end]
		}
		i = skipSpace(v, end)
		if i >= len(v) || v[i] != ',' {
			return nil
		}
		i = skipSpace(v, i+1)
	}
	return nil
}

func keyEquals(quoted []byte, key string) bool {
	raw := quoted[1 : len(quoted)-1]
	for _, c := range raw {
		if c == '\\' {
			s, ok := Value(quoted).AsString()
			return ok && s == key
		}
	}
	return string(raw) == key
}

// AsString returns the string a JSON string holds.
func (v Value) AsString() (string, bool) {
	i := skipSpace(v, 0)
	if i >= len(v) || v[i] != '"' {
		return "", false
	}
	end := skipString(v, i)
	if end < 0 {
		return "", false
	}
	raw := v[i+1 : end-1]
	for j, c := range raw {
		if c == '\\' {
			return unescape(raw, j)
		}
	}
	return string(raw), true
}

func unescape(raw []byte, j int) (string, bool) {
	out := make([]byte, 0, len(raw))
	out = append(out, raw[:j]...)
	for j < len(raw) {
		c := raw[j]
		if c != '\\' {
			out = append(out, c)
			j++
			continue
		}
		if j+1 >= len(raw) {
			return "", false
		}
		switch raw[j+1] {
		case '"', '\\', '/':
			out = append(out, raw[j+1])
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
			r, ok := hex4(raw, j+2)
			if !ok {
				return "", false
			}
			j += 6
			if utf16.IsSurrogate(r) {
				if r2, ok := hex4(raw, j+2); ok && j+1 < len(raw) && raw[j] == '\\' && raw[j+1] == 'u' {
					if d := utf16.DecodeRune(r, r2); d != utf8.RuneError {
						out = utf8.AppendRune(out, d)
						j += 6
						continue
					}
				}
				r = utf8.RuneError
			}
			out = utf8.AppendRune(out, r)
			continue
		default:
			return "", false
		}
		j += 2
	}
	return string(out), true
}

func hex4(b []byte, i int) (rune, bool) {
	if i+4 > len(b) {
		return 0, false
	}
	var r rune
	for _, c := range b[i : i+4] {
		switch {
		case c >= '0' && c <= '9':
			c -= '0'
		case c >= 'a' && c <= 'f':
			c -= 'a' - 10
		case c >= 'A' && c <= 'F':
			c -= 'A' - 10
		default:
			return 0, false
		}
		r = r<<4 | rune(c)
	}
	return r, true
}

// AsInt returns an integer number (no fraction or exponent).
func (v Value) AsInt() (int64, bool) {
	s := trim(v)
	n, err := strconv.ParseInt(string(s), 10, 64)
	return n, err == nil
}

// AsFloat returns a number.
func (v Value) AsFloat() (float64, bool) {
	s := trim(v)
	if v.Kind() != KindNumber {
		return 0, false
	}
	f, err := strconv.ParseFloat(string(s), 64)
	return f, err == nil
}

// AsBool returns a boolean.
func (v Value) AsBool() (bool, bool) {
	switch string(trim(v)) {
	case "true":
		return true, true
	case "false":
		return false, true
	}
	return false, false
}

// IsNull reports whether v is JSON null.
func (v Value) IsNull() bool { return string(trim(v)) == "null" }

func trim(v Value) []byte {
	i := skipSpace(v, 0)
	j := len(v)
	for j > i && isSpace(v[j-1]) {
		j--
	}
	return v[i:j]
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

func skipSpace(b []byte, i int) int {
	for i < len(b) && isSpace(b[i]) {
		i++
	}
	return i
}

// skipString returns the index after the string starting at b[i] == '"'.
func skipString(b []byte, i int) int {
	for j := i + 1; j < len(b); j++ {
		switch b[j] {
		case '\\':
			j++
		case '"':
			return j + 1
		}
	}
	return -1
}

// skipValue returns the index after the value starting at b[i], or -1.
func skipValue(b []byte, i int) int {
	if i >= len(b) {
		return -1
	}
	switch b[i] {
	case '"':
		return skipString(b, i)
	case '[', '{':
		depth := 0
		for j := i; j < len(b); j++ {
			switch b[j] {
			case '"':
				j = skipString(b, j)
				if j < 0 {
					return -1
				}
				j--
			case '[', '{':
				depth++
			case ']', '}':
				depth--
				if depth == 0 {
					return j + 1
				}
			}
		}
		return -1
	}
	j := i
	for j < len(b) {
		c := b[j]
		if c == ',' || c == ']' || c == '}' || isSpace(c) {
			break
		}
		j++
	}
	if j == i {
		return -1
	}
	return j
}

// AppendString appends s as a JSON string to dst, escaped as
// JSON.stringify does (invalid UTF-8 becomes U+FFFD): the host's own
// encoder, so guest and host write strings alike.
func AppendString(dst []byte, s string) []byte { return abi.AppendString(dst, s) }

// AppendInt appends n as a JSON number.
func AppendInt(dst []byte, n int64) []byte { return strconv.AppendInt(dst, n, 10) }

// AppendBool appends b as a JSON boolean.
func AppendBool(dst []byte, b bool) []byte { return strconv.AppendBool(dst, b) }

// AppendStrings appends a JSON array of strings.
func AppendStrings(dst []byte, ss []string) []byte {
	dst = append(dst, '[')
	for i, s := range ss {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = AppendString(dst, s)
	}
	return append(dst, ']')
}
