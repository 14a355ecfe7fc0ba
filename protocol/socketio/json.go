package socketio

import "unicode/utf8"

// scanner validates JSON without allocating (errors aside): syntax, a
// nesting limit and, when placeholders is set, binary placeholders.
type scanner struct {
	data     []byte
	pos      int
	maxDepth int
	// placeholders enables placeholder checks against attachments.
	placeholders bool
	attachments  int
	count        int // placeholders seen
}

func (s *scanner) syntax(msg string) error {
	return &SyntaxError{Offset: s.pos, Msg: msg}
}

func (s *scanner) ws() {
	for s.pos < len(s.data) {
		switch s.data[s.pos] {
		case ' ', '\t', '\n', '\r':
			s.pos++
		default:
			return
		}
	}
}

// value scans one JSON value at s.pos (leading whitespace allowed);
// depth is the nesting depth of the enclosing container.
func (s *scanner) value(depth int) error {
	s.ws()
	if s.pos >= len(s.data) {
		return s.syntax("unexpected end of input")
	}
	switch c := s.data[s.pos]; {
	case c == '{':
		return s.object(depth + 1)
	case c == '[':
		return s.array(depth + 1)
	case c == '"':
		return s.str()
	case c == 't':
		return s.lit("true")
	case c == 'f':
		return s.lit("false")
	case c == 'n':
		return s.lit("null")
	case c == '-' || (c >= '0' && c <= '9'):
		return s.number()
	}
	return s.syntax("invalid character")
}

func (s *scanner) lit(word string) error {
	if len(s.data)-s.pos < len(word) || string(s.data[s.pos:s.pos+len(word)]) != word {
		return s.syntax("invalid literal")
	}
	s.pos += len(word)
	return nil
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

func (s *scanner) number() error {
	d := s.data
	if d[s.pos] == '-' {
		s.pos++
	}
	if s.pos >= len(d) || !isDigit(d[s.pos]) {
		return s.syntax("invalid number")
	}
	if d[s.pos] == '0' {
		s.pos++
	} else {
		for s.pos < len(d) && isDigit(d[s.pos]) {
			s.pos++
		}
	}
	if s.pos < len(d) && d[s.pos] == '.' {
		s.pos++
		if s.pos >= len(d) || !isDigit(d[s.pos]) {
			return s.syntax("invalid number")
		}
		for s.pos < len(d) && isDigit(d[s.pos]) {
			s.pos++
		}
	}
	if s.pos < len(d) && (d[s.pos] == 'e' || d[s.pos] == 'E') {
		s.pos++
		if s.pos < len(d) && (d[s.pos] == '+' || d[s.pos] == '-') {
			s.pos++
		}
		if s.pos >= len(d) || !isDigit(d[s.pos]) {
			return s.syntax("invalid number")
		}
		for s.pos < len(d) && isDigit(d[s.pos]) {
			s.pos++
		}
	}
	return nil
}

func isHex(c byte) bool {
	return isDigit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')
}

// str scans a string starting at its opening quote.
func (s *scanner) str() error {
	d := s.data
	s.pos++ // opening quote
	for s.pos < len(d) {
		c := d[s.pos]
		switch {
		case c == '"':
			s.pos++
			return nil
		case c == '\\':
			s.pos++
			if s.pos >= len(d) {
				return s.syntax("unexpected end of input in string")
			}
			switch d[s.pos] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				s.pos++
			case 'u':
				if len(d)-s.pos < 5 || !isHex(d[s.pos+1]) || !isHex(d[s.pos+2]) || !isHex(d[s.pos+3]) || !isHex(d[s.pos+4]) {
					return s.syntax("invalid unicode escape")
				}
				s.pos += 5
			default:
				return s.syntax("invalid escape")
			}
		case c < 0x20:
			return s.syntax("control character in string")
		case c < utf8.RuneSelf:
			s.pos++
		default:
			r, size := utf8.DecodeRune(d[s.pos:])
			if r == utf8.RuneError && size == 1 {
				return s.syntax("invalid UTF-8 in string")
			}
			s.pos += size
		}
	}
	return s.syntax("unexpected end of input in string")
}

func (s *scanner) array(depth int) error {
	if depth > s.maxDepth {
		return ErrTooDeep
	}
	s.pos++ // [
	s.ws()
	if s.pos < len(s.data) && s.data[s.pos] == ']' {
		s.pos++
		return nil
	}
	for {
		if err := s.value(depth); err != nil {
			return err
		}
		s.ws()
		if s.pos >= len(s.data) {
			return s.syntax("unexpected end of input in array")
		}
		switch s.data[s.pos] {
		case ',':
			s.pos++
		case ']':
			s.pos++
			return nil
		default:
			return s.syntax("expected , or ]")
		}
	}
}

func (s *scanner) object(depth int) error {
	if depth > s.maxDepth {
		return ErrTooDeep
	}
	s.pos++ // {
	s.ws()
	if s.pos < len(s.data) && s.data[s.pos] == '}' {
		s.pos++
		return nil
	}
	var placeholder, numOK bool
	num := -1
	for {
		s.ws()
		if s.pos >= len(s.data) || s.data[s.pos] != '"' {
			return s.syntax("expected object key")
		}
		keyStart := s.pos
		if err := s.str(); err != nil {
			return err
		}
		key := s.data[keyStart:s.pos]
		s.ws()
		if s.pos >= len(s.data) || s.data[s.pos] != ':' {
			return s.syntax("expected :")
		}
		s.pos++
		s.ws()
		valStart := s.pos
		if err := s.value(depth); err != nil {
			return err
		}
		if s.placeholders {
			switch string(key) {
			case `"_placeholder"`:
				placeholder = string(s.data[valStart:s.pos]) == "true"
			case `"num"`:
				num, numOK = smallInt(s.data[valStart:s.pos])
			}
		}
		s.ws()
		if s.pos >= len(s.data) {
			return s.syntax("unexpected end of input in object")
		}
		switch s.data[s.pos] {
		case ',':
			s.pos++
		case '}':
			s.pos++
			if placeholder {
				if !numOK || num >= s.attachments {
					return ErrBadPlaceholder
				}
				s.count++
			}
			return nil
		default:
			return s.syntax("expected , or }")
		}
	}
}

// smallInt parses a non-negative JSON integer below 1<<31.
func smallInt(b []byte) (int, bool) {
	if len(b) == 0 || len(b) > 10 {
		return 0, false
	}
	n := 0
	for _, c := range b {
		if !isDigit(c) {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	if n >= 1<<31 || (len(b) > 1 && b[0] == '0') {
		return 0, false
	}
	return n, true
}

// whole scans data as exactly one JSON value.
func (s *scanner) whole() error {
	if err := s.value(0); err != nil {
		return err
	}
	s.ws()
	if s.pos != len(s.data) {
		return s.syntax("trailing data after JSON value")
	}
	return nil
}

// Validate reports whether data is exactly one JSON value nested at most
// maxDepth arrays or objects deep, its strings valid UTF-8 (JavaScript
// clients drop a connection that delivers invalid UTF-8). It does not
// allocate unless it fails.
func Validate(data []byte, maxDepth int) error {
	s := scanner{data: data, maxDepth: maxDepth}
	return s.whole()
}

// CountPlaceholders validates data like Validate and also its binary
// placeholders: every object whose "_placeholder" is true must have a
// "num" in [0, attachments). It returns the number of placeholders.
func CountPlaceholders(data []byte, maxDepth, attachments int) (int, error) {
	s := scanner{data: data, maxDepth: maxDepth, placeholders: true, attachments: attachments}
	if err := s.whole(); err != nil {
		return 0, err
	}
	return s.count, nil
}

// firstByte returns the first non-whitespace byte of data and its index,
// or -1.
func firstByte(data []byte) (byte, int) {
	for i, c := range data {
		switch c {
		case ' ', '\t', '\n', '\r':
			continue
		}
		return c, i
	}
	return 0, -1
}
