package socketio

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rs/zerolog"

	"github.com/sockwasm/sockwasm/host/engineio"
	sp "github.com/sockwasm/sockwasm/protocol/socketio"
)

// Defaults of Options.
const (
	DefaultConnectTimeout = 45 * time.Second
	DefaultMaxPendingAcks = 1024
)

// More errors returned by Socket and Namespace methods.
var (
	// ErrInvalidArgs is returned when args is not a JSON array.
	ErrInvalidArgs = errors.New("socketio: args is not a valid JSON array")
	// ErrTooManyAcks is returned by EmitWithAck when MaxPendingAcks
	// server→client acks are already waiting.
	ErrTooManyAcks = errors.New("socketio: too many pending acks")
)

// Packet is an encoded Socket.IO packet ready to be written: the text
// frame and its binary attachments. Encoded once, written to N clients.
type Packet struct {
	Text        []byte
	Attachments [][]byte
}

// Messages returns the Engine.IO messages of p: the text frame, then each
// attachment as a binary message.
func (p *Packet) Messages() []engineio.Message {
	msgs := make([]engineio.Message, 1+len(p.Attachments))
	msgs[0] = engineio.Message{Data: p.Text}
	for i, a := range p.Attachments {
		msgs[i+1] = engineio.Message{Data: a, Binary: true}
	}
	return msgs
}

// Server is the Socket.IO server; it is the engineio.Handler of an engine.
type Server struct {
	opts   Options
	log    zerolog.Logger
	limits sp.Limits

	// resolver, when set, serves namespaces that are not registered.
	resolver atomic.Pointer[Resolver]

	mu       sync.RWMutex
	nsps     map[string]*Namespace
	clients  map[*client]struct{}
	shutdown bool
	done     chan struct{} // closed once shut down and no client is left
	closeAd  sync.Once
}

// New returns a server with no namespaces.
func New(opts Options) *Server {
	if opts.ConnectTimeout <= 0 {
		opts.ConnectTimeout = DefaultConnectTimeout
	}
	if opts.MaxAttachments <= 0 {
		opts.MaxAttachments = sp.DefaultMaxAttachments
	}
	if opts.MaxDepth <= 0 {
		opts.MaxDepth = sp.DefaultMaxDepth
	}
	if opts.MaxPendingAcks <= 0 {
		opts.MaxPendingAcks = DefaultMaxPendingAcks
	}
	if opts.NewAdapter == nil {
		opts.NewAdapter = NewMemoryAdapter
	}
	log := zerolog.Nop()
	if opts.Logger != nil {
		log = *opts.Logger
	}
	return &Server{
		opts:    opts,
		log:     log,
		limits:  sp.Limits{MaxAttachments: opts.MaxAttachments, MaxDepth: opts.MaxDepth},
		nsps:    make(map[string]*Namespace),
		clients: make(map[*client]struct{}),
		done:    make(chan struct{}),
	}
}

// Open implements engineio.Handler: it makes the session a Socket.IO client.
func (s *Server) Open(es *engineio.Session) engineio.Receiver {
	c := &client{
		srv:     s,
		es:      es,
		dec:     sp.Decoder{Limits: s.limits},
		sockets: make(map[string]*Socket),
		log:     s.log.With().Str("sid", es.ID()).Logger(),
	}
	s.mu.Lock()
	if s.shutdown {
		s.mu.Unlock()
		c.broken = true
		es.Close(engineio.ReasonServerShutdown)
		return c
	}
	s.clients[c] = struct{}{}
	c.tracked = true
	s.mu.Unlock()
	c.timer = time.AfterFunc(s.opts.ConnectTimeout, c.connectTimeout)
	return c
}

func (s *Server) removeClient(c *client) {
	if !c.tracked {
		return
	}
	s.mu.Lock()
	delete(s.clients, c)
	if s.shutdown && len(s.clients) == 0 {
		select {
		case <-s.done:
		default:
			close(s.done)
		}
	}
	s.mu.Unlock()
}

// Handle registers namespace name (e.g. "/chat") served by h and returns
// it. A name without a leading slash gets one. Registering a name again
// swaps its handler atomically: sockets stay connected and their next
// calls go to h.
func (s *Server) Handle(name string, h NamespaceHandler) *Namespace {
	if name == "" || name[0] != '/' {
		name = "/" + name
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if n := s.nsps[name]; n != nil {
		n.h.Store(&h)
		return n
	}
	n := &Namespace{name: name, srv: s, sockets: make(map[string]*Socket)}
	n.h.Store(&h)
	n.adapter = s.opts.NewAdapter(n)
	s.nsps[name] = n
	return n
}

// Resolver decides whether a namespace that is not registered exists: it
// returns the handler that serves name, or nil to refuse it. It is the
// equivalent of the reference server's io.of(/regex/) (dynamic
// namespaces). It must be safe for concurrent use and must not block.
type Resolver func(name string) NamespaceHandler

// SetResolver installs r, consulted when a client connects to a namespace
// that is not registered. A non-nil handler creates that namespace, with
// its own rooms, as Handle would; it then stays registered, like a
// reference server's child namespace. nil removes the resolver; namespaces
// it created stay.
func (s *Server) SetResolver(r Resolver) {
	if r == nil {
		s.resolver.Store(nil)
		return
	}
	s.resolver.Store(&r)
}

// resolve returns the registered namespace name, else creates it with the
// resolver's handler, else returns nil.
func (s *Server) resolve(name string) *Namespace {
	if n := s.Of(name); n != nil {
		return n
	}
	r := s.resolver.Load()
	if r == nil {
		return nil
	}
	h := (*r)(name)
	if h == nil {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if n := s.nsps[name]; n != nil { // created concurrently: keep the first
		return n
	}
	n := &Namespace{name: name, srv: s, sockets: make(map[string]*Socket)}
	n.h.Store(&h)
	n.adapter = s.opts.NewAdapter(n)
	s.nsps[name] = n
	return n
}

// Of returns a registered namespace, or nil.
func (s *Server) Of(name string) *Namespace {
	s.mu.RLock()
	n := s.nsps[name]
	s.mu.RUnlock()
	return n
}

// Shutdown disconnects every socket with ReasonServerShuttingDown: it
// closes each Engine.IO session with engineio.ReasonServerShutdown (queues
// are flushed) and waits until every client is gone or ctx is done. New
// sessions are refused from the first call on. It is idempotent and may
// run before or after the engine's own Shutdown. Once every client is gone
// the namespaces' adapters are closed.
func (s *Server) Shutdown(ctx context.Context) error {
	s.mu.Lock()
	if !s.shutdown {
		s.shutdown = true
		if len(s.clients) == 0 {
			close(s.done)
		}
	}
	clients := make([]*client, 0, len(s.clients))
	for c := range s.clients {
		clients = append(clients, c)
	}
	s.mu.Unlock()
	for _, c := range clients {
		c.es.Close(engineio.ReasonServerShutdown)
	}
	select {
	case <-s.done:
	case <-ctx.Done():
		return ctx.Err()
	}
	var err error
	s.closeAd.Do(func() {
		s.mu.RLock()
		defer s.mu.RUnlock()
		for _, n := range s.nsps {
			err = errors.Join(err, n.adapter.Close())
		}
	})
	return err
}

// reasonOf maps an engine close reason to a socket disconnect reason.
func reasonOf(r engineio.CloseReason) Reason {
	switch r {
	case engineio.ReasonTransportClose:
		return ReasonTransportClose
	case engineio.ReasonTransportError, engineio.ReasonWriteQueueFull, engineio.ReasonPayloadTooLarge:
		return ReasonTransportError
	case engineio.ReasonPingTimeout:
		return ReasonPingTimeout
	case engineio.ReasonParseError:
		return ReasonParseError
	case engineio.ReasonForcedClose:
		return ReasonForcedClose
	case engineio.ReasonServerShutdown:
		return ReasonServerShuttingDown
	case engineio.ReasonForcedServerClose:
		return ReasonForcedServerClose
	}
	return Reason(r)
}

// handlerPtr lets a Namespace swap its handler atomically.
type handlerPtr = atomic.Pointer[NamespaceHandler]
