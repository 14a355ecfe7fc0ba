package engineio

import (
	"bufio"
	"encoding/binary"
	"net"
	"sync"

	eio "github.com/sockwasm/sockwasm/protocol/engineio"
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
// When no extension was negotiated, the session's writer frames its
// messages itself (writeMessage): a server's frame is a header and the
// payload, unmasked, and coder/websocket's writer, with its channel-based
// locks taken twice per message, cost a broadcast as much CPU as the write
// system calls did. coder/websocket still writes the control frames
// (pongs, the close handshake), through Write, ordered with the rest by mu.
//
// Its mutex orders every write to the connection, also the control frames
// coder/websocket writes from other goroutines (pongs, close frames), the
// way coder/websocket's own frame lock does; it is never held by anything
// but a write to this one connection.
type wsConn struct {
	net.Conn
	br       *bufio.Reader // what coder/websocket reads from
	plain    bool          // no extension negotiated: writeMessage may frame messages
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

// writeMessage adds p to the batch as one WebSocket frame: text for an
// Engine.IO packet, binary for a binary message. The session's writer,
// which alone writes data frames, calls it between batch and flush, and
// only when plain. A frame too large to gather is written at once.
func (c *wsConn) writeMessage(p eio.Packet) error {
	bin := p.Binary && p.Type == eio.PacketMessage
	opcode, n := byte(1), 0
	if bin {
		opcode, n = 2, len(p.Data)
	} else {
		n = eio.TextLen(p)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.buf != nil && len(*c.buf)+maxFrameHeader+n > maxBatchBytes {
		if err := c.flushLocked(); err != nil {
			return err
		}
	}
	if maxFrameHeader+n > maxBatchBytes {
		frame := appendFrameHeader(make([]byte, 0, maxFrameHeader), opcode, n)
		payload := p.Data
		if !bin {
			payload = eio.AppendText(make([]byte, 0, n), p)
		}
		bufs := net.Buffers{frame, payload}
		_, err := bufs.WriteTo(c.Conn)
		return err
	}
	if c.buf == nil {
		c.buf = batchPool.Get().(*[]byte)
	}
	b := appendFrameHeader(*c.buf, opcode, n)
	if bin {
		b = append(b, p.Data...)
	} else {
		b = eio.AppendText(b, p)
	}
	*c.buf = b
	return nil
}

// maxFrameHeader is the largest header of an unmasked frame.
const maxFrameHeader = 10

// appendFrameHeader appends the header of a final, unmasked frame of
// opcode with an n-byte payload (RFC 6455, section 5.2).
func appendFrameHeader(b []byte, opcode byte, n int) []byte {
	b = append(b, 0x80|opcode)
	switch {
	case n < 126:
		return append(b, byte(n))
	case n <= 0xffff:
		return append(b, 126, byte(n>>8), byte(n))
	default:
		return binary.BigEndian.AppendUint64(append(b, 127), uint64(n))
	}
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
