package engineio

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"time"

	"github.com/coder/websocket"

	eio "github.com/sockwasm/sockwasm/protocol/engineio"
)

// maxPooledBuffer keeps one huge message from pinning its buffer.
const maxPooledBuffer = 64 << 10

// wsBufferSize is the size of the read buffer each WebSocket keeps for
// its whole life; small buffers are the largest saving in memory per idle
// connection.
const wsBufferSize = 1024

// wsWriteBufferSize is the size of the write buffer coder/websocket keeps
// for the connection's life. It only has to hold a frame header and a
// small payload: the session's writer gathers whole batches in a pooled
// buffer (wsConn), so a larger one would only cost memory.
const wsWriteBufferSize = 256

// hijackWriter lets coder/websocket hijack the connection through it, so
// that the server learns the raw net.Conn (to cut a close handshake short)
// and can hand out small buffers instead of net/http's 4 KiB ones.
type hijackWriter struct {
	http.ResponseWriter
	conn *wsConn
}

// Hijack implements http.Hijacker.
func (h *hijackWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	c, brw, err := http.NewResponseController(h.ResponseWriter).Hijack()
	if err != nil {
		return nil, nil, err
	}
	h.conn = &wsConn{Conn: c}
	// The 101 goes out under the deadline ServeHTTP set; from then on the
	// session's writer sets its own.
	if err := brw.Writer.Flush(); err != nil {
		return nil, nil, err
	}
	if err := c.SetWriteDeadline(time.Time{}); err != nil {
		return nil, nil, err
	}
	h.conn.br = brw.Reader
	if brw.Reader.Buffered() == 0 {
		h.conn.br = bufio.NewReaderSize(c, wsBufferSize)
	} // else the client already sent frames: keep the reader that holds them.
	return c, bufio.NewReadWriter(h.conn.br, bufio.NewWriterSize(h.conn, wsWriteBufferSize)), nil
}

// Unwrap returns the wrapped ResponseWriter.
func (h *hijackWriter) Unwrap() http.ResponseWriter { return h.ResponseWriter }

// wsCompression returns the permessage-deflate mode of
// Options.PerMessageDeflate. Without context takeover each message is
// compressed with a flate writer taken from a pool and returned after it,
// and inflated likewise; with it, coder/websocket would keep a 1.2 MiB
// flate writer and a 32 KiB window per connection that has exchanged a
// compressed message. Measured with BenchmarkCompressedWebSocketMemory
// (one 4 KiB message each way, then idle): 12 KB per connection without
// compression, 20 KB without context takeover, 1.26 MB with it. The
// reference server (ws) takes over its context, so its ratio on a series
// of similar messages is better, at a cost in memory of the same kind
// (zlib's state per connection).
func wsCompression(on bool) websocket.CompressionMode {
	if on {
		return websocket.CompressionNoContextTakeover
	}
	return websocket.CompressionDisabled
}

func (s *Server) accept(w http.ResponseWriter, r *http.Request) (*websocket.Conn, *wsConn, error) {
	hw := &hijackWriter{ResponseWriter: w}
	conn, err := websocket.Accept(hw, r, &websocket.AcceptOptions{
		// Engine.IO does not restrict origins for WebSocket.
		InsecureSkipVerify:   true,
		CompressionMode:      s.wsCompression,
		CompressionThreshold: s.opts.PerMessageDeflateThreshold,
	})
	if err != nil {
		s.log.Debug().Err(err).Msg("websocket accept failed")
		return nil, nil, err
	}
	// Without an extension (permessage-deflate), a message is a plain
	// frame the session's writer can write itself (wsConn.writeMessage).
	hw.conn.plain = hw.Header().Get("Sec-WebSocket-Extensions") == ""
	conn.SetReadLimit(s.opts.MaxPayload)
	return conn, hw.conn, nil
}

// serveWebSocketHandshake opens a session directly over WebSocket. The
// handler returns once the read loop runs in its own goroutine, so that an
// idle connection costs a single goroutine.
func (s *Server) serveWebSocketHandshake(w http.ResponseWriter, r *http.Request) {
	switch s.admit() {
	case errShutdown:
		writeError(w, ErrorBadRequest)
		return
	case errFull:
		s.logFull(r)
		writeFull(w)
		return
	}
	conn, raw, err := s.accept(w, r)
	if err != nil {
		return
	}
	sess, err := s.open(r, TransportWebSocket, conn, raw)
	if err == errFull {
		s.logFull(r)
		s.closeWebSocket(conn, raw, websocket.StatusTryAgainLater, "server full")
		return
	}
	if err != nil {
		_ = conn.CloseNow()
		return
	}
	sess.mu.Lock()
	sess.flushLocked()
	sess.mu.Unlock()
	s.goRun(func() { sess.readLoop(conn, raw, false) })
}

// serveUpgrade accepts a WebSocket for a polling session and probes it.
// A session that is not polling, or already upgrading, gets its WebSocket
// closed right after the handshake, as the reference server does.
func (s *Server) serveUpgrade(w http.ResponseWriter, r *http.Request, sess *Session) {
	sess.mu.Lock()
	ok := sess.state == stateOpen && sess.transport == TransportPolling && !sess.upgrading
	if ok {
		// Set before the 101 goes out: a GET racing the upgrade is held.
		sess.upgrading = true
	}
	sess.mu.Unlock()
	conn, raw, err := s.accept(w, r)
	if err != nil {
		if ok {
			sess.mu.Lock()
			sess.upgrading = false
			sess.mu.Unlock()
		}
		return
	}
	if !ok {
		sess.log.Debug().Msg("refusing websocket for a session that cannot upgrade")
		// Like a stray poll, the refusal waits for the probe response on
		// the other connection, so that the client sees that first.
		sess.waitProbe(time.Second)
		_ = conn.CloseNow()
		return
	}
	sess.mu.Lock()
	if sess.state != stateOpen || !sess.upgrading {
		sess.mu.Unlock()
		_ = conn.CloseNow()
		return
	}
	sess.probe = conn
	sess.probeRaw = raw
	sess.upgradeTimer = time.AfterFunc(s.opts.UpgradeTimeout, func() {
		sess.log.Debug().Msg("upgrade timed out")
		sess.abortUpgrade(conn)
	})
	sess.mu.Unlock()
	s.goRun(func() { sess.readLoop(conn, raw, true) })
}

// abortUpgrade drops the WebSocket being probed; the session stays on
// polling.
func (s *Session) abortUpgrade(conn *websocket.Conn) {
	s.mu.Lock()
	if s.probe == conn {
		s.probe = nil
		s.upgrading = false
		s.upgradeTimer.Stop()
	}
	s.mu.Unlock()
	_ = conn.CloseNow()
}

// strayPollDelay is how long after the probe response a polling request
// that raced the upgrade gets its 400 at the earliest: the client then sees
// the probe response, sent on the other connection, first.
const strayPollDelay = 20 * time.Millisecond

// waitAfterProbe delays the rejection of a polling request that raced the
// upgrade; see strayPollDelay.
func (s *Session) waitAfterProbe() {
	s.mu.Lock()
	at := s.probedAt
	s.mu.Unlock()
	if at.IsZero() {
		return
	}
	if d := time.Until(at.Add(strayPollDelay)); d > 0 {
		time.Sleep(d)
	}
}

// waitProbe waits, up to max, while an upgrade of the session is under way
// and its probe is not answered yet; then as waitAfterProbe.
func (s *Session) waitProbe(max time.Duration) {
	for deadline := time.Now().Add(max); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		s.mu.Lock()
		pending := s.state == stateOpen && s.upgrading && s.probedAt.IsZero()
		s.mu.Unlock()
		if !pending {
			break
		}
	}
	s.waitAfterProbe()
}

// completeUpgrade makes conn the session's transport. A GET still pending
// is answered 400: the client paused polling before it sent the upgrade.
func (s *Session) completeUpgrade(conn *websocket.Conn) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.probe != conn || s.state != stateOpen {
		return false
	}
	s.probe = nil
	s.upgrading = false
	s.upgradeTimer.Stop()
	s.transport = TransportWebSocket
	s.ws = conn
	s.wsRaw = s.probeRaw
	s.probeRaw = nil
	if s.poll != nil {
		s.answerPollLocked(http.StatusBadRequest, nil, held{})
	}
	s.flushLocked()
	s.srv.upgrades.Add(1)
	s.log.Debug().Msg("upgraded to websocket")
	return true
}

// readLoop reads conn until it fails or the session closes. While probing
// it speaks the upgrade protocol (2probe, 3probe, 5) and then carries on as
// the session's transport.
//
// Handling a message runs the Socket.IO layer and plugin calls on this
// goroutine, which grows its stack to 8 KiB; a goroutine parked in a read
// keeps its stack, and the garbage collector only halves a stack that
// uses under a quarter of it, which the read path alone exceeds. So when
// it has handled what the connection had sent (nothing more is buffered:
// the next read would wait), the loop goes on in a fresh goroutine, whose
// stack starts at the size goroutines use on average (4 KiB here), and
// this one ends: an idle connection holds 4 KiB of stack instead of 8, for
// the cost of starting a goroutine per burst of messages (well under a
// microsecond).
func (s *Session) readLoop(conn *websocket.Conn, raw *wsConn, probing bool) {
	ctx := context.Background()
	for {
		typ, rd, err := conn.Reader(ctx)
		if err != nil {
			s.readFailed(conn, err)
			return
		}
		buf := s.srv.getReadBuffer()
		buf.Reset()
		_, err = buf.ReadFrom(rd)
		if err != nil {
			s.srv.putReadBuffer(buf)
			s.readFailed(conn, err)
			return
		}
		var p eio.Packet
		if typ == websocket.MessageBinary {
			p = eio.DecodeBinary(buf.Bytes())
		} else {
			p, err = eio.DecodeText(buf.Bytes())
		}
		if err != nil {
			s.srv.putReadBuffer(buf)
			if probing {
				s.abortUpgrade(conn)
				return
			}
			s.parseError(conn, err)
			return
		}
		if probing {
			probing, err = s.probePacket(conn, p)
			s.srv.putReadBuffer(buf)
			if err != nil {
				return
			}
			continue
		}
		if p.Type == eio.PacketMessage {
			p.Data = bytes.Clone(p.Data)
		}
		s.srv.putReadBuffer(buf)
		s.recvMu.Lock()
		ok := s.handlePacket(p)
		s.recvMu.Unlock()
		if !ok {
			return
		}
		if raw != nil && raw.br != nil && raw.drained() {
			s.srv.goRun(func() { s.readLoop(conn, raw, false) })
			return
		}
	}
}

var errUpgradeAborted = errors.New("engineio: upgrade aborted")

// probePacket handles a packet on a WebSocket being probed. It reports
// whether conn is still probing, or an error when the upgrade failed.
func (s *Session) probePacket(conn *websocket.Conn, p eio.Packet) (bool, error) {
	switch {
	case p.Type == eio.PacketPing && string(p.Data) == "probe":
		if err := conn.Write(context.Background(), websocket.MessageText, []byte("3probe")); err != nil {
			s.abortUpgrade(conn)
			return false, err
		}
		s.mu.Lock()
		if s.probe == conn {
			s.probedAt = time.Now()
		}
		if p := s.poll; s.probe == conn && p != nil && p.hold == nil {
			// Release the pending GET soon so the client can pause polling;
			// not at once, in case the client's upgrade packet is on its way.
			s.holdPollLocked(p)
		}
		s.mu.Unlock()
		return true, nil
	case p.Type == eio.PacketUpgrade:
		if !s.completeUpgrade(conn) {
			_ = conn.CloseNow()
			return false, errUpgradeAborted
		}
		return false, nil
	default:
		s.abortUpgrade(conn)
		return false, errUpgradeAborted
	}
}

func (s *Server) getReadBuffer() *bytes.Buffer {
	if b, ok := s.readBuffers.Get().(*bytes.Buffer); ok {
		return b
	}
	return new(bytes.Buffer)
}

func (s *Server) putReadBuffer(b *bytes.Buffer) {
	if b.Cap() <= maxPooledBuffer {
		s.readBuffers.Put(b)
	}
}

// readFailed ends the probe or the session whose transport conn is.
func (s *Session) readFailed(conn *websocket.Conn, err error) {
	reason := ReasonTransportError
	if websocket.CloseStatus(err) != -1 || errors.Is(err, io.EOF) || errors.Is(err, net.ErrClosed) {
		reason = ReasonTransportClose
	}
	s.mu.Lock()
	if s.probe == conn {
		s.mu.Unlock()
		s.abortUpgrade(conn)
		return
	}
	s.mu.Unlock()
	if reason == ReasonTransportError {
		s.log.Debug().Err(err).Msg("websocket read failed")
	}
	s.closeIfTransport(conn, reason)
}

// parseError closes the session at once with ReasonParseError when conn,
// its transport, sent a malformed packet. A text frame that is not UTF-8
// gets the close status 1007 (RFC 6455 §8.1), any other error a cut
// connection.
func (s *Session) parseError(conn *websocket.Conn, err error) {
	s.mu.Lock()
	after := noop
	if s.ws == conn {
		if s.state != stateClosed {
			s.log.Info().Err(err).Str("reason", string(ReasonParseError)).Msg("malformed packet, closing session")
		}
		if errors.Is(err, eio.ErrInvalidUTF8) {
			s.wsClose = websocket.StatusInvalidFramePayloadData
		}
		after = s.closeLocked(ReasonParseError, false)
	}
	s.mu.Unlock()
	after()
	_ = conn.CloseNow()
}

// closeIfTransport closes the session at once if conn is its transport.
func (s *Session) closeIfTransport(conn *websocket.Conn, reason CloseReason) {
	s.mu.Lock()
	after := noop
	if s.ws == conn {
		after = s.closeLocked(reason, false)
	}
	s.mu.Unlock()
	after()
	_ = conn.CloseNow()
}

// writeLoop writes the queue to conn until it is empty, then exits; it is
// started again by the next Send. No lock is held while writing. Each batch
// it takes from the queue is written under WriteTimeout (one deadline on
// the raw connection per batch, cheaper than a context per message), in
// one write to the raw connection (wsConn), and
// counts against the queue's limits until it is written; its message
// packets count as sent (Counters.PacketsOut) when it is taken. When the
// session is closing gracefully it closes conn once the queue is written.
func (s *Session) writeLoop(conn *websocket.Conn) {
	ctx := context.Background()
	var batch []eio.Packet
	var text []byte
	var h held        // what batch holds of the queue
	var deadline bool // the raw connection has a write deadline set
	for {
		s.mu.Lock()
		s.held.sub(h)
		h = held{}
		if s.ws != conn || s.state == stateClosed {
			s.writing = false
			s.mu.Unlock()
			return
		}
		raw := s.wsRaw
		if len(s.queue) == 0 {
			if deadline {
				// Clear the deadline while this loop still owns the
				// writes: coder/websocket writes pongs and close frames
				// on its own.
				s.mu.Unlock()
				_ = raw.SetWriteDeadline(time.Time{})
				deadline = false
				continue
			}
			s.writing = false
			closing := s.state == stateClosing
			if closing {
				s.finalizeLocked()
			}
			s.mu.Unlock()
			if closing {
				s.srv.closeWebSocket(conn, raw, websocket.StatusNormalClosure, "")
			}
			return
		}
		batch, s.queue = s.queue, batch[:0]
		h = held{packets: len(batch), bytes: s.queueBytes}
		s.held.add(h)
		s.queueBytes = 0
		s.pingQueued = false
		s.mu.Unlock()
		s.traffic.countOut(messages(batch))
		if raw != nil {
			_ = raw.SetWriteDeadline(time.Now().Add(s.srv.opts.WriteTimeout))
			deadline = true
			raw.batch()
		}
		plain := raw != nil && raw.plain
		for _, p := range batch {
			var err error
			if plain {
				err = raw.writeMessage(p)
			} else if p.Binary && p.Type == eio.PacketMessage {
				err = conn.Write(ctx, websocket.MessageBinary, p.Data)
			} else {
				text = eio.AppendText(text[:0], p)
				err = conn.Write(ctx, websocket.MessageText, text)
			}
			if err != nil {
				s.writeFailed(conn, err)
				return
			}
		}
		if raw != nil {
			if err := raw.flush(); err != nil {
				s.writeFailed(conn, err)
				return
			}
		}
		clear(batch)
	}
}

// writeFailed closes the session at once when a write to conn, its
// transport, failed or timed out.
func (s *Session) writeFailed(conn *websocket.Conn, err error) {
	s.mu.Lock()
	after := noop
	if s.ws == conn && s.state != stateClosed {
		if errors.Is(err, os.ErrDeadlineExceeded) {
			s.log.Warn().Dur("timeout", s.srv.opts.WriteTimeout).Int64("unwritten_bytes", s.queueBytes+s.held.bytes).
				Msg("websocket write timed out, closing session")
		} else {
			s.log.Debug().Err(err).Msg("websocket write failed, closing session")
		}
		after = s.closeLocked(ReasonTransportError, false)
	}
	s.mu.Unlock()
	after()
	_ = conn.CloseNow()
}
