package redisadapter

import (
	"testing"

	"github.com/sockwasm/sockwasm/protocol/socketio"
)

var benchBroadcast = Broadcast{
	UID: "RqHuyn",
	Packet: Packet{
		Type: socketio.Event,
		Nsp:  "/chat",
		Data: []byte(`["message",{"user":"alice","text":"hello, world","ts":1700000000000,"tags":["a","b"]},42,true]`),
	},
	Opts: BroadcastOptions{Rooms: []string{"room-101"}, Except: []string{"zXvlABCDEFGHIJKLAAAB"}},
}

func BenchmarkAppendBroadcast(b *testing.B) {
	buf := make([]byte, 0, 256)
	b.ReportAllocs()
	for b.Loop() {
		var err error
		if buf, err = AppendBroadcast(buf[:0], &benchBroadcast); err != nil {
			b.Fatal(err)
		}
	}
	b.SetBytes(int64(len(buf)))
}

func BenchmarkDecodeBroadcast(b *testing.B) {
	msg, err := AppendBroadcast(nil, &benchBroadcast)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.SetBytes(int64(len(msg)))
	for b.Loop() {
		if _, err := DecodeBroadcast(msg, Limits{}); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkDecodeBinaryBroadcast(b *testing.B) {
	bb := benchBroadcast
	bb.Packet.Data = []byte(`["upload",{"name":"a.bin"},{"_placeholder":true,"num":0}]`)
	bb.Packet.Attachments = [][]byte{make([]byte, 1024)}
	msg, err := AppendBroadcast(nil, &bb)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.SetBytes(int64(len(msg)))
	for b.Loop() {
		if _, err := DecodeBroadcast(msg, Limits{}); err != nil {
			b.Fatal(err)
		}
	}
}
