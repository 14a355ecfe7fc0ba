package msgpack

import (
	"bytes"
	"encoding/hex"
	"errors"
	"testing"

	"github.com/sockwasm/sockwasm/protocol/socketio"
)

// isOwnError reports whether err matches one of the package's sentinels.
func isOwnError(err error) bool {
	for _, e := range []error{ErrInvalidMsgpack, ErrInvalidJSON, ErrTooDeep, ErrTooManyAttachments,
		ErrBadPlaceholder, ErrMapKey, ErrUnexpectedBinary} {
		if errors.Is(err, e) {
			return true
		}
	}
	return false
}

// FuzzTranscode transcodes JSON to msgpack and back: what AppendMsgpack
// accepts, AppendJSON reads back to JSON that encodes to the same bytes.
func FuzzTranscode(f *testing.F) {
	for _, s := range []string{`[1,"a",{"b":null,"c":[true,false]}]`, `{"_placeholder":true,"num":0}`,
		`1e21`, `-0.0`, `"\ud83d\ude00\u0000"`, `18446744073709551615`, `[1.5e-7,0.000001,123456789.125]`} {
		f.Add([]byte(s), []byte{1, 2})
	}
	f.Fuzz(func(t *testing.T, in, att []byte) {
		atts := [][]byte{att}
		mp, err := AppendMsgpack(nil, in, atts, Limits{})
		if err != nil {
			if !isOwnError(err) {
				t.Fatalf("foreign error %v", err)
			}
			return
		}
		out, outAtts, err := AppendJSON(nil, mp, nil, Limits{})
		if err != nil {
			t.Fatalf("%q -> %x: %v", in, mp, err)
		}
		mp2, err := AppendMsgpack(nil, out, outAtts, Limits{})
		if err != nil {
			t.Fatalf("%q -> %x -> %s: %v", in, mp, out, err)
		}
		out2, _, err := AppendJSON(nil, mp2, nil, Limits{})
		if err != nil || !bytes.Equal(out, out2) {
			t.Fatalf("%q -> %x -> %s -> %x -> %s %v", in, mp, out, mp2, out2, err)
		}
		// The msgpack is the same unless JSON could not carry it:
		// "__proto__" members are dropped, infinities become null.
		if bytes.Contains(in, []byte("proto")) || bytes.Contains(mp, []byte{0xcb, 0x7f, 0xf0}) || bytes.Contains(mp, []byte{0xcb, 0xff, 0xf0}) {
			return
		}
		if !bytes.Equal(mp, mp2) {
			t.Fatalf("%q -> %x -> %s -> %x", in, mp, out, mp2)
		}
	})
}

// FuzzDecodePacket decodes untrusted packets: a packet it accepts encodes
// again and decodes to the same packet, its data is valid JSON within the
// limits, and its attachments come from the message.
func FuzzDecodePacket(f *testing.F) {
	for _, g := range loadGolden(f) {
		msg, _ := hex.DecodeString(g.Hex)
		f.Add(msg)
	}
	f.Add([]byte("\x83\xa4type\x02\xa3nsp\xa1/\xa4data\x92\xa1a\xc4\x01\x01"))
	f.Fuzz(func(t *testing.T, msg []byte) {
		lim := Limits{MaxDepth: 16, MaxAttachments: 4}
		p, err := DecodePacket(msg, lim)
		if err != nil {
			if !isOwnError(err) && !errors.Is(err, ErrInvalidPacket) && !errors.Is(err, socketio.ErrEventName) &&
				!errors.Is(err, socketio.ErrReservedEvent) {
				t.Fatalf("foreign error %v", err)
			}
			return
		}
		if p.Data != nil {
			if n, err := socketio.CountPlaceholders(p.Data, lim.MaxDepth+1, len(p.Attachments)); err != nil || n < len(p.Attachments) {
				t.Fatalf("%s: %d placeholders, %d attachments: %v", p.Data, n, len(p.Attachments), err)
			}
		}
		for _, a := range p.Attachments {
			if len(a) > 0 && !bytes.Contains(msg, a) {
				t.Fatal("attachment not from the message")
			}
		}
		enc, err := AppendPacket(nil, &p, Limits{MaxDepth: 17})
		if err != nil {
			t.Fatalf("%x: re-encoding %+v: %v", msg, p, err)
		}
		q, err := DecodePacket(enc, lim)
		if err != nil {
			t.Fatalf("%x -> %x: %v", msg, enc, err)
		}
		if q.Type != p.Type || q.Namespace != p.Namespace || q.ID != p.ID || q.HasID != p.HasID ||
			!bytes.Equal(q.Data, p.Data) || len(q.Attachments) != len(p.Attachments) {
			t.Fatalf("%x -> %+v -> %x -> %+v", msg, p, enc, q)
		}
	})
}
