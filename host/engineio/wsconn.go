package engineio

import (
	"bufio"
	"net"
	"sync"
)

// maxBatchBytes bounds what a wsConn gathers before it writes: a batch
// larger than this goes out in more than one write.
const maxBatchBytes = 64 << 10

// batchPool holds the buffers wsConns gather batches in; a connection
// holds one only while its writer runs.
var batchPool = sync.Pool{New: func() any { b := make([]byte, 0, 4<<10); return &b }}

// wsConn is the connection under a WebSocket: what coder/websocket's
// buffered writer writes to. coder/websocket flushes every frame to the
// connection, one write system call per message; between batch and flush a
// wsConn gathers those writes instead and sends them in one, so that a
// session's writer pays one system call per batch of queued packets, not
// per packet (on loopback the write system call was the largest single
// cost of an echo). Outside a batch it writes through.
//
// Its mutex orders every write to the connection, also the control frames
// coder/websocket writes from other goroutines (pongs, close frames), the
// way coder/websocket's own frame lock does; it is never held by anything
// but a write to this one connection.
type wsConn struct {
	net.Conn
	br       *bufio.Reader // what coder/websocket reads from
	readMu   sync.Mutex    // held by who reads br outside the session's read loop: Close's handshake
	mu       sync.Mutex
	batching bool
	buf      *[]byte // pooled; nil while empty
}

// Write implements io.Writer: gathered during a batch, written through
// otherwise (after what is gathered).
func (c *wsConn) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.batching {
		if c.buf == nil {
			c.buf = batchPool.Get().(*[]byte)
		}
		if len(*c.buf)+len(p) <= maxBatchBytes {
			*c.buf = append(*c.buf, p...)
			return len(p), nil
		}
	}
	if err := c.flushLocked(); err != nil {
		return 0, err
	}
	return c.Conn.Write(p)
}

// drained reports whether coder/websocket has read everything the
// connection had delivered: its next read will wait for the network.
func (c *wsConn) drained() bool {
	c.readMu.Lock()
	defer c.readMu.Unlock()
	return c.br.Buffered() == 0
}

// batch starts gathering writes.
func (c *wsConn) batch() {
	c.mu.Lock()
	c.batching = true
	c.mu.Unlock()
}

// flush writes what the batch gathered, in one write, and ends the batch.
func (c *wsConn) flush() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.batching = false
	return c.flushLocked()
}

func (c *wsConn) flushLocked() error {
	if c.buf == nil {
		return nil
	}
	b := c.buf
	c.buf = nil
	_, err := c.Conn.Write(*b)
	if cap(*b) <= maxPooledBuffer {
		*b = (*b)[:0]
		batchPool.Put(b)
	}
	return err
}
