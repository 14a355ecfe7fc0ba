//go:build !wasip1

package sockwasm

import (
	"encoding/binary"
	"testing"
)

func TestNativeHostCalls(t *testing.T) {
	s := &Socket{id: "a"}
	if err := s.Emit("x", []byte("[]")); err != ErrNotAllowed {
		t.Fatalf("native Emit = %v", err)
	}
}

func eventFrame(name, args string, ack uint64) []byte {
	f := []byte{1, kindEvent, 0, 0}
	if ack != 0 {
		f[2] = flagHasAck
	}
	f = binary.LittleEndian.AppendUint32(f, 0)
	f = binary.LittleEndian.AppendUint64(f, ack)
	f = binary.LittleEndian.AppendUint32(f, 0)
	f = binary.LittleEndian.AppendUint32(f, 0)
	for _, s := range []string{"/", "sid", name, args, "", "", ""} {
		f = binary.LittleEndian.AppendUint32(f, uint32(len(s)))
		f = append(f, s...)
	}
	return binary.LittleEndian.AppendUint32(f, 0)
}

// TestDispatchAllocs guards the hot path: dispatching an event to a
// handler that acks its args must not allocate.
func TestDispatchAllocs(t *testing.T) {
	var got string
	OnEvent("echo", func(s *Socket, e *Event) {
		got = e.Name
		e.Ack(e.Args(), e.Attachments()...)
		e.Arg(0).AsInt()
	})
	defer func() { handlers.events = nil }()
	nativeFrame = eventFrame("echo", `[1,"two"]`, 3)
	defer func() { nativeFrame = nil }()
	if rc := dispatch(kindEvent, int32(len(nativeFrame))); rc != 0 || got != "echo" {
		t.Fatalf("dispatch = %d, name %q", rc, got)
	}
	if n := testing.AllocsPerRun(100, func() { dispatch(kindEvent, int32(len(nativeFrame))) }); n != 0 {
		t.Fatalf("%v allocations per event", n)
	}
}
