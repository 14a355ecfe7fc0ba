package socketio

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"sync"
	"time"

	"github.com/sockwasm/sockwasm/host/engineio"
	"github.com/sockwasm/sockwasm/host/internal/logsafe"
	"github.com/sockwasm/sockwasm/host/internal/sidlog"
	sp "github.com/sockwasm/sockwasm/protocol/socketio"
)

// client is one Engine.IO session and the namespace sockets it multiplexes.
// It is the session's engineio.Receiver.
//
// The client is its sockets' serial executor: every handler call of its
// sockets runs while holding callMu, on one of the client's own
// goroutines — the session's receiver (OnMessage, OnClose) or a drainer
// started on demand for work posted from elsewhere (ack answers and
// timeouts, server-side disconnects, Socket.Schedule). Work of one client
// never runs on another client's goroutine, a timer's or a
// broadcaster's, so one client's handler calls cannot delay another's.
type client struct {
	srv   *Server
	es    *engineio.Session
	log   sidlog.Logger
	timer *time.Timer

	// Owned by the receiver goroutine (OnMessage/OnClose).
	dec     sp.Decoder
	broken  bool // a protocol error closed the session: ignore the rest
	tracked bool // counted in srv.clients

	// callMu is held by whoever runs the client's handler calls.
	callMu sync.Mutex

	mu       sync.Mutex
	sockets  map[string]*Socket // by namespace name
	joined   bool               // joined a namespace at least once
	closed   bool
	deferred []func() // handler calls waiting for callMu
	// draining is set while a drainer goroutine is started and has not yet
	// seen deferred empty; posts meanwhile rely on it.
	draining bool
}

// call runs f serialized with the client's other handler calls, on the
// client's own goroutine: after the running call when there is one (the
// receiver runs it before it lets go), else on a drainer goroutine started
// for it. It never runs f on the caller's goroutine.
func (c *client) call(f func()) {
	c.mu.Lock()
	c.deferred = append(c.deferred, f)
	start := !c.draining
	c.draining = true
	c.mu.Unlock()
	if start {
		c.srv.work.Go(c.drain)
	}
}

// drain is the drainer goroutine: it runs the queued calls, then exits.
func (c *client) drain() {
	c.callMu.Lock()
	c.runQueued(true)
	c.callMu.Unlock()
}

// runQueued runs queued calls until there are none; callMu must be held.
// The drainer (drainer set) hands the queue back when it finds it empty.
func (c *client) runQueued(drainer bool) {
	for {
		c.mu.Lock()
		if len(c.deferred) == 0 {
			if drainer {
				c.draining = false
			}
			c.mu.Unlock()
			return
		}
		f := c.deferred[0]
		c.deferred[0] = nil
		c.deferred = c.deferred[1:]
		if len(c.deferred) == 0 {
			c.deferred = nil // let the backing array go
		}
		c.mu.Unlock()
		f()
	}
}

// OnMessage implements engineio.Receiver. It runs on the session's own
// goroutine, which also runs the calls posted while it handled the message.
func (c *client) OnMessage(data []byte, binary bool) {
	c.callMu.Lock()
	c.runQueued(false)
	c.onMessage(data, binary)
	c.runQueued(false)
	c.callMu.Unlock()
}

func (c *client) onMessage(data []byte, binary bool) {
	if c.broken {
		return
	}
	p, ok, err := c.decode(data, binary)
	if err != nil {
		c.protocolError(err, data, binary)
		return
	}
	if !ok {
		return
	}
	if p.Type == sp.ConnectError {
		c.protocolError(errConnectErrorFromClient, data, binary)
		return
	}
	c.mu.Lock()
	s := c.sockets[p.Namespace]
	c.mu.Unlock()
	// As the reference server: a CONNECT to a namespace already joined and
	// any other packet for a namespace not joined close the session.
	switch {
	case p.Type == sp.Connect && s == nil:
		c.connect(&p)
		return
	case p.Type == sp.Connect:
		c.protocolError(errConnectTwice, data, binary)
		return
	case s == nil:
		c.protocolError(errNotJoined, data, binary)
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

// Protocol errors of a client's packet sequence (as opposed to malformed
// packets): each closes the session.
var (
	errConnectErrorFromClient = &protocolErr{"CONNECT_ERROR sent by a client"}
	errConnectTwice           = &protocolErr{"CONNECT to a namespace already joined"}
	errNotJoined              = &protocolErr{"packet for a namespace not joined"}
)

type protocolErr struct{ msg string }

func (e *protocolErr) Error() string { return "socketio: " + e.msg }

// protocolError closes the session after a malformed packet ("parse
// error") or a packet out of sequence ("forced close", as the reference
// server's invalid-state close). The warning goes through the server's
// sampled logger: clients cannot flood the log.
func (c *client) protocolError(err error, data []byte, binary bool) {
	c.broken = true
	c.dec.Reset()
	reason := engineio.ReasonParseError
	var pe *protocolErr
	if errors.As(err, &pe) {
		reason = engineio.ReasonForcedClose
	}
	if e := c.srv.clientLog.Warn(); e.Enabled() {
		e = e.Str("sid", c.es.ID()).Err(err).Bool("binary", binary)
		if !binary {
			e = e.Str("packet", logsafe.Text(data, 64))
		}
		e.Msg("protocol error, closing session")
	}
	c.es.Close(reason)
}

// OnClose implements engineio.Receiver: every socket leaves with the
// engine's reason.
func (c *client) OnClose(reason engineio.CloseReason) {
	c.callMu.Lock()
	c.runQueued(false)
	c.onClose(reason)
	c.runQueued(false)
	c.callMu.Unlock()
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
	if cerr := c.admit(p); cerr != nil {
		c.sendConnectError(p.Namespace, cerr)
		return
	}
	n, cerr := c.srv.resolve(p.Namespace)
	if cerr != nil {
		c.sendConnectError(p.Namespace, cerr)
		return
	}
	// A copy: the packet's bytes belong to the transport's buffer.
	auth := json.RawMessage(bytes.Clone(p.Data))
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
		c.abandon(s)
		return
	}
	// The socket joins its namespace before the client lists it and
	// before it counts as connected: whoever disconnects it from then on
	// finds it whole. A dynamic namespace may have been removed while the
	// middleware ran (another socket was its last and left): it joins the
	// successor.
	for tries := 0; !n.add(s); tries++ {
		cerr = errInvalidNamespace
		if tries < 3 {
			n, cerr = c.srv.resolve(p.Namespace)
		}
		if cerr != nil {
			c.sendConnectError(p.Namespace, cerr)
			c.abandon(s)
			return
		}
		// Rooms joined by the middleware move along.
		rooms := s.nsp.adapter.SocketRooms(s.id)
		s.nsp.adapter.DelAll(s.id)
		s.nsp, h = n, n.handler()
		n.adapter.AddAll(s.id, rooms)
	}
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		n.remove(s)
		c.abandon(s)
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
	data := make([]byte, 0, 10+len(s.id))
	data = append(data, `{"sid":`...)
	data = sp.AppendString(data, s.id)
	data = append(data, '}')
	if err := c.send(&sp.Packet{Type: sp.Connect, Namespace: n.name, Data: data}); err != nil {
		c.log.Debug().Err(err).Msg("CONNECT reply not sent")
	}
	c.log.Debug().Str("nsp", n.name).Str("socket", s.id).Msg("socket connected")
	if o := c.srv.observe(); o != nil {
		o.Connected(s)
	}
	h.OnConnect(s)
}

// admit bounds what one session holds in sockets: their count and their
// auth payloads together. Only this client's executor adds sockets, so
// the answer still holds when the socket is added.
func (c *client) admit(p *sp.Packet) *ConnectError {
	c.mu.Lock()
	count, auth := len(c.sockets), len(p.Data)
	for _, s := range c.sockets {
		auth += len(s.auth)
	}
	c.mu.Unlock()
	var cerr *ConnectError
	switch {
	case count >= c.srv.opts.MaxSocketsPerSession:
		cerr = errSocketLimit
	case auth > c.srv.opts.MaxAuthBytes:
		cerr = errAuthLimit
	default:
		return nil
	}
	c.srv.clientLog.Warn().Str("sid", c.es.ID()).Int("sockets", count).Int("auth_bytes", auth).
		Str("nsp", truncate(p.Namespace, 64)).Msg("CONNECT refused: " + cerr.Message)
	return cerr
}

// abandon forgets a socket whose CONNECT did not succeed: rooms its
// middleware joined, and its namespace when that is an empty dynamic one.
func (c *client) abandon(s *Socket) {
	s.left.Store(true)
	s.nsp.adapter.DelAll(s.id)
	c.srv.removeIfEmpty(s.nsp)
}

func (c *client) sendConnectError(nsp string, e *ConnectError) {
	data := make([]byte, 0, 24+len(e.Message)+len(e.Data))
	data = append(data, `{"message":`...)
	data = sp.AppendString(data, e.Message)
	if e.Data != nil {
		data = append(data, `,"data":`...)
		data = append(data, e.Data...)
	}
	data = append(data, '}')
	if err := c.send(&sp.Packet{Type: sp.ConnectError, Namespace: nsp, Data: data}); err != nil {
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

// send encodes a packet without attachments and queues it.
func (c *client) send(p *sp.Packet) error {
	enc, err := c.srv.encode(p)
	if err != nil {
		return err
	}
	return c.es.Send(engineio.Message{Data: enc, Binary: c.srv.opts.Parser == ParserMsgpack})
}

// newID returns a crypto-random socket id: 20 URL-safe base64 characters.
func newID() string {
	var b [15]byte
	_, _ = rand.Read(b[:]) // never fails since Go 1.24 (it crashes the program instead)
	return base64.RawURLEncoding.EncodeToString(b[:])
}
