package engineio

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"
	"github.com/rs/zerolog"

	"github.com/sockwasm/sockwasm/host/internal/track"
	eio "github.com/sockwasm/sockwasm/protocol/engineio"
)

// Defaults applied by New to zero Options fields.
const (
	DefaultPath              = "/engine.io/"
	DefaultPingInterval      = 25 * time.Second
	DefaultPingTimeout       = 20 * time.Second
	DefaultMaxSessions       = 100_000
	DefaultMaxPayload        = 1_000_000
	DefaultUpgradeTimeout    = 10 * time.Second
	DefaultWriteQueueSize    = 1024
	DefaultWriteQueueBytes   = 8 << 20
	DefaultWriteTimeout      = 10 * time.Second
	DefaultReadTimeout       = 30 * time.Second
	DefaultMaxHeaderBytes    = 16 << 10
	DefaultIdleTimeout       = 5 * time.Second
	DefaultReadHeaderTimeout = 10 * time.Second
	// DefaultCompressionThreshold is the smallest polling response body
	// and WebSocket message compressed, the reference server's threshold.
	DefaultCompressionThreshold = 1024
)

// ClientLogBurst bounds the log lines at info level and above that
// sessions write, per second and server; the rest of that second's are
// dropped. Clients cause them, so clients must not be able to flood the
// log.
const ClientLogBurst = 20

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

	// opened, upgrades and closed count sessions (Counters).
	opened, upgrades atomic.Uint64
	closed           sync.Map // CloseReason → *atomic.Uint64
	// traffic counts message packets and their bytes (Counters), spread
	// over shards that sessions take in turn (nextShard).
	traffic   [trafficShards]trafficShard
	nextShard atomic.Uint32

	mu       sync.Mutex
	sessions map[string]*Session
	shutdown bool
	// lingering holds polling sessions the client closed while no GET was
	// pending: one GET that raced the close packet still gets its noop.
	lingering map[string]struct{}
	// closingConns are WebSockets in their close handshake.
	closingConns map[*websocket.Conn]*wsConn

	// wsCompression is the permessage-deflate mode offered to WebSocket
	// clients (Options.PerMessageDeflate).
	wsCompression websocket.CompressionMode

	goroutines track.Group
	// readBuffers holds the buffers WebSocket messages are read into;
	// messages are copied out before they reach the Receiver.
	readBuffers sync.Pool

	// afterLookup, when set (by tests), runs in ServeHTTP between finding
	// a request's session and serving it.
	afterLookup func(sid string)
}

// withDefaults returns o with its zero fields set to the defaults.
func (o Options) withDefaults() Options {
	setDur := func(p *time.Duration, v time.Duration) {
		if *p <= 0 {
			*p = v
		}
	}
	if o.Path == "" {
		o.Path = DefaultPath
	}
	setDur(&o.PingInterval, DefaultPingInterval)
	setDur(&o.PingTimeout, DefaultPingTimeout)
	setDur(&o.UpgradeTimeout, DefaultUpgradeTimeout)
	setDur(&o.WriteTimeout, DefaultWriteTimeout)
	setDur(&o.ReadTimeout, DefaultReadTimeout)
	setDur(&o.IdleTimeout, DefaultIdleTimeout)
	setDur(&o.ReadHeaderTimeout, DefaultReadHeaderTimeout)
	if o.MaxSessions <= 0 {
		o.MaxSessions = DefaultMaxSessions
	}
	if o.MaxPayload <= 0 {
		o.MaxPayload = DefaultMaxPayload
	}
	if o.WriteQueueSize <= 0 {
		o.WriteQueueSize = DefaultWriteQueueSize
	}
	if o.WriteQueueBytes <= 0 {
		o.WriteQueueBytes = DefaultWriteQueueBytes
	}
	if o.MaxHeaderBytes <= 0 {
		o.MaxHeaderBytes = DefaultMaxHeaderBytes
	}
	if o.HTTPCompressionThreshold <= 0 {
		o.HTTPCompressionThreshold = DefaultCompressionThreshold
	}
	if o.PerMessageDeflateThreshold <= 0 {
		o.PerMessageDeflateThreshold = DefaultCompressionThreshold
	}
	return o
}

// ConfigureHTTPServer sets the fields of hs that back opts' limits and that
// only net/http can enforce: IdleTimeout, ReadHeaderTimeout and
// MaxHeaderBytes (a backstop: ServeHTTP answers 431 itself, net/http only
// past MaxHeaderBytes + 4 KiB). Zero fields of opts take the defaults.
// hs.ReadTimeout and hs.WriteTimeout are left alone and should stay zero:
// they would cut long polls and WebSockets, which get deadlines of their
// own (Options.ReadTimeout, Options.WriteTimeout).
func ConfigureHTTPServer(hs *http.Server, opts Options) {
	opts = opts.withDefaults()
	hs.IdleTimeout = opts.IdleTimeout
	hs.ReadHeaderTimeout = opts.ReadHeaderTimeout
	hs.MaxHeaderBytes = opts.MaxHeaderBytes
}

// New returns a server that hands sessions to h. Zero Options fields take
// the documented defaults.
func New(opts Options, h Handler) *Server {
	opts = opts.withDefaults()
	log := zerolog.Nop()
	if opts.Logger != nil {
		// What sessions log at info and above is what clients cause
		// (malformed packets, slow reads, overlapping requests): sampled,
		// so that clients cannot flood the log.
		b := &zerolog.BurstSampler{Burst: ClientLogBurst, Period: time.Second}
		log = opts.Logger.Sample(zerolog.LevelSampler{InfoSampler: b, WarnSampler: b, ErrorSampler: b})
	}
	return &Server{
		opts:    opts,
		handler: h,
		log:     log,
		handshakeTail: `,"pingInterval":` + strconv.FormatInt(opts.PingInterval.Milliseconds(), 10) +
			`,"pingTimeout":` + strconv.FormatInt(opts.PingTimeout.Milliseconds(), 10) +
			`,"maxPayload":` + strconv.FormatInt(opts.MaxPayload, 10) + `}`,
		sessions:      make(map[string]*Session),
		lingering:     make(map[string]struct{}),
		closingConns:  make(map[*websocket.Conn]*wsConn),
		wsCompression: wsCompression(opts.PerMessageDeflate),
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
	// Every response is written under WriteTimeout; a long poll and a POST
	// answer set it again when they write. net/http clears it after the
	// response, and a hijacked WebSocket clears it once the 101 is out.
	_ = http.NewResponseController(w).SetWriteDeadline(time.Now().Add(s.opts.WriteTimeout))
	if n := headerBytes(r); n > s.opts.MaxHeaderBytes {
		s.log.Debug().Int("bytes", n).Int("limit", s.opts.MaxHeaderBytes).Str("remote", r.RemoteAddr).
			Msg("request headers too large")
		w.Header().Set("Connection", "close")
		w.WriteHeader(http.StatusRequestHeaderFieldsTooLarge)
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
		if s.afterLookup != nil {
			s.afterLookup(sid)
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
	sess, err := s.open(r, TransportPolling, nil, nil)
	if err == errFull {
		s.logFull(r)
		writeFull(w)
		return
	}
	if err != nil {
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
	if err := s.goroutines.Wait(ctx); err != nil {
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
	conns := make([]*wsConn, 0, len(s.closingConns))
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

// closeWebSocket closes c with a close handshake and status code, which
// Shutdown may cut short by closing raw. The close frame is written under
// WriteTimeout; coder/websocket waits at most 5s for the peer's.
func (s *Server) closeWebSocket(c *websocket.Conn, raw *wsConn, code websocket.StatusCode, reason string) {
	s.mu.Lock()
	s.closingConns[c] = raw
	s.mu.Unlock()
	if raw != nil {
		_ = raw.SetWriteDeadline(time.Now().Add(s.opts.WriteTimeout))
	}
	if raw != nil {
		// The close handshake reads the connection's buffer, as the
		// session's read loop may at the same time (wsConn.drained).
		raw.readMu.Lock()
		defer raw.readMu.Unlock()
	}
	_ = c.Close(code, reason)
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

// Why open refuses a session.
var (
	errShutdown = errors.New("engineio: shutting down")
	errFull     = errors.New("engineio: max_sessions reached")
)

// admit says whether a new session would be accepted now; open decides.
func (s *Server) admit() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.admitLocked()
}

func (s *Server) admitLocked() error {
	switch {
	case s.shutdown:
		return errShutdown
	case len(s.sessions) >= s.opts.MaxSessions:
		return errFull
	}
	return nil
}

// logFull logs a handshake refused for capacity (sampled: clients cause it).
func (s *Server) logFull(r *http.Request) {
	s.log.Warn().Int("limit", s.opts.MaxSessions).Str("remote", r.RemoteAddr).Msg("handshake refused: max_sessions reached")
}

// writeFull answers a handshake refused for capacity.
func writeFull(w http.ResponseWriter) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Retry-After", "1")
	w.WriteHeader(http.StatusServiceUnavailable)
	_, _ = w.Write([]byte(`{"code":3,"message":"Server full"}`))
}

// open creates a session on transport, queues its open packet, starts its
// heartbeat and hands it to the Handler. It fails once Shutdown has begun
// (errShutdown) and with MaxSessions open (errFull).
func (s *Server) open(r *http.Request, transport string, ws *websocket.Conn, raw *wsConn) (*Session, error) {
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
	sess.queueBytes = int64(eio.TextLen(sess.queue[0]))
	sess.mu.Lock()
	sess.startHeartbeatLocked()
	sess.mu.Unlock()

	s.mu.Lock()
	if err := s.admitLocked(); err != nil {
		s.mu.Unlock()
		sess.hbTimer.Stop()
		return nil, err
	}
	s.sessions[sid] = sess
	s.mu.Unlock()

	// Holding recvMu while Open runs keeps OnMessage and OnClose from
	// running before the Receiver is known.
	sess.recvMu.Lock()
	sess.recv = s.handler.Open(sess)
	sess.recvMu.Unlock()
	s.opened.Add(1)
	sess.log.Debug().Str("transport", transport).Str("remote", r.RemoteAddr).Msg("session opened")
	return sess, nil
}

// Counters are the server's counts of sessions and messages since it
// started.
type Counters struct {
	// Opened counts the sessions opened, Upgrades those moved from
	// polling to WebSocket.
	Opened, Upgrades uint64
	// Closed counts the sessions closed, by reason (ReasonWriteQueueFull:
	// a client that did not read its messages).
	Closed map[CloseReason]uint64
	// PacketsIn counts the message packets received from clients (those
	// handed to a Receiver), BytesIn their data; PacketsOut counts the
	// message packets handed to a transport to write (a WebSocket's writer
	// or a poll response), BytesOut their data. Data is what a Message
	// holds: text or binary, without the packet type, the payload
	// separators or the base64 of binary data on polling. Pings, pongs,
	// noops and the other control packets are not counted.
	PacketsIn, BytesIn, PacketsOut, BytesOut uint64
}

// Counters returns the server's counts.
func (s *Server) Counters() Counters {
	c := Counters{Opened: s.opened.Load(), Upgrades: s.upgrades.Load(), Closed: map[CloseReason]uint64{}}
	s.closed.Range(func(k, v any) bool {
		c.Closed[k.(CloseReason)] = v.(*atomic.Uint64).Load()
		return true
	})
	for i := range s.traffic {
		t := &s.traffic[i]
		c.PacketsIn += t.packetsIn.Load()
		c.BytesIn += t.bytesIn.Load()
		c.PacketsOut += t.packetsOut.Load()
		c.BytesOut += t.bytesOut.Load()
	}
	return c
}

// trafficShards is how many shards the message counters are spread over:
// each session counts into one, so that sessions served by different
// cores rarely write the same cache line.
const trafficShards = 16

// trafficShard is one shard of the message counters, a cache line (and
// its neighbour, which CPUs may fetch together) of its own.
type trafficShard struct {
	packetsIn, bytesIn, packetsOut, bytesOut atomic.Uint64
	_                                        [128 - 4*8]byte
}

// shard returns the counters a new session takes.
func (s *Server) shard() *trafficShard {
	return &s.traffic[s.nextShard.Add(1)%trafficShards]
}

// countIn counts one message packet received with n bytes of data.
func (t *trafficShard) countIn(n int) {
	t.packetsIn.Add(1)
	t.bytesIn.Add(uint64(n))
}

// countOut counts packets message packets with n bytes of data handed to
// a transport.
func (t *trafficShard) countOut(packets, n int) {
	if packets > 0 {
		t.packetsOut.Add(uint64(packets))
		t.bytesOut.Add(uint64(n))
	}
}

// messages returns how many of ps are message packets and their data's
// length.
func messages(ps []eio.Packet) (packets, n int) {
	for i := range ps {
		if ps[i].Type == eio.PacketMessage {
			packets++
			n += len(ps[i].Data)
		}
	}
	return packets, n
}

// countClose counts a session closed for reason (one of the Reason
// constants: a bounded set).
func (s *Server) countClose(reason CloseReason) {
	v, ok := s.closed.Load(reason)
	if !ok {
		v, _ = s.closed.LoadOrStore(reason, new(atomic.Uint64))
	}
	v.(*atomic.Uint64).Add(1)
}

func newSID() string {
	var b [15]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// headerBytes is the size of what a request made the server parse and a
// session may keep: its target, Host, and every header name and value.
func headerBytes(r *http.Request) int {
	n := len(r.RequestURI) + len(r.Host)
	for k, vs := range r.Header {
		for _, v := range vs {
			n += len(k) + len(v)
		}
	}
	return n
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

// setCORS sets the Access-Control-Allow-* headers of a polling response. An
// origin listed by name is echoed back, with credentials when configured;
// "*" only ever gives the literal "*", without credentials, so that no
// site gets credentialed access through a wildcard. Neither echoes "null"
// unless it is listed by name.
func (s *Server) setCORS(w http.ResponseWriter, r *http.Request) {
	c := &s.opts.CORS
	if len(c.Origins) == 0 {
		return
	}
	h := w.Header()
	anyOrigin, named := false, false
	for _, o := range c.Origins {
		if o == "*" {
			anyOrigin = true
		} else {
			named = true
		}
	}
	if named {
		// The answer depends on Origin: caches must keep one per origin.
		h.Add("Vary", "Origin")
	}
	origin := r.Header.Get("Origin")
	switch {
	case origin != "" && origin != "*" && named && slices.Contains(c.Origins, origin):
		h.Set("Access-Control-Allow-Origin", origin)
		if c.Credentials {
			h.Set("Access-Control-Allow-Credentials", "true")
		}
	case anyOrigin:
		h.Set("Access-Control-Allow-Origin", "*")
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

// goRun runs f in a goroutine the server tracks.
func (s *Server) goRun(f func()) { s.goroutines.Go(f) }
