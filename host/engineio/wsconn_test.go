package engineio

import (
	"bytes"
	"encoding/binary"
	"net"
	"sync"
	"testing"

	eio "github.com/sockwasm/sockwasm/protocol/engineio"
)

// countingConn records each write it gets.
type countingConn struct {
	net.Conn
	mu     sync.Mutex
	writes [][]byte
}

func (c *countingConn) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.writes = append(c.writes, bytes.Clone(p))
	return len(p), nil
}

// A batch goes out in one write, in the order written, whoever wrote;
// outside a batch each write goes through; a batch past maxBatchBytes is
// split, never reordered.
func TestWSConnBatch(t *testing.T) {
	cc := &countingConn{}
	c := &wsConn{Conn: cc}
	mustWrite := func(s string) {
		t.Helper()
		if n, err := c.Write([]byte(s)); err != nil || n != len(s) {
			t.Fatalf("Write(%q) = %d, %v", s, n, err)
		}
	}
	mustWrite("a")
	if len(cc.writes) != 1 {
		t.Fatalf("outside a batch: %d writes, want 1", len(cc.writes))
	}
	c.batch()
	mustWrite("b")
	mustWrite("c")
	done := make(chan struct{})
	go func() { defer close(done); mustWrite("d") }() // a pong, say
	<-done
	if len(cc.writes) != 1 {
		t.Fatalf("during a batch: %d writes, want 1", len(cc.writes))
	}
	if err := c.flush(); err != nil {
		t.Fatal(err)
	}
	if len(cc.writes) != 2 || string(cc.writes[1]) != "bcd" {
		t.Fatalf("after flush: %q, want [a bcd]", cc.writes)
	}
	if c.buf != nil {
		t.Fatal("the batch buffer is kept after flush")
	}
	if err := c.flush(); err != nil || len(cc.writes) != 2 {
		t.Fatalf("an empty flush wrote: %q, %v", cc.writes, err)
	}

	// Past the bound: what is gathered goes first, then the big write.
	cc.writes = nil
	c.batch()
	mustWrite("x")
	big := bytes.Repeat([]byte("y"), maxBatchBytes)
	mustWrite(string(big))
	mustWrite("z")
	if err := c.flush(); err != nil {
		t.Fatal(err)
	}
	var got []byte
	for _, w := range cc.writes {
		got = append(got, w...)
	}
	if len(cc.writes) != 3 || !bytes.Equal(got, append(append([]byte("x"), big...), 'z')) {
		t.Fatalf("split batch: %d writes, %d bytes", len(cc.writes), len(got))
	}
	mustWrite("after")
	if last := cc.writes[len(cc.writes)-1]; string(last) != "after" {
		t.Fatalf("after the batch: last write %q", last)
	}
}

// writeMessage frames text and binary messages of each length class (7,
// 16 and 64-bit lengths; the last too large to gather) as RFC 6455 says.
func TestWSConnWriteMessage(t *testing.T) {
	cc := &countingConn{}
	c := &wsConn{Conn: cc, plain: true}
	msgs := []eio.Packet{
		{Type: eio.PacketMessage, Data: []byte("hi")},
		{Type: eio.PacketMessage, Data: bytes.Repeat([]byte("a"), 300)},
		{Type: eio.PacketMessage, Data: bytes.Repeat([]byte{7}, 200), Binary: true},
		{Type: eio.PacketPing},
		{Type: eio.PacketMessage, Data: bytes.Repeat([]byte("z"), maxBatchBytes+1)},
		{Type: eio.PacketMessage, Data: []byte{1, 2, 3}, Binary: true},
	}
	c.batch()
	for _, p := range msgs {
		if err := c.writeMessage(p); err != nil {
			t.Fatal(err)
		}
	}
	if err := c.flush(); err != nil {
		t.Fatal(err)
	}
	var stream []byte
	for _, w := range cc.writes {
		stream = append(stream, w...)
	}
	// The gathered frames, the large one's header and payload (one writev
	// on a TCP connection, two writes on this fake), the rest.
	if len(cc.writes) != 4 {
		t.Errorf("%d writes, want 4", len(cc.writes))
	}
	for i, p := range msgs {
		opcode, want := byte(1), eio.AppendText(nil, p)
		if p.Binary {
			opcode, want = 2, p.Data
		}
		if len(stream) < 2 || stream[0] != 0x80|opcode {
			t.Fatalf("frame %d: first byte %#x, want %#x", i, stream[0], 0x80|opcode)
		}
		n, h := int(stream[1]), 2
		switch n {
		case 126:
			n, h = int(binary.BigEndian.Uint16(stream[2:])), 4
		case 127:
			n, h = int(binary.BigEndian.Uint64(stream[2:])), 10
		}
		if n != len(want) || !bytes.Equal(stream[h:h+n], want) {
			t.Fatalf("frame %d: %d-byte payload, want %d bytes %.20q", i, n, len(want), want)
		}
		if n >= 126 && h == 2 || n < 126 && h != 2 || n <= 0xffff && h == 10 {
			t.Fatalf("frame %d: a %d-byte header for %d bytes", i, h, n)
		}
		stream = stream[h+n:]
	}
	if len(stream) != 0 {
		t.Fatalf("%d bytes after the last frame", len(stream))
	}
}
