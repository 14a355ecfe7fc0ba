package engineio

import (
	"net/http"
	"net/url"
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

// Handshake is what the client sent when its session was opened.
type Handshake struct {
	Header     http.Header
	Query      url.Values
	RemoteAddr string
	Time       time.Time
	Secure     bool
	URL        string
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
	// Origins lists allowed origins; "*" allows any. Empty disables CORS headers.
	Origins []string
	// Credentials sets Access-Control-Allow-Credentials (the request's origin
	// is then echoed instead of "*").
	Credentials bool
}

// Options configures a Server. Zero values mean the documented defaults.
type Options struct {
	// Path the server answers on. Default "/engine.io/".
	Path string
	// PingInterval between server pings. Default 25s.
	PingInterval time.Duration
	// PingTimeout is how long to wait for a pong. Default 20s.
	PingTimeout time.Duration
	// MaxPayload is maxHttpBufferSize: the largest POST body or WebSocket
	// message accepted, in bytes. Default 1e6.
	MaxPayload int64
	// UpgradeTimeout bounds the polling→websocket upgrade. Default 10s.
	UpgradeTimeout time.Duration
	// WriteQueueSize bounds each session's queue of outgoing packets; a
	// session whose queue overflows is closed. Default 1024.
	WriteQueueSize int
	// CORS headers for polling requests.
	CORS CORSOptions
	// Logger receives the server's logs. Default: disabled.
	Logger *zerolog.Logger
}
