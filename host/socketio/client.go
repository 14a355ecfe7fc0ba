package socketio

import (
	"crypto/rand"
	"encoding/base64"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rs/zerolog"

	"github.com/sockwasm/sockwasm/host/engineio"
	sp "github.com/sockwasm/sockwasm/protocol/socketio"
)

// client is one Engine.IO session and the namespace sockets it multiplexes.
// It is the session's engineio.Receiver.
type client struct {
	srv   *Server
	es    *engineio.Session
	log   zerolog.Logger
	timer *time.Timer

	// Owned by the receiver goroutine (OnMessage/OnClose).
	dec     sp.Decoder
	broken  bool // a protocol error closed the session: ignore the rest
	tracked bool // counted in srv.clients

	// callMu serializes the handler calls of the client's sockets. The
	// receiver holds it while dispatching; calls made from elsewhere are
	// queued and run by whoever holds or next takes it.
	callMu sync.Mutex
	queued atomic.Int32

	mu       sync.Mutex
	sockets  map[string]*Socket // by namespace name
	joined   bool               // joined a namespace at least once
	closed   bool
	deferred []func() // handler calls waiting for callMu
}

// call runs f serialized with the client's other handler calls: now if no
// handler call is running, else as soon as the running one returns.
func (c *client) call(f func()) {
	c.mu.Lock()
	c.deferred = append(c.deferred, f)
	c.queued.Add(1)
	c.mu.Unlock()
	c.drain()
}

// drain runs queued calls unless another goroutine holds callMu (it will
// run them itself).
func (c *client) drain() {
	for c.queued.Load() > 0 {
		if !c.callMu.TryLock() {
			return
		}
		c.runQueued()
		c.callMu.Unlock()
	}
}

// runQueued runs queued calls; callMu must be held.
func (c *client) runQueued() {
	for {
		c.mu.Lock()
		if len(c.deferred) == 0 {
			c.mu.Unlock()
			return
		}
		f := c.deferred[0]
		c.deferred[0] = nil
		c.deferred = c.deferred[1:]
		c.queued.Add(-1)
		c.mu.Unlock()
		f()
	}
}

// OnMessage implements engineio.Receiver.
func (c *client) OnMessage(data []byte, binary bool) {
	c.callMu.Lock()
	if c.queued.Load() > 0 {
		c.runQueued()
	}
	c.onMessage(data, binary)
	c.callMu.Unlock()
	c.drain()
}

func (c *client) onMessage(data []byte, binary bool) {
	if c.broken {
		return
	}
	p, ok, err := c.dec.Decode(data, binary)
	if err != nil {
		c.protocolError(err, data, binary)
		return
	}
	if !ok {
		return
	}
	switch p.Type {
	case sp.Connect:
		c.connect(&p)
		return
	case sp.ConnectError:
		c.protocolError(errConnectErrorFromClient, data, binary)
		return
	}
	c.mu.Lock()
	s := c.sockets[p.Namespace]
	c.mu.Unlock()
	if s == nil {
		c.log.Debug().Str("nsp", p.Namespace).Stringer("type", p.Type).Msg("packet for a namespace not joined, ignored")
		return
	}
	switch p.Type {
	case sp.Disconnect:
		s.onclose(ReasonClientNamespaceDisconnect, false)
	case sp.Event, sp.BinaryEvent:
		s.onevent(&p)
	case sp.Ack, sp.BinaryAck:
		s.onack(&p)
	}
}

var errConnectErrorFromClient = &protocolErr{"CONNECT_ERROR sent by a client"}

type protocolErr struct{ msg string }

func (e *protocolErr) Error() string { return "socketio: " + e.msg }

// protocolError closes the session after a malformed packet.
func (c *client) protocolError(err error, data []byte, binary bool) {
	c.broken = true
	c.dec.Reset()
	if e := c.log.Warn(); e.Enabled() {
		if len(data) > 64 {
			data = data[:64]
		}
		e = e.Err(err).Bool("binary", binary)
		if !binary {
			e = e.Bytes("packet", data)
		}
		e.Msg("protocol error, closing session")
	}
	c.es.Close(engineio.ReasonParseError)
}

// OnClose implements engineio.Receiver: every socket leaves with the
// engine's reason.
func (c *client) OnClose(reason engineio.CloseReason) {
	c.callMu.Lock()
	if c.queued.Load() > 0 {
		c.runQueued()
	}
	c.onClose(reason)
	c.callMu.Unlock()
	c.drain()
	c.srv.removeClient(c)
}

func (c *client) onClose(reason engineio.CloseReason) {
	if c.timer != nil {
		c.timer.Stop()
	}
	c.mu.Lock()
	c.closed = true
	socks := make([]*Socket, 0, len(c.sockets))
	for _, s := range c.sockets {
		socks = append(socks, s)
	}
	c.mu.Unlock()
	r := reasonOf(reason)
	for _, s := range socks {
		s.onclose(r, false)
	}
	c.log.Debug().Str("reason", string(reason)).Msg("session closed")
}

// connectTimeout closes a session that has joined no namespace in time.
func (c *client) connectTimeout() {
	c.mu.Lock()
	idle := !c.joined && !c.closed
	c.mu.Unlock()
	if idle {
		c.log.Debug().Msg("no namespace joined in time, closing session")
		c.es.Close(engineio.ReasonForcedClose)
	}
}

func (c *client) connect(p *sp.Packet) {
	n := c.srv.resolve(p.Namespace)
	if n == nil {
		c.sendConnectError(p.Namespace, &ConnectError{Message: "Invalid namespace"})
		return
	}
	c.mu.Lock()
	dup := c.sockets[n.name] != nil
	c.mu.Unlock()
	if dup {
		c.log.Debug().Str("nsp", n.name).Msg("CONNECT to a namespace already joined, ignored")
		return
	}
	auth := p.Data
	if auth == nil {
		auth = []byte("{}")
	}
	s := &Socket{
		id:   newID(),
		nsp:  n,
		c:    c,
		auth: auth,
	}
	h := n.handler()
	if cerr := h.Authorize(s); cerr != nil {
		c.sendConnectError(n.name, cerr)
		return
	}
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return
	}
	c.sockets[n.name] = s
	first := !c.joined
	c.joined = true
	c.mu.Unlock()
	if first && c.timer != nil {
		c.timer.Stop()
	}
	s.connected.Store(true)
	n.add(s)
	buf := make([]byte, 0, 16+len(n.name)+len(s.id))
	buf = sp.AppendHeader(buf, sp.Header{Type: sp.Connect, Namespace: n.name})
	buf = append(buf, `{"sid":`...)
	buf = sp.AppendString(buf, s.id)
	buf = append(buf, '}')
	if err := c.es.Send(engineio.Message{Data: buf}); err != nil {
		c.log.Debug().Err(err).Msg("CONNECT reply not sent")
	}
	c.log.Debug().Str("nsp", n.name).Str("socket", s.id).Msg("socket connected")
	h.OnConnect(s)
}

func (c *client) sendConnectError(nsp string, e *ConnectError) {
	buf := make([]byte, 0, 32+len(nsp)+len(e.Message)+len(e.Data))
	buf = sp.AppendHeader(buf, sp.Header{Type: sp.ConnectError, Namespace: nsp})
	buf = append(buf, `{"message":`...)
	buf = sp.AppendString(buf, e.Message)
	if e.Data != nil {
		buf = append(buf, `,"data":`...)
		buf = append(buf, e.Data...)
	}
	buf = append(buf, '}')
	if err := c.es.Send(engineio.Message{Data: buf}); err != nil {
		c.log.Debug().Err(err).Msg("CONNECT_ERROR not sent")
	}
	c.log.Debug().Str("nsp", nsp).Str("message", e.Message).Msg("connection refused")
}

// disconnectAll disconnects every socket of the client (DISCONNECT sent),
// then closes the session after its queue is flushed.
func (c *client) disconnectAll() {
	c.mu.Lock()
	socks := make([]*Socket, 0, len(c.sockets))
	for _, s := range c.sockets {
		socks = append(socks, s)
	}
	c.mu.Unlock()
	for _, s := range socks {
		s.onclose(ReasonServerNamespaceDisconnect, true)
	}
	c.es.Close(engineio.ReasonForcedClose)
}

// newID returns a crypto-random socket id: 20 URL-safe base64 characters.
func newID() string {
	var b [15]byte
	_, _ = rand.Read(b[:]) // never fails since Go 1.24 (it crashes the program instead)
	return base64.RawURLEncoding.EncodeToString(b[:])
}
