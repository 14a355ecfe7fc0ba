package socketio

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rs/zerolog"

	"github.com/sockwasm/sockwasm/host/engineio"
	"github.com/sockwasm/sockwasm/host/internal/sidlog"
	"github.com/sockwasm/sockwasm/host/internal/track"
	sp "github.com/sockwasm/sockwasm/protocol/socketio"
)

// ClientLogBurst bounds the warnings clients cause (protocol errors), per
// second and server; the rest of that second's are dropped.
const ClientLogBurst = 20

// Defaults of Options.
const (
	DefaultConnectTimeout       = 45 * time.Second
	DefaultMaxPendingAcks       = 1024
	DefaultMaxRoomsPerSocket    = 256
	DefaultMaxRoomName          = 256
	DefaultMaxNamespaceName     = 256
	DefaultMaxDynamicNamespaces = 10_000
	DefaultMaxSocketsPerSession = 256
	DefaultMaxAuthBytes         = 1 << 20
	DefaultMaxBroadcastAckBytes = 8 << 20
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
// frame and its binary attachments (the JSON parser), or one binary
// message (the msgpack parser). Encoded once, written to N clients.
type Packet struct {
	// Text is the encoded packet: the text message, header included, or
	// when Binary the whole msgpack message.
	Text []byte
	// Binary reports that Text is a binary message that holds the
	// attachments inline (Options.Parser ParserMsgpack).
	Binary bool
	// Attachments are the binary attachments: sent after Text unless
	// Binary, where Text holds them already.
	Attachments [][]byte
	// Name and Args are the event the packet carries (Args a JSON array
	// whose placeholders refer to Attachments), for adapters that pass it
	// to other servers in a format of their own.
	Name string
	Args []byte
}

// Messages returns the Engine.IO messages of p: the text frame, then each
// attachment as a binary message; or, when Binary, the one binary message.
func (p *Packet) Messages() []engineio.Message {
	if p.Binary {
		return []engineio.Message{{Data: p.Text, Binary: true}}
	}
	msgs := make([]engineio.Message, 1+len(p.Attachments))
	msgs[0] = engineio.Message{Data: p.Text}
	for i, a := range p.Attachments {
		msgs[i+1] = engineio.Message{Data: a, Binary: true}
	}
	return msgs
}

// Server is the Socket.IO server; it is the engineio.Handler of an engine.
type Server struct {
	opts Options
	log  zerolog.Logger
	// clientLog is log sampled: warnings a client causes (protocol
	// errors) are bounded in rate, whatever clients do.
	clientLog zerolog.Logger
	limits    sp.Limits

	// resolver, when set, serves namespaces that are not registered.
	resolver atomic.Pointer[Resolver]

	// observer, when set, hears of sockets, rooms and events (SetObserver).
	observer atomic.Pointer[Observer]

	// work runs the clients' drainer goroutines (client.call).
	work track.Group

	// Counts behind Stats.
	broadcasts, deliveries, dropped, acksTimedOut atomic.Uint64
	acksPending                                   atomic.Int64

	mu       sync.RWMutex
	nsps     map[string]*Namespace
	dynamic  int // namespaces in nsps made by the resolver
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
	if opts.MaxRoomsPerSocket <= 0 {
		opts.MaxRoomsPerSocket = DefaultMaxRoomsPerSocket
	}
	if opts.MaxRoomName <= 0 {
		opts.MaxRoomName = DefaultMaxRoomName
	}
	if opts.MaxNamespaceName <= 0 {
		opts.MaxNamespaceName = DefaultMaxNamespaceName
	}
	if opts.MaxDynamicNamespaces <= 0 {
		opts.MaxDynamicNamespaces = DefaultMaxDynamicNamespaces
	}
	if opts.MaxSocketsPerSession <= 0 {
		opts.MaxSocketsPerSession = DefaultMaxSocketsPerSession
	}
	if opts.MaxBroadcastAckBytes <= 0 {
		opts.MaxBroadcastAckBytes = DefaultMaxBroadcastAckBytes
	}
	if opts.MaxAuthBytes <= 0 {
		opts.MaxAuthBytes = DefaultMaxAuthBytes
	}
	if opts.NewAdapter == nil {
		opts.NewAdapter = NewMemoryAdapter
	}
	log := zerolog.Nop()
	if opts.Logger != nil {
		log = *opts.Logger
	}
	return &Server{
		opts:      opts,
		log:       log,
		clientLog: log.Sample(&zerolog.BurstSampler{Burst: ClientLogBurst, Period: time.Second}),
		limits:    sp.Limits{MaxAttachments: opts.MaxAttachments, MaxDepth: opts.MaxDepth},
		nsps:      make(map[string]*Namespace),
		clients:   make(map[*client]struct{}),
		done:      make(chan struct{}),
	}
}

// Open implements engineio.Handler: it makes the session a Socket.IO client.
func (s *Server) Open(es *engineio.Session) engineio.Receiver {
	c := &client{
		srv:     s,
		es:      es,
		dec:     sp.Decoder{Limits: s.limits},
		sockets: make(map[string]*Socket),
		log:     sidlog.New(&s.log, es.ID()),
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
// its own rooms, as Handle would, unless Options.MaxDynamicNamespaces of
// them exist already. Unless Options.KeepEmptyDynamicNamespaces is set, it
// is removed again when its last socket leaves (the reference server's
// cleanupEmptyChildNamespaces). nil removes the resolver; namespaces it
// created stay until they empty.
func (s *Server) SetResolver(r Resolver) {
	if r == nil {
		s.resolver.Store(nil)
		return
	}
	s.resolver.Store(&r)
}

// errNamespaceLimit refuses a CONNECT that would create a dynamic
// namespace beyond Options.MaxDynamicNamespaces.
var errNamespaceLimit = &ConnectError{Message: "Too many namespaces"}

var errInvalidNamespace = &ConnectError{Message: "Invalid namespace"}

var (
	errSocketLimit = &ConnectError{Message: "Too many sockets on this connection"}
	errAuthLimit   = &ConnectError{Message: "Auth payload too large"}
)

// resolve returns the registered namespace name, else creates it with the
// resolver's handler; else it returns the CONNECT_ERROR that refuses it.
func (s *Server) resolve(name string) (*Namespace, *ConnectError) {
	if len(name) > s.opts.MaxNamespaceName {
		return nil, errInvalidNamespace
	}
	if n := s.Of(name); n != nil {
		return n, nil
	}
	r := s.resolver.Load()
	if r == nil {
		return nil, errInvalidNamespace
	}
	h := (*r)(name)
	if h == nil {
		return nil, errInvalidNamespace
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if n := s.nsps[name]; n != nil { // created concurrently: keep the first
		return n, nil
	}
	if s.dynamic >= s.opts.MaxDynamicNamespaces {
		s.clientLog.Warn().Int("limit", s.opts.MaxDynamicNamespaces).Str("nsp", truncate(name, 64)).Msg("dynamic namespace refused: limit reached")
		return nil, errNamespaceLimit
	}
	n := &Namespace{name: name, srv: s, sockets: make(map[string]*Socket), dynamic: true}
	n.h.Store(&h)
	n.adapter = s.opts.NewAdapter(n)
	s.nsps[name] = n
	s.dynamic++
	return n, nil
}

// removeIfEmpty removes dynamic namespace n once it has no socket, unless
// Options.KeepEmptyDynamicNamespaces; its adapter is closed.
func (s *Server) removeIfEmpty(n *Namespace) {
	if !n.dynamic || s.opts.KeepEmptyDynamicNamespaces {
		return
	}
	s.mu.Lock()
	n.mu.Lock()
	gone := len(n.sockets) == 0 && !n.removed && s.nsps[n.name] == n
	if gone {
		n.removed = true
		delete(s.nsps, n.name)
		s.dynamic--
	}
	n.mu.Unlock()
	s.mu.Unlock()
	if gone {
		if err := n.adapter.Close(); err != nil {
			s.log.Warn().Err(err).Str("nsp", n.name).Msg("closing the adapter of an empty namespace")
		}
		s.log.Debug().Str("nsp", n.name).Msg("empty dynamic namespace removed")
	}
}

// truncate shortens s to at most n bytes for a log line.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
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
	// Calls posted to clients that have left (late ack timeouts) finish.
	if err := s.work.Wait(ctx); err != nil {
		return err
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

// Namespaces returns the registered namespaces (dynamic ones included),
// in no particular order.
func (s *Server) Namespaces() []*Namespace {
	s.mu.RLock()
	defer s.mu.RUnlock()
	out := make([]*Namespace, 0, len(s.nsps))
	for _, n := range s.nsps {
		out = append(out, n)
	}
	return out
}

// Stats are the server's counts of broadcasts and acks since it started,
// and the acks awaiting an answer now.
type Stats struct {
	// Broadcasts counts the broadcasts started on this server
	// (Namespace.Broadcast and the broadcasts with acks), whatever they
	// selected; not those other servers of a cluster started.
	Broadcasts uint64
	// Deliveries counts the packets broadcasts queued to this server's
	// sessions, one per session (an event with attachments counts once):
	// broadcasts started here or by other servers of a cluster, with acks
	// or without.
	Deliveries uint64
	// DeliveriesDropped counts the sessions a volatile broadcast skipped
	// because they were not writable (engineio.Session.Writable).
	DeliveriesDropped uint64
	// AcksPending is the number of server→client acks (Socket.EmitWithAck,
	// one per socket of a broadcast with acks) awaiting an answer now.
	AcksPending int64
	// AcksTimedOut counts the server→client acks whose timeout passed
	// before their answer came.
	AcksTimedOut uint64
}

// Stats returns the server's counts.
func (s *Server) Stats() Stats {
	return Stats{
		Broadcasts:        s.broadcasts.Load(),
		Deliveries:        s.deliveries.Load(),
		DeliveriesDropped: s.dropped.Load(),
		AcksPending:       s.acksPending.Load(),
		AcksTimedOut:      s.acksTimedOut.Load(),
	}
}

// countDeliveries counts what one delivery of a broadcast did: queued to
// n sessions, skipped dropped not writable ones.
func (s *Server) countDeliveries(n, dropped int) {
	if n > 0 {
		s.deliveries.Add(uint64(n))
	}
	if dropped > 0 {
		s.dropped.Add(uint64(dropped))
	}
}
