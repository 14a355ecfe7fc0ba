package engineio

import (
	"bytes"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/rs/zerolog"
)

// Transport names as they appear in the `transport` query parameter.
const (
	TransportPolling   = "polling"
	TransportWebSocket = "websocket"
)

// CloseReason says why a session ended. Its string is the one the reference
// server (Node engine.io) reports, so upper layers can hand it on unchanged.
type CloseReason string

// Close reasons, with the reference server's strings.
const (
	ReasonTransportClose    CloseReason = "transport close"
	ReasonTransportError    CloseReason = "transport error"
	ReasonPingTimeout       CloseReason = "ping timeout"
	ReasonParseError        CloseReason = "parse error"
	ReasonForcedClose       CloseReason = "forced close"
	ReasonServerShutdown    CloseReason = "server shutting down"
	ReasonWriteQueueFull    CloseReason = "write queue full"
	ReasonPayloadTooLarge   CloseReason = "payload too large"
	ReasonForcedServerClose CloseReason = "forced server close"
)

// Message is one Engine.IO message packet: text unless Binary is set.
// Data must not be modified once handed to Session.Send.
type Message struct {
	Data   []byte
	Binary bool
}

// Handshake is what the client sent when its session was opened. It keeps
// the request's headers and target as compactly as they came (at most
// MaxHeaderBytes), and parses them when asked: a session holds no more
// than its client sent.
type Handshake struct {
	// RemoteAddr is the client's address, as http.Request.RemoteAddr.
	RemoteAddr string
	// Time is when the session opened.
	Time time.Time
	// Secure tells whether the request came over TLS.
	Secure bool
	// URL is the request target: path and query.
	URL string

	header []byte // "Name:value\n" for each value, names canonical
}

func newHandshake(r *http.Request) *Handshake {
	// net/http moves the Host header out of r.Header; it goes first, as
	// it came.
	n := len("Host:\n") + len(r.Host)
	for k, vs := range r.Header {
		for _, v := range vs {
			n += len(k) + len(v) + 2
		}
	}
	h := make([]byte, 0, n)
	if r.Host != "" {
		h = append(append(append(h, "Host:"...), r.Host...), '\n')
	}
	for k, vs := range r.Header {
		for _, v := range vs {
			h = append(append(append(append(h, k...), ':'), v...), '\n')
		}
	}
	return &Handshake{
		RemoteAddr: r.RemoteAddr,
		Time:       time.Now(),
		Secure:     r.TLS != nil,
		URL:        r.URL.RequestURI(),
		header:     h,
	}
}

// Header returns the request's headers, parsed anew on each call. Values
// cannot hold a newline, nor names a colon: net/http refuses such
// requests.
func (h *Handshake) Header() http.Header {
	out := make(http.Header)
	rest := h.header
	for len(rest) > 0 {
		line, after, _ := bytes.Cut(rest, []byte{'\n'})
		rest = after
		k, v, _ := bytes.Cut(line, []byte{':'})
		out[string(k)] = append(out[string(k)], string(v))
	}
	return out
}

// Query returns the request's query parameters, parsed anew on each
// call (malformed pairs are dropped, as by url.URL.Query).
func (h *Handshake) Query() url.Values {
	_, raw, _ := strings.Cut(h.URL, "?")
	v, _ := url.ParseQuery(raw)
	return v
}

// Handler is told about new sessions. Open runs once per session, after the
// open packet has been queued, and returns the Receiver of the session's
// messages.
type Handler interface {
	Open(s *Session) Receiver
}

// Receiver gets one session's messages, in arrival order and never
// concurrently. The receiver owns data (it may keep it). OnClose is called
// exactly once, after the last OnMessage.
type Receiver interface {
	OnMessage(data []byte, binary bool)
	OnClose(reason CloseReason)
}

// CORSOptions configures the Access-Control-* headers on polling responses.
type CORSOptions struct {
	// Origins lists allowed origins. "*" allows any origin without
	// credentials: the literal "*" is sent and never
	// Access-Control-Allow-Credentials. An origin listed by name is echoed
	// back (with Vary: Origin), and with Credentials set it may make
	// credentialed requests. Empty disables CORS headers.
	Origins []string
	// Credentials sets Access-Control-Allow-Credentials for the origins
	// listed by name; it never applies through "*", or any site could make
	// requests with the user's cookies.
	Credentials bool
}

// Options configures a Server. Zero values mean the documented defaults.
//
// Every resource a client can make the server hold has a limit here:
// memory (MaxSessions, MaxPayload, WriteQueueSize, WriteQueueBytes,
// MaxHeaderBytes; MaxPayload also bounds a compressed message inflated),
// time and goroutines (PingInterval + PingTimeout for a silent client,
// UpgradeTimeout, ReadTimeout, WriteTimeout, and IdleTimeout and
// ReadHeaderTimeout through ConfigureHTTPServer).
type Options struct {
	// Path the server answers on. Default "/engine.io/".
	Path string
	// PingInterval between server pings. Default 25s.
	PingInterval time.Duration
	// PingTimeout is how long to wait for a pong. Default 20s. A client
	// that stops polling or reading is gone within PingInterval +
	// PingTimeout: a pong only counts once its ping has left the queue.
	PingTimeout time.Duration
	// MaxSessions bounds the sessions open at once. A handshake beyond it
	// is answered 503 Service Unavailable (polling), or its WebSocket is
	// closed with 1013 Try Again Later; clients retry with their
	// reconnection backoff. Default 100 000.
	MaxSessions int
	// MaxPayload is maxHttpBufferSize: the largest POST body or WebSocket
	// message accepted, in bytes. Default 1e6.
	MaxPayload int64
	// UpgradeTimeout bounds the polling→websocket upgrade. Default 10s.
	UpgradeTimeout time.Duration
	// WriteQueueSize bounds each session's outgoing packets, queued or
	// taken by a transport and not yet written; a session whose queue
	// overflows is closed with ReasonWriteQueueFull. Default 1024.
	WriteQueueSize int
	// WriteQueueBytes bounds the bytes each session holds for its client:
	// packets queued plus those taken by the WebSocket writer or by a poll
	// response and not yet written, each counted by the length of its text
	// encoding. A Send that would go over it closes the session at once
	// with ReasonWriteQueueFull, so a client that stops reading costs at
	// most this much memory. It should be at least MaxPayload. Default
	// 8 MiB.
	WriteQueueBytes int64
	// WriteTimeout bounds every write to a client: each batch of WebSocket
	// messages, each HTTP response (a poll's answer from when it is
	// written), and the flush of a graceful close. A write that times out
	// closes the session with ReasonTransportError; a graceful close that
	// has not finished by then drops the transport. Default 10s.
	WriteTimeout time.Duration
	// ReadTimeout bounds reading a polling POST body. A body is also cut
	// short when its session closes. Default 30s.
	ReadTimeout time.Duration
	// MaxHeaderBytes bounds a request's target and headers: the length of
	// the request URI and Host plus every header name and value. Larger
	// requests are answered 431 Request Header Fields Too Large, like the
	// reference server's 16 KB limit. Default 16 KiB.
	MaxHeaderBytes int
	// IdleTimeout is how long an idle keep-alive connection stays open,
	// for http.Server.IdleTimeout (see ConfigureHTTPServer). Default 5s,
	// Node's keepAliveTimeout.
	IdleTimeout time.Duration
	// ReadHeaderTimeout bounds reading a request's headers, for
	// http.Server.ReadHeaderTimeout (see ConfigureHTTPServer). Default 10s.
	ReadHeaderTimeout time.Duration
	// DisableHTTPCompression turns off the compression of polling
	// responses, which is on by default as in the reference server
	// (httpCompression): a response body of at least
	// HTTPCompressionThreshold bytes is sent with gzip or deflate, as the
	// request's Accept-Encoding prefers (see compress.go).
	DisableHTTPCompression bool
	// HTTPCompressionThreshold is the smallest polling response body
	// compressed, in bytes. Default 1024, the reference server's.
	HTTPCompressionThreshold int
	// PerMessageDeflate negotiates the WebSocket permessage-deflate
	// extension (RFC 7692) with clients that offer it, as the reference
	// server's perMessageDeflate option; off by default, as there.
	// The server then compresses the messages it sends of at least
	// PerMessageDeflateThreshold bytes, and inflates those the client
	// compressed (by its own threshold: 1024 for engine.io-client in
	// Node). Each message is compressed and decompressed
	// on its own (no context takeover), so that an idle connection holds
	// no compressor: a connection that has received a compressed message
	// keeps a 4 KiB read buffer for the rest of its life, nothing else.
	// A compressed message counts against MaxPayload by its decompressed
	// size; a larger one closes the connection with status 1009.
	PerMessageDeflate bool
	// PerMessageDeflateThreshold is the smallest WebSocket message the
	// server compresses, in bytes. Default 1024, the reference server's.
	PerMessageDeflateThreshold int
	// CORS headers for polling requests.
	CORS CORSOptions
	// Logger receives the server's logs. Default: disabled.
	Logger *zerolog.Logger
}
