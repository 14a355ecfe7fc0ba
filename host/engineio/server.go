package engineio

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"net"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/coder/websocket"
	"github.com/rs/zerolog"

	eio "github.com/sockwasm/sockwasm/protocol/engineio"
)

// Defaults applied by New to zero Options fields.
const (
	DefaultPath           = "/engine.io/"
	DefaultPingInterval   = 25 * time.Second
	DefaultPingTimeout    = 20 * time.Second
	DefaultMaxPayload     = 1_000_000
	DefaultUpgradeTimeout = 10 * time.Second
	DefaultWriteQueueSize = 1024
)

// ErrSessionClosed is returned by Send on a closed session.
var ErrSessionClosed = errors.New("engineio: session closed")

// ErrWriteQueueFull is returned by Send when the messages do not fit in the
// session's write queue; the session has then been closed.
var ErrWriteQueueFull = errors.New("engineio: write queue full")

// ErrorCode is the code of an Engine.IO HTTP error response, as the
// reference server numbers them.
type ErrorCode int

// Error codes of HTTP error responses.
const (
	ErrorUnknownTransport           ErrorCode = 0
	ErrorUnknownSID                 ErrorCode = 1
	ErrorBadHandshakeMethod         ErrorCode = 2
	ErrorBadRequest                 ErrorCode = 3
	ErrorForbidden                  ErrorCode = 4
	ErrorUnsupportedProtocolVersion ErrorCode = 5
)

var errorMessages = [...]string{
	"Transport unknown",
	"Session ID unknown",
	"Bad handshake method",
	"Bad request",
	"Forbidden",
	"Unsupported protocol version",
}

// String returns the reference server's message for c.
func (c ErrorCode) String() string {
	if c >= 0 && int(c) < len(errorMessages) {
		return errorMessages[c]
	}
	return "ErrorCode(" + strconv.Itoa(int(c)) + ")"
}

// Server is the Engine.IO server, an http.Handler.
type Server struct {
	opts    Options
	handler Handler
	log     zerolog.Logger
	// handshakeTail is the constant end of every open packet.
	handshakeTail string

	mu       sync.Mutex
	sessions map[string]*Session
	shutdown bool
	// lingering holds polling sessions the client closed while no GET was
	// pending: one GET that raced the close packet still gets its noop.
	lingering map[string]struct{}
	// closingConns are WebSockets in their close handshake.
	closingConns map[*websocket.Conn]net.Conn

	goroutines tracker
	// readBuffers holds the buffers WebSocket messages are read into;
	// messages are copied out before they reach the Receiver.
	readBuffers sync.Pool
}

// New returns a server that hands sessions to h. Zero Options fields take
// the documented defaults.
func New(opts Options, h Handler) *Server {
	if opts.Path == "" {
		opts.Path = DefaultPath
	}
	if opts.PingInterval <= 0 {
		opts.PingInterval = DefaultPingInterval
	}
	if opts.PingTimeout <= 0 {
		opts.PingTimeout = DefaultPingTimeout
	}
	if opts.MaxPayload <= 0 {
		opts.MaxPayload = DefaultMaxPayload
	}
	if opts.UpgradeTimeout <= 0 {
		opts.UpgradeTimeout = DefaultUpgradeTimeout
	}
	if opts.WriteQueueSize <= 0 {
		opts.WriteQueueSize = DefaultWriteQueueSize
	}
	log := zerolog.Nop()
	if opts.Logger != nil {
		log = *opts.Logger
	}
	return &Server{
		opts:    opts,
		handler: h,
		log:     log,
		handshakeTail: `,"pingInterval":` + strconv.FormatInt(opts.PingInterval.Milliseconds(), 10) +
			`,"pingTimeout":` + strconv.FormatInt(opts.PingTimeout.Milliseconds(), 10) +
			`,"maxPayload":` + strconv.FormatInt(opts.MaxPayload, 10) + `}`,
		sessions:     make(map[string]*Session),
		lingering:    make(map[string]struct{}),
		closingConns: make(map[*websocket.Conn]net.Conn),
	}
}

// Len returns the number of open sessions.
func (s *Server) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.sessions)
}

// ServeHTTP serves the Engine.IO endpoint: handshakes, polling requests and
// WebSocket connections on Options.Path.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if p := r.URL.Path; p != s.opts.Path && p+"/" != s.opts.Path {
		http.NotFound(w, r)
		return
	}
	isWS := isWebSocketRequest(r)
	if !isWS {
		s.setCORS(w, r)
		if r.Method == http.MethodOptions && len(s.opts.CORS.Origins) > 0 {
			s.preflight(w, r)
			return
		}
	}
	q := r.URL.Query()
	transport := q.Get("transport")
	if transport != TransportPolling && transport != TransportWebSocket {
		writeError(w, ErrorUnknownTransport)
		return
	}
	if sid := q.Get("sid"); sid != "" {
		sess := s.session(sid)
		if sess == nil {
			if !isWS && transport == TransportPolling && r.Method == http.MethodGet && s.takeLingering(sid) {
				writePayload(w, []byte{eio.PacketNoop.Char()})
				return
			}
			writeError(w, ErrorUnknownSID)
			return
		}
		switch {
		case isWS && transport == TransportWebSocket:
			s.serveUpgrade(w, r, sess)
		case isWS:
			writeError(w, ErrorBadRequest)
		case sess.Transport() != transport:
			sess.waitAfterProbe()
			writeError(w, ErrorBadRequest)
		case r.Method == http.MethodGet:
			sess.servePoll(w, r)
		case r.Method == http.MethodPost:
			sess.serveData(w, r)
		default:
			writeError(w, ErrorBadRequest)
		}
		return
	}
	if r.Method != http.MethodGet {
		writeError(w, ErrorBadHandshakeMethod)
		return
	}
	if transport == TransportWebSocket && !isWS {
		writeError(w, ErrorBadRequest)
		return
	}
	if q.Get("EIO") != "4" {
		writeError(w, ErrorUnsupportedProtocolVersion)
		return
	}
	if transport == TransportWebSocket {
		s.serveWebSocketHandshake(w, r)
		return
	}
	sess, ok := s.open(r, TransportPolling, nil, nil)
	if !ok {
		writeError(w, ErrorBadRequest)
		return
	}
	sess.servePoll(w, r)
}

// Shutdown closes every session with ReasonServerShutdown, flushing queues,
// and waits for them and their goroutines, or for ctx. When ctx ends first
// the remaining sessions and WebSocket close handshakes are cut short and
// ctx's error is returned. Polling sessions without a pending GET are closed
// at once, as the reference server does. New handshakes are refused from
// the first call on. Shutdown is idempotent.
func (s *Server) Shutdown(ctx context.Context) error {
	s.mu.Lock()
	s.shutdown = true
	s.mu.Unlock()
	for _, sess := range s.openSessions() {
		sess.Close(ReasonServerShutdown)
	}
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for s.Len() > 0 {
		select {
		case <-ctx.Done():
			s.abort()
			return ctx.Err()
		case <-tick.C:
		}
	}
	if err := s.goroutines.wait(ctx); err != nil {
		s.abort()
		return err
	}
	return nil
}

// abort closes what Shutdown is still waiting for without further ado.
func (s *Server) abort() {
	for _, sess := range s.openSessions() {
		sess.closeWith(ReasonServerShutdown, false)
	}
	s.mu.Lock()
	conns := make([]net.Conn, 0, len(s.closingConns))
	for _, raw := range s.closingConns {
		if raw != nil {
			conns = append(conns, raw)
		}
	}
	s.mu.Unlock()
	for _, c := range conns {
		_ = c.Close()
	}
}

func (s *Server) openSessions() []*Session {
	s.mu.Lock()
	defer s.mu.Unlock()
	all := make([]*Session, 0, len(s.sessions))
	for _, sess := range s.sessions {
		all = append(all, sess)
	}
	return all
}

// closeWebSocket closes c with a close handshake, which Shutdown may cut
// short by closing raw.
func (s *Server) closeWebSocket(c *websocket.Conn, raw net.Conn) {
	s.mu.Lock()
	s.closingConns[c] = raw
	s.mu.Unlock()
	_ = c.Close(websocket.StatusNormalClosure, "")
	s.mu.Lock()
	delete(s.closingConns, c)
	s.mu.Unlock()
}

func (s *Server) session(sid string) *Session {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.sessions[sid]
}

func (s *Server) remove(sess *Session) {
	s.mu.Lock()
	if s.sessions[sess.id] == sess {
		delete(s.sessions, sess.id)
	}
	s.mu.Unlock()
}

// closeLinger is how long a GET racing the client's close packet is still
// answered with a noop instead of 400.
const closeLinger = time.Second

func (s *Server) linger(sid string) {
	s.mu.Lock()
	s.lingering[sid] = struct{}{}
	s.mu.Unlock()
	time.AfterFunc(closeLinger, func() { s.takeLingering(sid) })
}

func (s *Server) takeLingering(sid string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, ok := s.lingering[sid]
	delete(s.lingering, sid)
	return ok
}

// open creates a session on transport, queues its open packet, starts its
// heartbeat and hands it to the Handler. It fails once Shutdown has begun.
func (s *Server) open(r *http.Request, transport string, ws *websocket.Conn, raw net.Conn) (*Session, bool) {
	sid := newSID()
	sess := newSession(s, sid, transport, r, ws)
	sess.wsRaw = raw
	upgrades := `["websocket"]`
	if transport == TransportWebSocket {
		upgrades = `[]`
	}
	open := make([]byte, 0, 128)
	open = append(open, `{"sid":"`...)
	open = append(open, sid...)
	open = append(open, `","upgrades":`...)
	open = append(open, upgrades...)
	open = append(open, s.handshakeTail...)
	sess.queue = append(sess.queue, eio.Packet{Type: eio.PacketOpen, Data: open})
	sess.mu.Lock()
	sess.startHeartbeatLocked()
	sess.mu.Unlock()

	s.mu.Lock()
	if s.shutdown {
		s.mu.Unlock()
		sess.hbTimer.Stop()
		return nil, false
	}
	s.sessions[sid] = sess
	s.mu.Unlock()

	// Holding recvMu while Open runs keeps OnMessage and OnClose from
	// running before the Receiver is known.
	sess.recvMu.Lock()
	sess.recv = s.handler.Open(sess)
	sess.recvMu.Unlock()
	sess.log.Debug().Str("transport", transport).Str("remote", r.RemoteAddr).Msg("session opened")
	return sess, true
}

func newSID() string {
	var b [15]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails
	return base64.RawURLEncoding.EncodeToString(b[:])
}

func isWebSocketRequest(r *http.Request) bool {
	return headerHasToken(r.Header, "Connection", "upgrade") && headerHasToken(r.Header, "Upgrade", "websocket")
}

func headerHasToken(h http.Header, key, token string) bool {
	for _, v := range h.Values(key) {
		for t := range strings.SplitSeq(v, ",") {
			if strings.EqualFold(strings.TrimSpace(t), token) {
				return true
			}
		}
	}
	return false
}

// writeError answers with the reference server's JSON error body.
func writeError(w http.ResponseWriter, code ErrorCode) {
	status := http.StatusBadRequest
	if code == ErrorForbidden {
		status = http.StatusForbidden
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write([]byte(`{"code":` + strconv.Itoa(int(code)) + `,"message":"` + code.String() + `"}`))
}

func (s *Server) setCORS(w http.ResponseWriter, r *http.Request) {
	c := &s.opts.CORS
	if len(c.Origins) == 0 {
		return
	}
	origin := r.Header.Get("Origin")
	h := w.Header()
	switch {
	case slices.Contains(c.Origins, "*") && !c.Credentials:
		h.Set("Access-Control-Allow-Origin", "*")
	case origin == "":
		return
	case slices.Contains(c.Origins, "*") || slices.Contains(c.Origins, origin):
		h.Set("Access-Control-Allow-Origin", origin)
		h.Add("Vary", "Origin")
	default:
		return
	}
	if c.Credentials {
		h.Set("Access-Control-Allow-Credentials", "true")
	}
}

func (s *Server) preflight(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Access-Control-Allow-Methods", "GET,HEAD,PUT,PATCH,POST,DELETE")
	if rh := r.Header.Get("Access-Control-Request-Headers"); rh != "" {
		h.Set("Access-Control-Allow-Headers", rh)
		h.Add("Vary", "Access-Control-Request-Headers")
	}
	h.Set("Content-Length", "0")
	w.WriteHeader(http.StatusNoContent)
}

// tracker counts goroutines so that Shutdown can wait for them. Unlike a
// sync.WaitGroup it may be added to while someone waits.
type tracker struct {
	mu   sync.Mutex
	n    int
	idle chan struct{}
}

func (t *tracker) add() {
	t.mu.Lock()
	if t.n == 0 {
		t.idle = make(chan struct{})
	}
	t.n++
	t.mu.Unlock()
}

func (t *tracker) done() {
	t.mu.Lock()
	t.n--
	if t.n == 0 {
		close(t.idle)
	}
	t.mu.Unlock()
}

func (t *tracker) wait(ctx context.Context) error {
	t.mu.Lock()
	if t.n == 0 {
		t.mu.Unlock()
		return nil
	}
	idle := t.idle
	t.mu.Unlock()
	select {
	case <-idle:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// goRun runs f in a goroutine the server tracks.
func (s *Server) goRun(f func()) {
	s.goroutines.add()
	go func() {
		defer s.goroutines.done()
		f()
	}()
}
