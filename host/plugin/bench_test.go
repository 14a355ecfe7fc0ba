package plugin

import (
	"context"
	"testing"
)

// BenchmarkEventEchoAck measures one acked event through a Go guest (chat
// echo): frame encoding, pooled instance, guest call, read_input, ack.
func BenchmarkEventEchoAck(b *testing.B) {
	p := loadGuest(b, "chat", Options{})
	s := newNS("/").sock("A", "")
	e := ev("echo", `[1,"two",{"three":3}]`, 1)
	b.ReportAllocs()
	for b.Loop() {
		s.acked = map[uint64]bool{}
		p.event(s, e)
		s.out = s.out[:0]
	}
}

// BenchmarkEventEchoAckParallel runs acked events of independent sockets
// in parallel over the instance pool.
func BenchmarkEventEchoAckParallel(b *testing.B) {
	p := loadGuest(b, "chat", Options{})
	ns := newNS("/")
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		s := ns.sock(string(rune(len(ns.socks))), "")
		e := ev("echo", `[1]`, 1)
		for pb.Next() {
			s.mu.Lock()
			s.acked = map[uint64]bool{}
			s.out = s.out[:0]
			s.mu.Unlock()
			p.event(s, e)
		}
	})
}

// BenchmarkEventCGuest is the same path with the C guest of sdk/ABI.md,
// separating the host's cost from the Go guest runtime's.
func BenchmarkEventCGuest(b *testing.B) {
	p, err := LoadFile(context.Background(), buildCGuest(b), Options{Logger: testLogger(b)}, nil)
	if err != nil {
		b.Fatal(err)
	}
	defer p.Close(context.Background())
	s := newNS("/").sock("A", "")
	e := ev("echo", `[1,"two",{"three":3}]`, 1)
	b.ReportAllocs()
	for b.Loop() {
		s.acked = map[uint64]bool{}
		p.event(s, e)
		s.out = s.out[:0]
	}
}
