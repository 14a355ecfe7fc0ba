package engineio

import (
	"bytes"
	"net"
	"sync"
	"testing"
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
