package engineio

// STUB: replaced by the real implementation. Signatures are the contract
// other packages compile against; bodies are placeholders.

import (
	"context"
	"errors"
	"net/http"
)

// ErrSessionClosed is returned by Send on a closed session.
var ErrSessionClosed = errors.New("engineio: session closed")

// Session is one Engine.IO session.
type Session struct{}

// ID returns the session id (the sid).
func (s *Session) ID() string { panic("stub") }

// Transport returns the current transport name.
func (s *Session) Transport() string { panic("stub") }

// Handshake returns what the client sent when the session opened.
func (s *Session) Handshake() *Handshake { panic("stub") }

// Send queues messages atomically (in order, contiguous) and never blocks.
// On queue overflow the session is closed and an error returned.
func (s *Session) Send(msgs ...Message) error { panic("stub") }

// Close flushes what is queued, then closes the transport. Idempotent.
func (s *Session) Close(reason CloseReason) { panic("stub") }

// Server is the Engine.IO server, an http.Handler.
type Server struct{}

// New returns a server that hands sessions to h.
func New(opts Options, h Handler) *Server { panic("stub") }

// ServeHTTP serves the Engine.IO endpoint.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { panic("stub") }

// Shutdown closes every session with ReasonServerShutdown, flushing queues,
// and waits for them or for ctx.
func (s *Server) Shutdown(ctx context.Context) error { panic("stub") }

// Len returns the number of open sessions.
func (s *Server) Len() int { panic("stub") }
