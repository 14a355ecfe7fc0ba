package engineio

import (
	"bytes"
	"errors"
	"testing"
	"unicode/utf8"
)

func TestDecodeText(t *testing.T) {
	tests := []struct {
		in   string
		want Packet
		err  error
	}{
		{in: "0{\"sid\":\"x\"}", want: Packet{Type: PacketOpen, Data: []byte(`{"sid":"x"}`)}},
		{in: "1", want: Packet{Type: PacketClose}},
		{in: "2", want: Packet{Type: PacketPing}},
		{in: "2probe", want: Packet{Type: PacketPing, Data: []byte("probe")}},
		{in: "3probe", want: Packet{Type: PacketPong, Data: []byte("probe")}},
		{in: "4hello", want: Packet{Type: PacketMessage, Data: []byte("hello")}},
		{in: "4", want: Packet{Type: PacketMessage}},
		{in: "5", want: Packet{Type: PacketUpgrade}},
		{in: "6", want: Packet{Type: PacketNoop}},
		{in: "bAQIDBA==", want: Packet{Type: PacketMessage, Data: []byte{1, 2, 3, 4}, Binary: true}},
		{in: "b", want: Packet{Type: PacketMessage, Data: []byte{}, Binary: true}},
		{in: "", err: ErrEmptyPacket},
		{in: "7", err: ErrUnknownType},
		{in: "abc", err: ErrUnknownType},
		{in: "/", err: ErrUnknownType},
		{in: "b!!!", err: ErrBadBase64},
		{in: "bAQI", err: ErrBadBase64},
		{in: "bAQ", err: ErrBadBase64},
		{in: "4€ and ✓", want: Packet{Type: PacketMessage, Data: []byte("€ and ✓")}},
		{in: "4bad \xff\xfe", err: ErrInvalidUTF8},
		{in: "4\xe2\x82", err: ErrInvalidUTF8},                                             // truncated sequence
		{in: "4\xed\xa0\x80", err: ErrInvalidUTF8},                                         // surrogate half
		{in: "4\xc0\xaf", err: ErrInvalidUTF8},                                             // overlong encoding
		{in: "2\xff", err: ErrInvalidUTF8},                                                 // any text packet, not only messages
		{in: "b/w==", want: Packet{Type: PacketMessage, Data: []byte{0xff}, Binary: true}}, // binary is exempt
	}
	for _, tt := range tests {
		got, err := DecodeText([]byte(tt.in))
		if !errors.Is(err, tt.err) {
			t.Errorf("DecodeText(%q) error = %v, want %v", tt.in, err, tt.err)
			continue
		}
		if err != nil {
			var de *DecodeError
			if !errors.As(err, &de) || de.Offset != 0 {
				t.Errorf("DecodeText(%q) error %v is not a *DecodeError at offset 0", tt.in, err)
			}
			continue
		}
		if got.Type != tt.want.Type || got.Binary != tt.want.Binary || !bytes.Equal(got.Data, tt.want.Data) {
			t.Errorf("DecodeText(%q) = %+v, want %+v", tt.in, got, tt.want)
		}
	}
}

func TestDecodePayload(t *testing.T) {
	tests := []struct {
		in     string
		want   []string // AppendText of each packet
		err    error
		offset int
	}{
		{in: "4hello", want: []string{"4hello"}},
		{in: "4hello\x1e4€\x1ebAQIDBA==", want: []string{"4hello", "4€", "bAQIDBA=="}},
		{in: "2\x1e3\x1e6", want: []string{"2", "3", "6"}},
		{in: "", err: ErrEmptyPacket},
		{in: "abc", err: ErrUnknownType},
		{in: "4a\x1e\x1e4b", want: []string{"4a"}, err: ErrEmptyPacket, offset: 3},
		{in: "4a\x1e", want: []string{"4a"}, err: ErrEmptyPacket, offset: 3},
		{in: "4a\x1e9", want: []string{"4a"}, err: ErrUnknownType, offset: 3},
		{in: "4a\x1e4bad \xff\xfe\x1e4c", want: []string{"4a"}, err: ErrInvalidUTF8, offset: 3},
		{in: "4é\x1eb/w==\x1e4ok", want: []string{"4é", "b/w==", "4ok"}},
	}
	for _, tt := range tests {
		var got []string
		err := DecodePayload([]byte(tt.in), func(p Packet) error {
			got = append(got, string(AppendText(nil, p)))
			return nil
		})
		if !errors.Is(err, tt.err) {
			t.Errorf("DecodePayload(%q) error = %v, want %v", tt.in, err, tt.err)
		}
		var de *DecodeError
		if errors.As(err, &de) && de.Offset != tt.offset {
			t.Errorf("DecodePayload(%q) offset = %d, want %d", tt.in, de.Offset, tt.offset)
		}
		if len(got) != len(tt.want) {
			t.Errorf("DecodePayload(%q) = %q, want %q", tt.in, got, tt.want)
			continue
		}
		for i := range got {
			if got[i] != tt.want[i] {
				t.Errorf("DecodePayload(%q)[%d] = %q, want %q", tt.in, i, got[i], tt.want[i])
			}
		}
	}
}

func TestDecodePayloadCallbackError(t *testing.T) {
	stop := errors.New("stop")
	n := 0
	err := DecodePayload([]byte("4a\x1e4b"), func(Packet) error { n++; return stop })
	if err != stop || n != 1 {
		t.Fatalf("err = %v, calls = %d; want stop after 1 call", err, n)
	}
}

func TestAppendPayload(t *testing.T) {
	got := AppendPayload([]byte("x"),
		Packet{Type: PacketMessage, Data: []byte("hi")},
		Packet{Type: PacketMessage, Data: []byte{1, 2, 3, 4}, Binary: true},
		Packet{Type: PacketPing},
		Packet{Type: PacketPong, Data: []byte("probe")},
	)
	want := "x4hi\x1ebAQIDBA==\x1e2\x1e3probe"
	if string(got) != want {
		t.Fatalf("AppendPayload = %q, want %q", got, want)
	}
	for _, p := range []Packet{{Type: PacketMessage, Data: []byte("abc")}, {Type: PacketMessage, Data: []byte{0, 255}, Binary: true}, {Type: PacketNoop}} {
		if n, l := TextLen(p), len(AppendText(nil, p)); n != l {
			t.Errorf("TextLen(%+v) = %d, encoding has %d bytes", p, n, l)
		}
	}
}

func TestPacketTypeString(t *testing.T) {
	if PacketUpgrade.String() != "upgrade" || PacketType(9).String() != "PacketType(9)" {
		t.Fatal("unexpected PacketType.String")
	}
	if PacketType(7).Valid() || !PacketNoop.Valid() {
		t.Fatal("unexpected PacketType.Valid")
	}
}

func TestDecodeBinary(t *testing.T) {
	p := DecodeBinary([]byte{1, 2})
	if p.Type != PacketMessage || !p.Binary || len(p.Data) != 2 {
		t.Fatalf("DecodeBinary = %+v", p)
	}
	if p := DecodeBinary([]byte{0xff, 0xfe}); !p.Binary || len(p.Data) != 2 {
		t.Fatalf("DecodeBinary of non-UTF-8 bytes = %+v", p)
	}
}

// FuzzDecodePayload checks that arbitrary payloads never panic, that no
// text packet with invalid UTF-8 is delivered, and that whatever decodes
// re-encodes to a payload that decodes to the same packets.
func FuzzDecodePayload(f *testing.F) {
	for _, s := range []string{"4hello", "4a\x1ebAQIDBA==\x1e2probe", "", "abc", "b!!", "6\x1e", "0{}", "4a\x1e4\xff\xfe"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		var got []Packet
		err := DecodePayload(in, func(p Packet) error {
			if !p.Binary && !utf8.Valid(p.Data) {
				t.Fatalf("text packet with invalid UTF-8 delivered: %q", p.Data)
			}
			got = append(got, Packet{Type: p.Type, Data: bytes.Clone(p.Data), Binary: p.Binary})
			return nil
		})
		if err != nil {
			var de *DecodeError
			if !errors.As(err, &de) || de.Offset < 0 || de.Offset > len(in) {
				t.Fatalf("bad error %v", err)
			}
		}
		if len(got) == 0 {
			return
		}
		enc := AppendPayload(nil, got...)
		var again []Packet
		if err := DecodePayload(enc, func(p Packet) error { again = append(again, p); return nil }); err != nil {
			// A text packet may legitimately contain the separator only if
			// it was in the input, which the decoder split on: impossible.
			t.Fatalf("re-decoding %q: %v", enc, err)
		}
		if len(again) != len(got) {
			t.Fatalf("round trip: %d packets, want %d", len(again), len(got))
		}
		for i := range got {
			if again[i].Type != got[i].Type || again[i].Binary != got[i].Binary || !bytes.Equal(again[i].Data, got[i].Data) {
				t.Fatalf("round trip packet %d: %+v, want %+v", i, again[i], got[i])
			}
		}
	})
}

// FuzzRoundTrip checks decode(encode(p)) == p for arbitrary message packets,
// and that a payload split at any point decodes without panicking.
func FuzzRoundTrip(f *testing.F) {
	f.Add(byte(4), []byte("hello"), false, 2)
	f.Add(byte(4), []byte{0, 1, 2, 0x1e}, true, 1)
	f.Add(byte(3), []byte("probe"), false, 0)
	f.Add(byte(4), []byte("bad \xff\xfe"), false, 3)
	f.Fuzz(func(t *testing.T, typ byte, data []byte, binary bool, split int) {
		p := Packet{Type: PacketType(typ % 7), Data: data, Binary: binary}
		if !p.Binary && bytes.IndexByte(data, Separator) >= 0 {
			return // text packets cannot carry the separator in a payload
		}
		if p.Type != PacketMessage {
			p.Binary = false
		}
		enc := AppendText(nil, p)
		if len(enc) != TextLen(p) {
			t.Fatalf("TextLen = %d, encoding %d", TextLen(p), len(enc))
		}
		got, err := DecodeText(enc)
		if !p.Binary && !utf8.Valid(data) {
			// Text packets must be UTF-8: the decoder refuses the rest.
			if !errors.Is(err, ErrInvalidUTF8) {
				t.Fatalf("DecodeText(%q) = %v, want ErrInvalidUTF8", enc, err)
			}
			return
		}
		if err != nil {
			t.Fatalf("DecodeText(%q): %v", enc, err)
		}
		if got.Type != p.Type || got.Binary != p.Binary || !bytes.Equal(got.Data, p.Data) {
			t.Fatalf("round trip %+v -> %q -> %+v", p, enc, got)
		}
		payload := AppendPayload(nil, p, p)
		if split < 0 {
			split = -split
		}
		split %= len(payload) + 1
		_ = DecodePayload(payload[:split], func(Packet) error { return nil })
		_ = DecodePayload(payload[split:], func(Packet) error { return nil })
	})
}

func BenchmarkAppendPayload(b *testing.B) {
	packets := []Packet{
		{Type: PacketMessage, Data: []byte(`2["message",{"text":"hello world"}]`)},
		{Type: PacketMessage, Data: bytes.Repeat([]byte{7}, 64), Binary: true},
		{Type: PacketPing},
	}
	buf := make([]byte, 0, 512)
	b.ReportAllocs()
	for b.Loop() {
		buf = AppendPayload(buf[:0], packets...)
	}
}

func BenchmarkDecodePayload(b *testing.B) {
	payload := []byte("42[\"message\",{\"text\":\"hello world\"}]\x1e42[\"x\",1]\x1e3")
	fn := func(Packet) error { return nil }
	b.ReportAllocs()
	for b.Loop() {
		if err := DecodePayload(payload, fn); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkDecodeText(b *testing.B) {
	frame := []byte(`42["message",{"text":"hello world"}]`)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := DecodeText(frame); err != nil {
			b.Fatal(err)
		}
	}
}
