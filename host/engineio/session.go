package engineio

import (
	"net/http"
	"sync"
	"time"

	"github.com/coder/websocket"

	"github.com/sockwasm/sockwasm/host/internal/sidlog"
	eio "github.com/sockwasm/sockwasm/protocol/engineio"
)

type sessionState uint8

const (
	stateOpen    sessionState = iota
	stateClosing              // flushing before the transport closes
	stateClosed
)

// Session is one Engine.IO session. Its methods are safe for concurrent use.
type Session struct {
	srv *Server
	id  string
	hs  *Handshake
	log sidlog.Logger
	// traffic is the shard of the server's message counters this
	// session counts into.
	traffic *trafficShard

	// recvMu serializes everything that reaches the Receiver: OnMessage
	// calls and the final OnClose. Lock order: recvMu before mu.
	recvMu sync.Mutex
	recv   Receiver

	mu        sync.Mutex
	state     sessionState
	reason    CloseReason
	transport string
	ws        *websocket.Conn // live WebSocket transport
	wsRaw     *wsConn         // the connection under ws
	// wsClose is the status ws gets when the session closes at once; zero
	// cuts the connection without a close handshake.
	wsClose    websocket.StatusCode
	queue      []eio.Packet // packets waiting for the transport
	queueBytes int64        // the text-encoded length of queue
	// held is what the WebSocket writer or poll responses took from the
	// queue and have not written yet; it counts against the queue's limits.
	held       held
	pingQueued bool      // the last ping is still queued: no pong can answer it yet
	writing    bool      // a writeLoop goroutine owns ws writes
	poll       *pollWait // the pending GET, if any
	post       *ioCut    // the POST being read or processed, if any
	pollWrites []*ioCut  // poll responses with queued packets being written

	hbTimer      *time.Timer // one timer for ping interval and ping timeout
	hbDue        time.Time   // earlier firings of hbTimer are stale
	awaitingPong bool

	upgrading    bool            // a WebSocket upgrade is being accepted or probed
	probe        *websocket.Conn // WebSocket being probed for the upgrade
	probeRaw     *wsConn
	probedAt     time.Time // when the probe was answered
	upgradeTimer *time.Timer
	closeTimer   *time.Timer // bounds a graceful close
}

// held counts packets and bytes taken out of a session's queue by a
// transport and not yet written.
type held struct {
	packets int
	bytes   int64
}

func (h *held) add(o held) { h.packets += o.packets; h.bytes += o.bytes }
func (h *held) sub(o held) { h.packets -= o.packets; h.bytes -= o.bytes }

func newSession(srv *Server, sid, transport string, r *http.Request, ws *websocket.Conn) *Session {
	return &Session{
		srv:       srv,
		id:        sid,
		hs:        newHandshake(r),
		log:       sidlog.New(&srv.log, sid),
		traffic:   srv.shard(),
		transport: transport,
		ws:        ws,
	}
}

// ID returns the session id (the sid).
func (s *Session) ID() string { return s.id }

// Transport returns the current transport name, TransportPolling or
// TransportWebSocket.
func (s *Session) Transport() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.transport
}

// Handshake returns what the client sent when the session opened.
func (s *Session) Handshake() *Handshake { return s.hs }

// Send queues messages atomically (in order, contiguous) and never blocks.
// It returns ErrSessionClosed once the session is closing or closed. When
// the messages do not fit in the write queue (Options.WriteQueueSize and
// WriteQueueBytes, counting what the transport holds unwritten) the
// session is closed at once with ReasonWriteQueueFull, its queue dropped,
// and ErrWriteQueueFull is returned.
func (s *Session) Send(msgs ...Message) error {
	var n int64
	for _, m := range msgs {
		n += int64(eio.TextLen(eio.Packet{Type: eio.PacketMessage, Data: m.Data, Binary: m.Binary}))
	}
	s.mu.Lock()
	if s.state != stateOpen {
		s.mu.Unlock()
		return ErrSessionClosed
	}
	if !s.fitsLocked(len(msgs), n) {
		after := s.queueFullLocked(len(msgs), n)
		s.mu.Unlock()
		after()
		return ErrWriteQueueFull
	}
	for _, m := range msgs {
		s.queue = append(s.queue, eio.Packet{Type: eio.PacketMessage, Data: m.Data, Binary: m.Binary})
	}
	s.queueBytes += n
	s.flushLocked()
	s.mu.Unlock()
	return nil
}

// fitsLocked reports whether packets more packets of bytes more bytes fit
// in the write queue's limits, counting what the transport holds.
func (s *Session) fitsLocked(packets int, bytes int64) bool {
	o := &s.srv.opts
	return len(s.queue)+s.held.packets+packets <= o.WriteQueueSize &&
		s.queueBytes+s.held.bytes+bytes <= o.WriteQueueBytes
}

// queueFullLocked closes an open session whose client does not keep up;
// like closeLocked it returns what to run once s.mu is released.
func (s *Session) queueFullLocked(packets int, bytes int64) func() {
	o := &s.srv.opts
	s.log.Warn().
		Int("queued_packets", len(s.queue)+s.held.packets).Int64("queued_bytes", s.queueBytes+s.held.bytes).
		Int("adding_packets", packets).Int64("adding_bytes", bytes).
		Int("limit_packets", o.WriteQueueSize).Int64("limit_bytes", o.WriteQueueBytes).
		Msg("write queue full, closing session")
	return s.closeLocked(ReasonWriteQueueFull, false)
}

// Close flushes what is queued, then closes the transport. Idempotent.
// Receiver.OnClose is called with reason once the session has closed.
func (s *Session) Close(reason CloseReason) { s.closeWith(reason, true) }

func (s *Session) closeWith(reason CloseReason, graceful bool) {
	s.mu.Lock()
	after := s.closeLocked(reason, graceful)
	s.mu.Unlock()
	after()
}

func noop() {}

// closeLocked moves the session towards closed. A graceful close flushes
// the queue first, within WriteTimeout; otherwise the transport is dropped
// at once (a poll response or POST body under way is cut short), which
// also ends a graceful close already under way. The returned function must
// be called after s.mu is released.
func (s *Session) closeLocked(reason CloseReason, graceful bool) func() {
	switch {
	case s.state == stateClosed:
		return noop
	case s.state == stateClosing && graceful:
		return noop
	case s.state == stateOpen:
		s.reason = reason
	}
	var probe *websocket.Conn
	if s.probe != nil {
		probe = s.probe
		s.probe = nil
	}
	s.upgrading = false
	after := func() {
		if probe != nil {
			_ = probe.CloseNow()
		}
	}
	if graceful {
		s.state = stateClosing
		s.hbTimer.Stop()
		wait := s.srv.opts.WriteTimeout
		if s.transport == TransportWebSocket {
			if !s.writing {
				s.writing = true
				ws := s.ws
				s.srv.goRun(func() { s.writeLoop(ws) })
			}
			s.closeTimer = time.AfterFunc(wait, func() { s.closeTimedOut(wait) })
			return after
		}
		if s.poll != nil {
			body, h := s.drainLocked(true)
			s.answerPollLocked(http.StatusOK, body, h)
			s.finalizeLocked()
			return after
		}
		if reason == ReasonServerShutdown {
			// Like the reference server, a shutdown does not wait for a
			// polling client's next request.
			s.finalizeLocked()
			return after
		}
		// Wait for the client's next GET to deliver the rest, no longer
		// than a write may take nor than the heartbeat would have waited.
		wait = min(wait, s.srv.opts.PingInterval+s.srv.opts.PingTimeout)
		s.closeTimer = time.AfterFunc(wait, func() { s.closeTimedOut(wait) })
		return after
	}
	ws, raw, code := s.ws, s.wsRaw, s.wsClose
	cuts := s.pollWrites
	s.pollWrites = nil
	if s.transport == TransportPolling && s.poll == nil && reason == ReasonTransportClose {
		s.srv.linger(s.id)
	}
	if s.transport == TransportPolling && s.poll != nil {
		body := []byte{eio.PacketClose.Char()}
		if reason == ReasonTransportClose {
			// The client asked to close: release its poll with a noop.
			body[0] = eio.PacketNoop.Char()
		}
		s.answerPollLocked(http.StatusOK, body, held{})
	}
	s.finalizeLocked()
	return func() {
		after()
		for _, c := range cuts {
			c.stop()
		}
		switch {
		case ws == nil:
		case code != 0:
			s.srv.closeWebSocket(ws, raw, code, string(reason))
		default:
			_ = ws.CloseNow()
		}
	}
}

// closeTimedOut drops the transport of a session whose graceful close
// did not finish within wait.
func (s *Session) closeTimedOut(wait time.Duration) {
	s.mu.Lock()
	after := noop
	if s.state == stateClosing {
		if s.transport == TransportWebSocket {
			s.log.Warn().Dur("timeout", wait).Int64("unwritten_bytes", s.queueBytes+s.held.bytes).
				Msg("flush before close did not finish in time, dropping the connection")
		} else {
			s.log.Debug().Dur("timeout", wait).Msg("client did not poll for the rest before the close deadline")
		}
		after = s.closeLocked(s.reason, false)
	}
	s.mu.Unlock()
	after()
}

// finalizeLocked marks the session closed, forgets it and schedules OnClose.
// A POST body still being read is cut short: it can no longer be used.
func (s *Session) finalizeLocked() {
	if s.state == stateClosed {
		return
	}
	s.state = stateClosed
	clear(s.queue)
	s.queue = nil
	s.queueBytes = 0
	s.hbTimer.Stop()
	if s.upgradeTimer != nil {
		s.upgradeTimer.Stop()
	}
	if s.closeTimer != nil {
		s.closeTimer.Stop()
	}
	if s.poll != nil {
		s.answerPollLocked(http.StatusBadRequest, nil, held{})
	}
	post := s.post
	s.srv.remove(s)
	reason := s.reason
	s.srv.countClose(reason)
	s.log.Debug().Str("reason", string(reason)).Msg("session closed")
	s.srv.goRun(func() {
		if post != nil {
			post.stop()
		}
		s.recvMu.Lock()
		defer s.recvMu.Unlock()
		if s.recv != nil {
			s.recv.OnClose(reason)
		}
	})
}

// flushLocked hands queued packets to the transport: it starts the
// WebSocket writer or answers the pending poll.
func (s *Session) flushLocked() {
	if len(s.queue) == 0 {
		return
	}
	switch {
	case s.transport == TransportWebSocket:
		if !s.writing && s.ws != nil {
			s.writing = true
			ws := s.ws
			s.srv.goRun(func() { s.writeLoop(ws) })
		}
	case s.poll != nil:
		body, h := s.drainLocked(false)
		s.answerPollLocked(http.StatusOK, body, h)
	}
}

// drainLocked empties the queue into one polling payload, followed by a
// close packet when withClose is set. The body counts as held until the
// response is written: its writer subtracts the returned held then. Its
// message packets count as sent (Counters.PacketsOut).
func (s *Session) drainLocked(withClose bool) ([]byte, held) {
	n := 0
	for _, p := range s.queue {
		n += eio.TextLen(p) + 1
	}
	s.traffic.countOut(messages(s.queue))
	body := eio.AppendPayload(make([]byte, 0, n+1), s.queue...)
	if withClose {
		if len(body) > 0 {
			body = append(body, eio.Separator)
		}
		body = append(body, eio.PacketClose.Char())
	}
	h := held{packets: len(s.queue), bytes: int64(len(body))}
	s.held.add(h)
	s.queueBytes = 0
	s.pingQueued = false
	clear(s.queue)
	if cap(s.queue) > 64 {
		s.queue = nil
	} else {
		s.queue = s.queue[:0]
	}
	return body, h
}

// startHeartbeatLocked arms the ping timer; it runs when the handshake is
// queued, so the client's clock and ours start together.
func (s *Session) startHeartbeatLocked() {
	d := s.srv.opts.PingInterval
	s.hbDue = time.Now().Add(d)
	s.hbTimer = time.AfterFunc(d, s.onHeartbeat)
}

// onHeartbeat runs when hbTimer fires: it sends a ping, or closes the
// session when the previous ping went unanswered.
func (s *Session) onHeartbeat() {
	s.mu.Lock()
	now := time.Now()
	if s.state != stateOpen || now.Before(s.hbDue) {
		s.mu.Unlock()
		return
	}
	if s.awaitingPong {
		after := s.pingTimeoutLocked()
		s.mu.Unlock()
		after()
		return
	}
	if !s.fitsLocked(1, 1) {
		after := s.queueFullLocked(1, 1)
		s.mu.Unlock()
		after()
		return
	}
	s.awaitingPong = true
	// Count the timeout from when the ping was due, not from when this
	// callback got to run.
	s.hbDue = s.hbDue.Add(s.srv.opts.PingTimeout)
	s.hbTimer.Reset(s.hbDue.Sub(now))
	s.queue = append(s.queue, eio.Packet{Type: eio.PacketPing})
	s.queueBytes++
	s.pingQueued = true
	s.flushLocked()
	s.mu.Unlock()
}

// pingExpiredLocked reports whether the heartbeat deadline has passed,
// whether or not the timer has run yet: a request arriving after the
// deadline must not find the session alive.
func (s *Session) pingExpiredLocked(now time.Time) bool {
	if s.state != stateOpen {
		return false
	}
	deadline := s.hbDue
	if !s.awaitingPong {
		deadline = deadline.Add(s.srv.opts.PingTimeout)
	}
	return !now.Before(deadline)
}

// pingTimeoutLocked closes a session whose pong is overdue; like
// closeLocked it returns what to run once s.mu is released.
func (s *Session) pingTimeoutLocked() func() {
	s.log.Debug().Msg("ping timeout")
	return s.closeLocked(ReasonPingTimeout, false)
}

// onPong takes a pong as the answer to the last ping, unless that ping is
// still queued: a client that never polls or reads cannot keep its session
// (and its queue) alive by sending pongs blindly.
func (s *Session) onPong() {
	s.mu.Lock()
	if s.state == stateOpen && s.awaitingPong && !s.pingQueued && !s.pingExpiredLocked(time.Now()) {
		s.awaitingPong = false
		// The next ping is due one interval after this one was (hbDue is
		// its due time plus the timeout), not after the pong: the pings
		// keep their cadence however long the client takes to answer.
		now := time.Now()
		next := s.hbDue.Add(s.srv.opts.PingInterval - s.srv.opts.PingTimeout)
		if next.Before(now) {
			next = now
		}
		s.hbDue = next
		s.hbTimer.Reset(next.Sub(now))
	}
	s.mu.Unlock()
}

// handlePacket acts on one packet from the client; the caller holds
// recvMu. It reports whether the session still accepts packets.
func (s *Session) handlePacket(p eio.Packet) bool {
	switch p.Type {
	case eio.PacketMessage:
		s.mu.Lock()
		open := s.state == stateOpen
		s.mu.Unlock()
		if !open {
			return false
		}
		s.traffic.countIn(len(p.Data))
		s.recv.OnMessage(p.Data, p.Binary)
	case eio.PacketPong:
		s.onPong()
	case eio.PacketClose:
		s.log.Debug().Msg("client closed the session")
		s.closeWith(ReasonTransportClose, false)
		return false
	}
	return true
}
