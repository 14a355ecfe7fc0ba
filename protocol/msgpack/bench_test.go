package msgpack

import (
	"bytes"
	"fmt"
	"strings"
	"testing"

	"github.com/sockwasm/sockwasm/protocol/socketio"
)

// benchShapes are the packets of the parser comparison in
// docs/PERFORMANCE.md: an event with 64 B of JSON args, one with 4 KiB,
// and one with an 8 KiB binary value.
func benchShapes() []struct {
	name string
	p    socketio.Packet
} {
	args64 := `["msg",{"room":"lobby","from":"ana","text":"hello there","n":42}]`
	var b strings.Builder
	b.WriteString(`["msg",[`)
	for i := 0; b.Len() < 4096-40; i++ {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `{"id":%d,"name":"user-%d","score":%d.5,"ok":true}`, i, i, i*37)
	}
	b.WriteString(`]]`)
	return []struct {
		name string
		p    socketio.Packet
	}{
		{"args64B", socketio.Packet{Type: socketio.Event, Namespace: "/", Data: []byte(args64)}},
		{"args4KiB", socketio.Packet{Type: socketio.Event, Namespace: "/", Data: []byte(b.String())}},
		{"binary8KiB", socketio.Packet{Type: socketio.BinaryEvent, Namespace: "/", Data: []byte(`["file",{"name":"a.bin"},{"_placeholder":true,"num":0}]`),
			Attachments: [][]byte{bytes.Repeat([]byte{0xa5}, 8<<10)}}},
	}
}

// BenchmarkParsers compares the JSON parser (socketio.AppendPacket,
// socketio.Decoder) with the msgpack parser (AppendPacket, DecodePacket)
// on the same packets, both producing and consuming the JSON args and
// attachments the host works with.
func BenchmarkParsers(b *testing.B) {
	for _, s := range benchShapes() {
		text := socketio.AppendPacket(nil, &s.p)
		mp, err := AppendPacket(nil, &s.p, Limits{})
		if err != nil {
			b.Fatal(err)
		}
		size := len(text)
		for _, a := range s.p.Attachments {
			size += len(a)
		}
		b.Run("encode/json/"+s.name, func(b *testing.B) {
			b.SetBytes(int64(size))
			b.ReportAllocs()
			for b.Loop() {
				_ = socketio.AppendPacket(make([]byte, 0, 24+len(s.p.Data)), &s.p)
			}
		})
		b.Run("encode/msgpack/"+s.name, func(b *testing.B) {
			b.SetBytes(int64(len(mp)))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := AppendPacket(make([]byte, 0, 16+len(s.p.Data)+len(s.p.Attachments)*(8<<10)), &s.p, Limits{}); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run("decode/json/"+s.name, func(b *testing.B) {
			b.SetBytes(int64(size))
			b.ReportAllocs()
			var d socketio.Decoder
			for b.Loop() {
				_, done, err := d.Decode(text, false)
				for _, a := range s.p.Attachments {
					_, done, err = d.Decode(a, true)
				}
				if err != nil || !done {
					b.Fatal(err)
				}
			}
		})
		b.Run("decode/msgpack/"+s.name, func(b *testing.B) {
			b.SetBytes(int64(len(mp)))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := DecodePacket(mp, Limits{}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
