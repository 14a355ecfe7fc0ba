package engineio

import (
	"errors"
	"io"
	"net/http"
	"strconv"
	"time"

	eio "github.com/sockwasm/sockwasm/protocol/engineio"
)

// upgradeHold is how long a GET that arrives while a WebSocket upgrade is
// under way is held before it is answered with a noop. The reference server
// checks every 100 ms; holding lets an upgrade packet that is already on
// its way answer the GET with 400 instead.
const upgradeHold = 100 * time.Millisecond

// pollWait is a pending GET. Whoever answers it sets status and body and
// closes done, under the session's lock.
type pollWait struct {
	done   chan struct{}
	status int
	body   []byte
	hold   *time.Timer
}

func (s *Session) answerPollLocked(status int, body []byte) {
	p := s.poll
	s.poll = nil
	if p.hold != nil {
		p.hold.Stop()
	}
	p.status, p.body = status, body
	close(p.done)
}

// holdPollLocked answers p with a noop after upgradeHold unless something
// else answers it first.
func (s *Session) holdPollLocked(p *pollWait) {
	p.hold = time.AfterFunc(upgradeHold, func() {
		s.mu.Lock()
		if s.poll == p {
			s.answerPollLocked(http.StatusOK, []byte{eio.PacketNoop.Char()})
		}
		s.mu.Unlock()
	})
}

// servePoll answers a long-polling GET: at once with the queued packets,
// or when something is queued, the session closes or the upgrade finishes.
func (s *Session) servePoll(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	if s.pingExpiredLocked(time.Now()) {
		after := s.pingTimeoutLocked()
		s.mu.Unlock()
		after()
		writeError(w, ErrorUnknownSID)
		return
	}
	if s.state == stateClosed {
		s.mu.Unlock()
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
		body := s.drainLocked(closing)
		if closing {
			s.finalizeLocked()
		}
		s.mu.Unlock()
		writePayload(w, body)
		return
	}
	p := &pollWait{done: make(chan struct{})}
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
	writePayload(w, p.body)
}

func writePayload(w http.ResponseWriter, body []byte) {
	h := w.Header()
	h.Set("Content-Type", "text/plain; charset=UTF-8")
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(body)
}

var errStopReading = errors.New("engineio: session stopped reading")

// serveData handles a long-polling POST: its body is a payload whose
// packets take effect in order before the POST is answered.
func (s *Session) serveData(w http.ResponseWriter, r *http.Request) {
	limit := s.srv.opts.MaxPayload
	if r.ContentLength > limit {
		s.payloadTooLarge(w)
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, limit+1))
	if err != nil {
		s.log.Debug().Err(err).Msg("reading poll data")
		s.closeWith(ReasonTransportError, false)
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
		s.log.Debug().Err(err).Msg("malformed payload, closing session")
		s.closeWith(ReasonParseError, false)
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
