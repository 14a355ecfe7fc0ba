package engineio

import (
	"errors"
	"io"
	"net/http"
	"os"
	"slices"
	"strconv"
	"sync"
	"time"

	eio "github.com/sockwasm/sockwasm/protocol/engineio"
)

// upgradeHold is how long a GET that arrives while a WebSocket upgrade is
// under way is held before it is answered with a noop. The reference server
// checks every 100 ms; holding lets an upgrade packet that is already on
// its way answer the GET with 400 instead.
const upgradeHold = 100 * time.Millisecond

// pollWait is a pending GET. Whoever answers it sets status, body and held
// and closes done, under the session's lock.
type pollWait struct {
	done   chan struct{}
	rc     *http.ResponseController
	status int
	body   []byte
	held   held   // the queued packets body holds, released once written
	cut    *ioCut // set when body holds queued packets
	hold   *time.Timer
}

// ioCut lets a session cut short a polling request's body read or
// response write when it closes, by moving the connection's deadline to
// now. Once the request is done with its I/O the cut no longer touches the
// connection, which may be serving the client's next request by then.
type ioCut struct {
	mu      sync.Mutex
	rc      *http.ResponseController
	read    bool // cut the request body read, not the response write
	started bool
	done    bool
	cut     bool
}

// start sets the deadline of the I/O about to begin, d from now. It
// reports false when the session already cut it: the I/O must not start.
func (c *ioCut) start(d time.Duration) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.cut {
		return false
	}
	c.started = true
	c.setDeadline(time.Now().Add(d))
	return true
}

// finish marks the I/O as over.
func (c *ioCut) finish() {
	c.mu.Lock()
	c.done = true
	c.mu.Unlock()
}

// stop cuts the I/O short if it is not over.
func (c *ioCut) stop() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.done || c.cut {
		return
	}
	c.cut = true
	if c.started {
		c.setDeadline(time.Now())
	}
}

func (c *ioCut) setDeadline(t time.Time) {
	if c.read {
		_ = c.rc.SetReadDeadline(t)
	} else {
		_ = c.rc.SetWriteDeadline(t)
	}
}

// answerPollLocked answers the pending GET. A body that holds queued
// packets (h non-zero) is registered to be cut short if the session closes
// at once while it is being written.
func (s *Session) answerPollLocked(status int, body []byte, h held) {
	p := s.poll
	s.poll = nil
	if p.hold != nil {
		p.hold.Stop()
	}
	p.status, p.body, p.held = status, body, h
	if h.bytes > 0 {
		p.cut = s.writeCutLocked(p.rc)
	}
	close(p.done)
}

// writeCutLocked registers a poll response about to be written with queued
// packets.
func (s *Session) writeCutLocked(rc *http.ResponseController) *ioCut {
	c := &ioCut{rc: rc}
	s.pollWrites = append(s.pollWrites, c)
	return c
}

// holdPollLocked answers p with a noop after upgradeHold unless something
// else answers it first.
func (s *Session) holdPollLocked(p *pollWait) {
	p.hold = time.AfterFunc(upgradeHold, func() {
		s.mu.Lock()
		if s.poll == p {
			s.answerPollLocked(http.StatusOK, []byte{eio.PacketNoop.Char()}, held{})
		}
		s.mu.Unlock()
	})
}

// servePoll answers a long-polling GET: at once with the queued packets,
// or when something is queued, the session closes or the upgrade finishes.
func (s *Session) servePoll(w http.ResponseWriter, r *http.Request) {
	rc := http.NewResponseController(w)
	s.mu.Lock()
	if s.pingExpiredLocked(time.Now()) {
		after := s.pingTimeoutLocked()
		s.mu.Unlock()
		after()
		writeError(w, ErrorUnknownSID)
		return
	}
	if s.state == stateClosed {
		// The client's own close packet may have ended the session after
		// ServeHTTP found it for this GET: answer with the noop it would
		// have got had it been pending (see Server.linger).
		lingered := s.reason == ReasonTransportClose
		s.mu.Unlock()
		if lingered && s.srv.takeLingering(s.id) {
			writePayload(w, []byte{eio.PacketNoop.Char()})
			return
		}
		writeError(w, ErrorUnknownSID)
		return
	}
	if s.transport != TransportPolling {
		s.mu.Unlock()
		s.waitAfterProbe()
		writeError(w, ErrorBadRequest)
		return
	}
	if s.poll != nil {
		s.log.Debug().Msg("overlapping poll requests, closing session")
		after := s.closeLocked(ReasonTransportError, false)
		s.mu.Unlock()
		after()
		writeError(w, ErrorBadRequest)
		return
	}
	if len(s.queue) > 0 || s.state == stateClosing {
		closing := s.state == stateClosing
		body, h := s.drainLocked(closing)
		cut := s.writeCutLocked(rc)
		if closing {
			s.finalizeLocked()
		}
		s.mu.Unlock()
		s.writePoll(w, rc, body, h, cut, r.Header)
		return
	}
	p := &pollWait{done: make(chan struct{}), rc: rc}
	s.poll = p
	if s.upgrading {
		s.holdPollLocked(p)
	}
	s.mu.Unlock()

	select {
	case <-p.done:
	case <-r.Context().Done():
		s.mu.Lock()
		if s.poll == p {
			s.log.Debug().Msg("poll request closed prematurely")
			after := s.closeLocked(ReasonTransportError, false)
			s.mu.Unlock()
			after()
			return
		}
		s.mu.Unlock()
		<-p.done
	}
	if p.status != http.StatusOK {
		s.waitAfterProbe()
		writeError(w, ErrorBadRequest)
		return
	}
	body := p.body
	p.body = nil
	s.writePoll(w, rc, body, p.held, p.cut, r.Header)
}

// writePoll writes a poll response under WriteTimeout, compressed as the
// request's headers, req, accept when it is large enough
// (Server.encodeBody), then releases what it held
// of the queue. cut, when set, is the response's registration in
// pollWrites. A write that fails closes the session.
func (s *Session) writePoll(w http.ResponseWriter, rc *http.ResponseController, body []byte, h held, cut *ioCut, req http.Header) {
	d := s.srv.opts.WriteTimeout
	out, used, buf := s.srv.encodeBody(w.Header(), body, req)
	defer releaseBuffer(buf)
	var err error
	if cut == nil {
		_ = rc.SetWriteDeadline(time.Now().Add(d))
		err = writeEncoded(w, out, used)
	} else {
		if cut.start(d) {
			err = writeEncoded(w, out, used)
			if err == nil {
				// Write what net/http buffers now, under the deadline.
				err = rc.Flush()
			}
		} else {
			// The session closed at once before this response began.
			_ = rc.SetWriteDeadline(time.Now().Add(d))
			writeError(w, ErrorUnknownSID)
		}
		cut.finish()
	}
	s.mu.Lock()
	s.held.sub(h)
	if cut != nil {
		if i := slices.Index(s.pollWrites, cut); i >= 0 {
			s.pollWrites = slices.Delete(s.pollWrites, i, i+1)
		}
	}
	after := noop
	if err != nil && s.state != stateClosed {
		if errors.Is(err, os.ErrDeadlineExceeded) {
			s.log.Warn().Dur("timeout", d).Int("bytes", len(body)).Msg("poll response write timed out, closing session")
		} else {
			s.log.Debug().Err(err).Msg("poll response write failed, closing session")
		}
		after = s.closeLocked(ReasonTransportError, false)
	}
	s.mu.Unlock()
	after()
}

func writePayload(w http.ResponseWriter, body []byte) error {
	return writeEncoded(w, body, encodingIdentity)
}

// writeEncoded answers with a payload, body, sent with Content-Encoding
// enc.
func writeEncoded(w http.ResponseWriter, body []byte, enc httpEncoding) error {
	h := w.Header()
	h.Set("Content-Type", "text/plain; charset=UTF-8")
	h.Set("Content-Length", strconv.Itoa(len(body)))
	if enc != encodingIdentity {
		h.Set("Content-Encoding", enc.String())
	}
	w.WriteHeader(http.StatusOK)
	_, err := w.Write(body)
	return err
}

var errStopReading = errors.New("engineio: session stopped reading")

// serveData handles a long-polling POST: its body is a payload whose
// packets take effect in order before the POST is answered. One POST at a
// time: an overlapping one closes the session, as the reference server
// does. The body is read under ReadTimeout and cut short when the session
// closes.
func (s *Session) serveData(w http.ResponseWriter, r *http.Request) {
	rc := http.NewResponseController(w)
	cut := &ioCut{rc: rc, read: true}
	s.mu.Lock()
	if s.state == stateClosed {
		s.mu.Unlock()
		writeError(w, ErrorUnknownSID)
		return
	}
	if s.post != nil {
		if s.state == stateOpen {
			s.log.Info().Str("reason", string(ReasonTransportError)).
				Msg("data request overlap from client, closing session")
		}
		after := s.closeLocked(ReasonTransportError, false)
		s.mu.Unlock()
		after()
		writeError(w, ErrorBadRequest)
		return
	}
	s.post = cut
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		if s.post == cut {
			s.post = nil
		}
		s.mu.Unlock()
	}()

	limit := s.srv.opts.MaxPayload
	if r.ContentLength > limit {
		s.payloadTooLarge(w)
		return
	}
	var body []byte
	err := ErrSessionClosed
	if cut.start(s.srv.opts.ReadTimeout) {
		body, err = io.ReadAll(io.LimitReader(r.Body, limit+1))
	}
	cut.finish()
	// Reading may have outlasted the deadline ServeHTTP set.
	_ = rc.SetWriteDeadline(time.Now().Add(s.srv.opts.WriteTimeout))
	if err != nil {
		s.mu.Lock()
		after := noop
		if s.state == stateOpen {
			if errors.Is(err, os.ErrDeadlineExceeded) {
				s.log.Info().Dur("timeout", s.srv.opts.ReadTimeout).Int("read", len(body)).
					Msg("poll data not received in time, closing session")
			} else {
				s.log.Debug().Err(err).Msg("reading poll data, closing session")
			}
			after = s.closeLocked(ReasonTransportError, false)
		}
		s.mu.Unlock()
		after()
		writeError(w, ErrorBadRequest)
		return
	}
	if int64(len(body)) > limit {
		s.payloadTooLarge(w)
		return
	}
	s.mu.Lock()
	after := noop
	expired := s.pingExpiredLocked(time.Now())
	if expired {
		after = s.pingTimeoutLocked()
	}
	s.mu.Unlock()
	after()
	if expired {
		writeError(w, ErrorUnknownSID)
		return
	}
	// The body is not reused, so packets can hand their data to the
	// Receiver without a copy.
	s.recvMu.Lock()
	err = eio.DecodePayload(body, func(p eio.Packet) error {
		if !s.handlePacket(p) {
			return errStopReading
		}
		return nil
	})
	s.recvMu.Unlock()
	var de *eio.DecodeError
	if errors.As(err, &de) {
		s.mu.Lock()
		if s.state == stateOpen {
			s.log.Info().Err(err).Str("reason", string(ReasonParseError)).Msg("malformed payload, closing session")
		}
		after := s.closeLocked(ReasonParseError, false)
		s.mu.Unlock()
		after()
		writeError(w, ErrorBadRequest)
		return
	}
	w.Header().Set("Content-Type", "text/html")
	w.Header().Set("Content-Length", "2")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write([]byte("ok"))
}

func (s *Session) payloadTooLarge(w http.ResponseWriter) {
	s.log.Debug().Int64("limit", s.srv.opts.MaxPayload).Msg("payload too large, closing session")
	s.closeWith(ReasonPayloadTooLarge, false)
	w.Header().Set("Connection", "close")
	w.WriteHeader(http.StatusRequestEntityTooLarge)
}
