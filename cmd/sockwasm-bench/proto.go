package main

import (
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"strconv"
	"strings"
)

// Engine.IO v4 packet types: the first byte of a message.
const (
	eioOpen    = '0'
	eioClose   = '1'
	eioPing    = '2'
	eioPong    = '3'
	eioMessage = '4'
	eioNoop    = '6'
)

// Socket.IO v5 packet types: the byte after eioMessage.
const (
	sioConnect      = '0'
	sioDisconnect   = '1'
	sioEvent        = '2'
	sioAck          = '3'
	sioConnectError = '4'
	sioBinaryEvent  = '5'
	sioBinaryAck    = '6'
)

// recordSeparator separates the packets of a long-polling payload.
const recordSeparator = 0x1e

// placeholder is the JSON that stands for binary attachment 0.
const placeholder = `{"_placeholder":true,"num":0}`

// ackPacket is a parsed ACK or BINARY_ACK of namespace "/".
type ackPacket struct {
	id          uint64
	args        []byte // the JSON array, aliasing the message
	attachments int
}

// parseAck parses "43<id><args>" or "46<n>-<id><args>"; ok is false for
// anything else (another packet type, a namespace, no id).
func parseAck(p []byte) (a ackPacket, ok bool) {
	if len(p) < 4 || p[0] != eioMessage || (p[1] != sioAck && p[1] != sioBinaryAck) {
		return a, false
	}
	i := 2
	if p[1] == sioBinaryAck {
		n, j, ok := parseUint(p, i)
		if !ok || j >= len(p) || p[j] != '-' {
			return a, false
		}
		a.attachments = int(n)
		i = j + 1
	}
	id, j, ok := parseUint(p, i)
	if !ok || j >= len(p) || p[j] != '[' {
		return a, false
	}
	a.id, a.args = id, p[j:]
	return a, true
}

// parseUint reads decimal digits at p[i:]: the value and the index after them.
func parseUint(p []byte, i int) (uint64, int, bool) {
	start := i
	var v uint64
	for i < len(p) && p[i] >= '0' && p[i] <= '9' && i-start < 19 {
		v = v*10 + uint64(p[i]-'0')
		i++
	}
	return v, i, i > start
}

// appendToken appends the echo scenario's string argument for a client's
// message: "c<client>s<seq>." padded to size bytes (longer when the prefix
// alone is) with padText from an offset that depends on the message. Plain
// ASCII without escapes, so that a server that parses and re-serialises
// the JSON (socket.io) answers the same bytes.
func appendToken(b []byte, client int, seq uint64, size int) []byte {
	start := len(b)
	b = append(b, 'c')
	b = strconv.AppendInt(b, int64(client), 10)
	b = append(b, 's')
	b = strconv.AppendUint(b, seq, 10)
	b = append(b, '.')
	if n := size - (len(b) - start); n > 0 {
		off := int((uint64(client)*7919 + seq*104729) % uint64(len(padText)))
		for n > 0 {
			k := min(len(padText)-off, n)
			b = append(b, padText[off:off+k]...)
			n -= k
			off = 0
		}
	}
	return b
}

// padText pads the echo strings: 16 KiB of words drawn at random from a
// list of 64 (a fixed sequence), so that compression finds about what it
// finds in chat text, not in a run of one letter.
var padText = func() string {
	words := strings.Fields(`the a to and of in is you that it for on are with this be have not
		at your we can but all so if just like what about when one out up
		room message hello world user online today time will new chat please
		thanks good there here now know think see get make going back`)
	var b strings.Builder
	x := uint32(2463534242)
	for b.Len() < 16<<10 {
		x ^= x << 13
		x ^= x >> 17
		x ^= x << 5
		b.WriteString(words[x%uint32(len(words))])
		b.WriteByte(' ')
	}
	return b.String()
}()

// appendEcho appends the echo event with ack id seq: `42<seq>["echo","<token>"]`.
func appendEcho(b []byte, client int, seq uint64, size int) []byte {
	b = append(b, eioMessage, sioEvent)
	b = strconv.AppendUint(b, seq, 10)
	b = append(b, `["echo","`...)
	b = appendToken(b, client, seq, size)
	return append(b, `"]`...)
}

// appendEchoArgs appends the args the echo's ack must carry: `["<token>"]`.
func appendEchoArgs(b []byte, client int, seq uint64, size int) []byte {
	b = append(b, `["`...)
	b = appendToken(b, client, seq, size)
	return append(b, `"]`...)
}

// appendBinaryEcho appends the header of an echo with one attachment:
// `451-<seq>["echo",{"_placeholder":true,"num":0}]`.
func appendBinaryEcho(b []byte, seq uint64) []byte {
	b = append(b, eioMessage, sioBinaryEvent, '1', '-')
	b = strconv.AppendUint(b, seq, 10)
	return append(b, `["echo",`+placeholder+`]`...)
}

// binaryEchoArgs is what the ack of a binary echo must carry.
const binaryEchoArgs = `[` + placeholder + `]`

// fillAttachment fills b with the attachment of a client's message: the
// client and the sequence number (little-endian u64s), then a byte pattern.
func fillAttachment(b []byte, client int, seq uint64) {
	var head [16]byte
	binary.LittleEndian.PutUint64(head[:8], uint64(client))
	binary.LittleEndian.PutUint64(head[8:], seq)
	n := copy(b, head[:])
	for i := n; i < len(b); i++ {
		b[i] = byte(i * 7)
	}
}

// appendJoin appends `42<id>["join",{"room":"<room>"}]` (room needs no escaping).
func appendJoin(b []byte, id uint64, room string) []byte {
	b = append(b, eioMessage, sioEvent)
	b = strconv.AppendUint(b, id, 10)
	b = append(b, `["join",{"room":"`...)
	b = append(b, room...)
	return append(b, `"}]`...)
}

// appendSay appends `42<id>["say",{"room":"<room>","text":"<seq>.<ns>.xxx…"}]`,
// the text padded to size bytes.
func appendSay(b []byte, id uint64, room string, seq uint64, sentNs int64, size int) []byte {
	b = append(b, eioMessage, sioEvent)
	b = strconv.AppendUint(b, id, 10)
	b = append(b, `["say",{"room":"`...)
	b = append(b, room...)
	b = append(b, `","text":"`...)
	b = appendSayText(b, seq, sentNs, size)
	return append(b, `"}]`...)
}

// appendSayText appends a broadcast message's text: "<seq>.<sent ns>." padded with 'x'.
func appendSayText(b []byte, seq uint64, sentNs int64, size int) []byte {
	start := len(b)
	b = strconv.AppendUint(b, seq, 10)
	b = append(b, '.')
	b = strconv.AppendInt(b, sentNs, 10)
	b = append(b, '.')
	for len(b)-start < size {
		b = append(b, 'x')
	}
	return b
}

// parseSayText reads the sequence number and the send time of a text made
// by appendSayText, and checks its padding.
func parseSayText(t []byte, size int) (seq uint64, sentNs int64, ok bool) {
	seq, i, ok := parseUint(t, 0)
	if !ok || i >= len(t) || t[i] != '.' {
		return 0, 0, false
	}
	ns, j, ok := parseUint(t, i+1)
	if !ok || j >= len(t) || t[j] != '.' {
		return 0, 0, false
	}
	for _, c := range t[j+1:] {
		if c != 'x' {
			return 0, 0, false
		}
	}
	if len(t) != max(size, j+1) {
		return 0, 0, false
	}
	return seq, int64(ns), true
}

// appendPayload appends text packets as one long-polling payload.
func appendPayload(dst []byte, packets ...[]byte) []byte {
	for i, p := range packets {
		if i > 0 {
			dst = append(dst, recordSeparator)
		}
		dst = append(dst, p...)
	}
	return dst
}

var errEmptyPacket = errors.New("empty packet in payload")

// splitPayload calls fn for each packet of a long-polling payload; a
// binary packet ("b" + base64) is decoded first. p aliases body (or a
// fresh buffer for binary) and is valid during the call only.
func splitPayload(body []byte, fn func(p []byte, binary bool) error) error {
	for len(body) > 0 {
		p := body
		if i := bytes.IndexByte(body, recordSeparator); i >= 0 {
			p, body = body[:i], body[i+1:]
			if len(body) == 0 {
				return errEmptyPacket // a trailing separator
			}
		} else {
			body = nil
		}
		if len(p) == 0 {
			return errEmptyPacket
		}
		if p[0] == 'b' {
			raw, err := base64.StdEncoding.DecodeString(string(p[1:]))
			if err != nil {
				return err
			}
			if err := fn(raw, true); err != nil {
				return err
			}
			continue
		}
		if err := fn(p, false); err != nil {
			return err
		}
	}
	return nil
}
