package socketio

import (
	"unicode/utf16"
	"unicode/utf8"

	"github.com/sockwasm/sockwasm/sdk/abi"
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

// SplitEvent is SplitEvent(p.Data), with what the Decoder recorded when it
// decoded p: the name is not parsed a second time and, when the decoder
// had seen it recently, not allocated again. The same contract holds: args
// aliases p.Data, one byte of which is rewritten, so SplitEvent splits a
// packet once. A packet that does not come from a Decoder (another
// format's decoder, a packet built by hand), or whose Data was replaced
// after decoding, is split by SplitEvent(p.Data).
func (p *Packet) SplitEvent() (name string, args []byte, err error) {
	e := &p.event
	data := p.Data
	if e.at == 0 || len(data) != e.n || &data[0] != e.data {
		return SplitEvent(data)
	}
	switch data[e.at] {
	case ',':
		data[e.at] = '['
		return e.name, data[e.at:], nil
	case ']':
		data[e.at-1] = '['
		return e.name, data[e.at-1 : e.at+1], nil
	}
	return SplitEvent(data)
}

// recordEvent records the event name of p, q being the name in p.Data as a
// quoted JSON string that the decoder has validated, for
// Packet.SplitEvent. r provides the name's string.
func (p *Packet) recordEvent(q []byte, r *recent) error {
	off := cap(p.Data) - cap(q)
	name, ok := r.eventName(q)
	if !ok {
		return &SyntaxError{Offset: off, Msg: "invalid string"}
	}
	s := scanner{data: p.Data, pos: off + len(q)}
	s.ws()
	if s.pos >= len(p.Data) {
		return s.syntax("unexpected end of input in array")
	}
	if c := p.Data[s.pos]; c != ',' && c != ']' {
		return s.syntax("expected , or ]")
	}
	p.event = eventSplit{name: name, at: s.pos, data: &p.Data[0], n: len(p.Data)}
	return nil
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

// AppendString appends s as a JSON string, escaped the way JavaScript's
// JSON.stringify does, ill-formed UTF-8 decoded as Node.js does: see
// abi.AppendString, the one implementation, which plugins' SDK shares.
func AppendString(dst []byte, s string) []byte { return abi.AppendString(dst, s) }

// NodeString returns the string Node.js decodes from b with
// Buffer.toString("utf8") (abi.NodeString).
func NodeString(b []byte) string { return abi.NodeString(b) }

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

// CheckEventName checks the event name of EVENT data, a valid JSON array,
// as the Decoder does for JSON packets: ErrNotArray, ErrEventName when
// the first element is not a string, ErrReservedEvent for a name a client
// may not emit. Decoders of other packet formats call it.
func CheckEventName(data []byte) error {
	q, err := eventNameRaw(data)
	if err != nil {
		return err
	}
	if reservedRaw(q) {
		return ErrReservedEvent
	}
	return nil
}
