package socketio

import "testing"

var benchEvent = []byte(`2/chat,17["message",{"user":"alice","text":"hello, world","ts":1700000000000,"tags":["a","b"]},42,true]`)

func BenchmarkDecodeEvent(b *testing.B) {
	var d Decoder
	buf := make([]byte, len(benchEvent))
	b.ReportAllocs()
	b.SetBytes(int64(len(benchEvent)))
	for b.Loop() {
		copy(buf, benchEvent)
		p, ok, err := d.Decode(buf, false)
		if err != nil || !ok {
			b.Fatal(err)
		}
		if _, _, err := SplitEvent(p.Data); err != nil {
			b.Fatal(err)
		}
	}
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
