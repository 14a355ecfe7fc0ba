package socketio

import "testing"

var benchEvent = []byte(`2/chat,17["message",{"user":"alice","text":"hello, world","ts":1700000000000,"tags":["a","b"]},42,true]`)

// benchDecode decodes msg as a host does with a client's text message: a
// fresh copy each time (the transport hands each message over in a buffer
// of its own, and SplitEvent rewrites a byte of it), then, for an event,
// its name split from its args.
func benchDecode(b *testing.B, msg []byte) {
	var d Decoder
	buf := make([]byte, len(msg))
	b.ReportAllocs()
	b.SetBytes(int64(len(msg)))
	for b.Loop() {
		copy(buf, msg)
		p, ok, err := d.Decode(buf, false)
		if err != nil || !ok {
			b.Fatal(err)
		}
		if p.Type == Event {
			if _, _, err := p.SplitEvent(); err != nil {
				b.Fatal(err)
			}
		}
	}
}

// BenchmarkDecodeEvent decodes an acked EVENT of a named namespace and
// splits its name from its args.
func BenchmarkDecodeEvent(b *testing.B) { benchDecode(b, benchEvent) }

// BenchmarkDecodeEventDefault is BenchmarkDecodeEvent in the main
// namespace.
func BenchmarkDecodeEventDefault(b *testing.B) {
	benchDecode(b, append([]byte("2"), benchEvent[7:]...))
}

// BenchmarkDecodeAck decodes an ACK of a named namespace.
func BenchmarkDecodeAck(b *testing.B) {
	benchDecode(b, []byte(`3/chat,17[{"ok":true,"id":"c1f0"},42]`))
}

func BenchmarkDecodeBinaryEvent(b *testing.B) {
	var d Decoder
	text := []byte(`52-["upload",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]`)
	att := make([]byte, 1024)
	b.ReportAllocs()
	for b.Loop() {
		d.Decode(text, false)
		d.Decode(att, true)
		if _, ok, err := d.Decode(att, true); !ok || err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkEncodeEvent(b *testing.B) {
	args := []byte(`[{"user":"alice","text":"hello, world","ts":1700000000000,"tags":["a","b"]},42,true]`)
	buf := make([]byte, 0, 256)
	b.ReportAllocs()
	for b.Loop() {
		buf = AppendHeader(buf[:0], Header{Type: Event, Namespace: "/chat", ID: 17, HasID: true})
		var err error
		buf, err = AppendEventData(buf, "message", args)
		if err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkEncodeAck encodes the ACK of a named namespace that answers
// BenchmarkDecodeEvent's event.
func BenchmarkEncodeAck(b *testing.B) {
	p := Packet{Type: Ack, Namespace: "/chat", ID: 17, HasID: true, Data: []byte(`[{"ok":true},42]`)}
	buf := make([]byte, 0, 256)
	b.ReportAllocs()
	for b.Loop() {
		buf = AppendPacket(buf[:0], &p)
	}
}

func BenchmarkValidate(b *testing.B) {
	data := benchEvent[9:]
	b.ReportAllocs()
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		if err := Validate(data, 64); err != nil {
			b.Fatal(err)
		}
	}
}
