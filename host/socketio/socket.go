package socketio

import (
	"encoding/json"
	"slices"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/sockwasm/sockwasm/host/engineio"
	sp "github.com/sockwasm/sockwasm/protocol/socketio"
)

// Socket is one client's connection to one namespace. Its methods are
// safe for concurrent use.
type Socket struct {
	id   string
	nsp  *Namespace
	c    *client
	auth json.RawMessage

	connected atomic.Bool // accepted and not left
	left      atomic.Bool // left, or refused: no more joins

	// joinMu makes a join's room count check and the join one step.
	joinMu sync.Mutex

	mu         sync.Mutex
	nextAck    uint64
	acks       map[uint64]*pendingAck // server→client acks awaiting an answer
	clientAcks map[uint64]struct{}    // client ack ids not answered yet
	acksClosed bool                   // disconnected: no new pending acks
	bcasts     int                    // broadcasts with acks started and not complete
	data       map[string][]byte      // SetData by owner; values never modified in place
}

type pendingAck struct {
	cb    func(AckResponse)
	timer *time.Timer
}

// ID returns the socket id.
func (s *Socket) ID() string { return s.id }

// Namespace returns the socket's namespace.
func (s *Socket) Namespace() *Namespace { return s.nsp }

// Auth returns the CONNECT payload ({} when none).
func (s *Socket) Auth() json.RawMessage { return s.auth }

// Transport returns the current transport of the underlying session.
func (s *Socket) Transport() string { return s.c.es.Transport() }

// Handshake returns the underlying session's handshake.
func (s *Socket) Handshake() *engineio.Handshake { return s.c.es.Handshake() }

// SessionID returns the id of the underlying Engine.IO session.
func (s *Socket) SessionID() string { return s.c.es.ID() }

// Rooms returns the rooms the socket is in, sorted, its own id room
// included; nil once disconnected.
func (s *Socket) Rooms() []string {
	if !s.connected.Load() {
		return nil
	}
	rooms := s.nsp.adapter.SocketRooms(s.id)
	slices.Sort(rooms)
	return rooms
}

// Join adds the socket to rooms, all or none: it fails with
// ErrInvalidRoom when a name is empty, longer than Options.MaxRoomName or
// not valid UTF-8, and with ErrTooManyRooms when the socket would be in
// more than Options.MaxRoomsPerSocket rooms. It works from connection
// middleware on (the rooms are dropped if the connection is refused) and
// fails with ErrDisconnected once the socket has left.
func (s *Socket) Join(rooms ...string) error {
	if s.left.Load() {
		return ErrDisconnected
	}
	if len(rooms) == 0 {
		return nil
	}
	opts := &s.nsp.srv.opts
	for _, r := range rooms {
		if !s.nsp.validRoom(r) {
			return ErrInvalidRoom
		}
	}
	// The check and the join are one step for this socket: joins of one
	// socket come from its own handler calls, which are serialized, or
	// from server-side operations, which take joinMu too.
	s.joinMu.Lock()
	defer s.joinMu.Unlock()
	a := s.nsp.adapter
	if n := a.SocketRoomCount(s.id); n+len(rooms) > opts.MaxRoomsPerSocket {
		// Count exactly: rooms the socket is in already do not add.
		if n+newRooms(a.SocketRooms(s.id), rooms) > opts.MaxRoomsPerSocket {
			return ErrTooManyRooms
		}
	}
	s.nsp.adapter.AddAll(s.id, rooms)
	return nil
}

// validRoom reports whether r may name a room: not empty, at most
// Options.MaxRoomName bytes, valid UTF-8.
func (n *Namespace) validRoom(r string) bool {
	return r != "" && len(r) <= n.srv.opts.MaxRoomName && utf8.ValidString(r)
}

// newRooms counts the distinct rooms of add that are not in have.
func newRooms(have, add []string) int {
	seen := make(map[string]struct{}, len(have)+len(add))
	for _, r := range have {
		seen[r] = struct{}{}
	}
	n := 0
	for _, r := range add {
		if _, ok := seen[r]; !ok {
			seen[r] = struct{}{}
			n++
		}
	}
	return n
}

// Leave removes the socket from room. It does nothing once the socket
// has left.
func (s *Socket) Leave(room string) {
	if s.left.Load() {
		return
	}
	s.nsp.adapter.Del(s.id, room)
}

// Emit sends event name with args (a JSON array, nil for none) and
// attachments, which args refers to with placeholders. It fails with
// ErrInvalidArgs, ErrDisconnected or the session's error.
func (s *Socket) Emit(name string, args []byte, atts [][]byte) error {
	if !s.connected.Load() {
		return ErrDisconnected
	}
	text, err := s.nsp.encodeEvent(name, args, atts, 0, false)
	if err != nil {
		return err
	}
	if err := s.send(text, atts); err != nil {
		return err
	}
	if o := s.nsp.srv.observe(); o != nil {
		o.Sent(s, name, args, atts)
	}
	return nil
}

// send queues an encoded packet (Server.encode) and its attachments.
func (s *Socket) send(enc []byte, atts [][]byte) error {
	if len(atts) == 0 && s.nsp.srv.opts.Parser != ParserMsgpack {
		return s.c.es.Send(engineio.Message{Data: enc})
	}
	return s.c.es.Send(s.nsp.srv.messages(enc, atts)...)
}

// EmitWithAck sends an event with an ack id; cb gets the answer, or
// ErrAckTimeout after timeout (none when timeout <= 0), or ErrDisconnected,
// exactly once. When EmitWithAck returns an error, cb is never called.
// cb is serialized with the client's handler calls (like OnDisconnect):
// it never runs while a NamespaceHandler call of the same client is
// running, so a handler layer needs no lock of its own. It may run on the
// session's receiver goroutine, a timer goroutine or the goroutine
// disconnecting the socket.
func (s *Socket) EmitWithAck(name string, args []byte, atts [][]byte, timeout time.Duration, cb func(AckResponse)) error {
	if !s.connected.Load() {
		return ErrDisconnected
	}
	s.mu.Lock()
	if s.acksClosed {
		s.mu.Unlock()
		return ErrDisconnected
	}
	if len(s.acks) >= s.nsp.srv.opts.MaxPendingAcks {
		s.mu.Unlock()
		return ErrTooManyAcks
	}
	id := s.nextAck
	s.nextAck++
	s.mu.Unlock()
	text, err := s.nsp.encodeEvent(name, args, atts, id, true)
	if err != nil {
		return err
	}
	pa := &pendingAck{cb: cb}
	s.mu.Lock()
	if s.acksClosed {
		s.mu.Unlock()
		return ErrDisconnected
	}
	if s.acks == nil {
		s.acks = make(map[uint64]*pendingAck)
	}
	s.acks[id] = pa
	srv := s.nsp.srv
	srv.acksPending.Add(1)
	if timeout > 0 {
		pa.timer = time.AfterFunc(timeout, func() { s.resolveAck(id, AckResponse{Err: ErrAckTimeout}) })
	}
	s.mu.Unlock()
	if err := s.send(text, atts); err != nil {
		s.mu.Lock()
		pending := s.acks[id] == pa
		if pending {
			delete(s.acks, id)
			srv.acksPending.Add(-1)
		}
		s.mu.Unlock()
		if !pending {
			// The timeout or the socket's leaving already took the ack
			// and scheduled cb: it reports the outcome, exactly once.
			return nil
		}
		if pa.timer != nil {
			pa.timer.Stop()
		}
		return err
	}
	if o := s.nsp.srv.observe(); o != nil {
		o.Sent(s, name, args, atts)
	}
	return nil
}

// resolveAck hands r to the callback of ack id, if still pending (a
// timeout counted in Stats).
func (s *Socket) resolveAck(id uint64, r AckResponse) bool {
	s.mu.Lock()
	pa := s.acks[id]
	if pa != nil {
		delete(s.acks, id)
		s.nsp.srv.acksPending.Add(-1)
	}
	s.mu.Unlock()
	if pa == nil {
		return false
	}
	if pa.timer != nil {
		pa.timer.Stop()
	}
	if r.Err == ErrAckTimeout {
		// Counted before cb can run: whoever cb tells sees it counted.
		s.nsp.srv.acksTimedOut.Add(1)
	}
	s.c.call(func() { pa.cb(r) })
	return true
}

// Ack answers the client's ack id once with args (a JSON array, nil for
// none) and attachments. It fails with ErrUnknownAck when the client did
// not ask for that ack or it was already answered, with ErrInvalidArgs,
// or with ErrDisconnected.
func (s *Socket) Ack(id uint64, args []byte, atts [][]byte) error {
	if err := s.nsp.checkArgs(args); err != nil {
		return err
	}
	if len(atts) > s.nsp.srv.opts.MaxAttachments {
		return ErrTooManyAttachments
	}
	s.mu.Lock()
	if _, ok := s.clientAcks[id]; !ok {
		s.mu.Unlock()
		return ErrUnknownAck
	}
	delete(s.clientAcks, id)
	s.mu.Unlock()
	if !s.connected.Load() {
		return ErrDisconnected
	}
	if len(args) == 0 {
		args = []byte("[]")
	}
	t := sp.Ack
	if len(atts) > 0 {
		t = sp.BinaryAck
	}
	enc, err := s.nsp.srv.encode(&sp.Packet{Type: t, Namespace: s.nsp.name, ID: id, HasID: true, Data: args, Attachments: atts})
	if err != nil {
		return err
	}
	return s.send(enc, atts)
}

// Disconnect removes the socket from its namespace (DISCONNECT is sent,
// reason ReasonServerNamespaceDisconnect); with closeSession every socket
// of the client is disconnected that way and the Engine.IO session is
// closed once its queue is flushed.
//
// OnDisconnect is serialized with the client's other handler calls: called
// from inside a handler, Disconnect returns before OnDisconnect runs, right
// after that handler returns; called from elsewhere while a handler call of
// the client is running, OnDisconnect runs as soon as that call returns.
func (s *Socket) Disconnect(closeSession bool) {
	if closeSession {
		s.c.disconnectAll()
		return
	}
	s.onclose(ReasonServerNamespaceDisconnect, true)
}

// Connected reports whether the socket is still connected.
func (s *Socket) Connected() bool { return s.connected.Load() }

func (s *Socket) onevent(p *sp.Packet) {
	name, args, err := p.SplitEvent()
	if err != nil {
		s.c.protocolError(err, p.Data, false)
		return
	}
	if p.HasID {
		s.mu.Lock()
		if s.clientAcks == nil {
			s.clientAcks = make(map[uint64]struct{})
		}
		full := len(s.clientAcks) >= s.nsp.srv.opts.MaxPendingAcks
		if !full {
			s.clientAcks[p.ID] = struct{}{}
		}
		s.mu.Unlock()
		if full {
			s.c.srv.clientLog.Warn().Str("sid", s.c.es.ID()).Str("nsp", s.nsp.name).Msg("too many unanswered client acks, closing session")
			s.c.broken = true
			s.c.es.Close(engineio.ReasonForcedClose)
			return
		}
	}
	ev := &Event{Name: name, Args: args, Attachments: p.Attachments, AckID: p.ID, HasAck: p.HasID}
	if o := s.nsp.srv.observe(); o != nil {
		o.Received(s, ev)
	}
	s.nsp.handler().OnEvent(s, ev)
}

func (s *Socket) onack(p *sp.Packet) {
	if !p.HasID {
		return
	}
	if !s.resolveAck(p.ID, AckResponse{Args: p.Data, Attachments: p.Attachments}) {
		s.c.log.Debug().Str("nsp", s.nsp.name).Uint64("id", p.ID).Msg("ack for no pending emit, ignored")
	}
}

// onclose makes the socket leave its namespace once: rooms, namespace and
// client tables, pending acks (ErrDisconnected), then OnDisconnect. With
// sendPacket a DISCONNECT is queued for the client.
func (s *Socket) onclose(reason Reason, sendPacket bool) {
	if !s.connected.CompareAndSwap(true, false) {
		return
	}
	s.left.Store(true)
	all := s.nsp.adapter.SocketRooms(s.id)
	rooms := make([]string, 0, len(all))
	for _, r := range all {
		if r != s.id {
			rooms = append(rooms, r)
		}
	}
	slices.Sort(rooms)
	s.nsp.adapter.DelAll(s.id)
	s.nsp.remove(s)
	s.c.mu.Lock()
	if s.c.sockets[s.nsp.name] == s {
		delete(s.c.sockets, s.nsp.name)
	}
	s.c.mu.Unlock()
	if sendPacket {
		if enc, err := s.nsp.srv.encode(&sp.Packet{Type: sp.Disconnect, Namespace: s.nsp.name}); err == nil {
			_ = s.send(enc, nil)
		}
	}
	s.mu.Lock()
	s.acksClosed = true
	acks := s.acks
	s.acks = nil
	s.nsp.srv.acksPending.Add(-int64(len(acks)))
	s.clientAcks = nil
	s.mu.Unlock()
	for _, pa := range acks {
		if pa.timer != nil {
			pa.timer.Stop()
		}
		s.c.call(func() { pa.cb(AckResponse{Err: ErrDisconnected}) })
	}
	s.c.log.Debug().Str("nsp", s.nsp.name).Str("socket", s.id).Str("reason", string(reason)).Msg("socket disconnected")
	if o := s.nsp.srv.observe(); o != nil {
		o.Disconnected(s, reason)
	}
	s.c.call(func() { s.nsp.handler().OnDisconnect(s, reason, rooms) })
}
