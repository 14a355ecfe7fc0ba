package socketio

import (
	"context"
	"errors"
	"slices"
	"sync"
	"time"
)

// SocketInfo describes a socket found by Namespace.FetchSockets.
type SocketInfo struct {
	// ID is the socket id.
	ID string
	// Rooms are the socket's rooms, sorted, its own id room included.
	Rooms []string
	// Data is the socket's data by owner (Socket.Data), nil when none.
	Data map[string][]byte
}

// AckReply is one socket's answer to a broadcast with acks.
type AckReply struct {
	// SocketID is the id of the socket that answered.
	SocketID string
	// Args is the answer, a JSON array (placeholders refer to Attachments).
	Args []byte
	// Attachments are the answer's binary attachments.
	Attachments [][]byte
}

// FetchSockets describes the sockets opts selects (Volatile is ignored):
// their ids, rooms and data, in no particular order.
func (n *Namespace) FetchSockets(ctx context.Context, opts BroadcastOptions) ([]SocketInfo, error) {
	return n.adapter.FetchSockets(ctx, opts)
}

// Errors of adapters that ask other servers.
var (
	// ErrClusterTimeout: the other servers did not all answer in time.
	ErrClusterTimeout = errors.New("socketio: the other servers did not all answer in time")
	// ErrClusterUnavailable: the other servers cannot be reached.
	ErrClusterUnavailable = errors.New("socketio: the other servers cannot be reached")
)

// ServerSideEmit sends event name with args (a JSON array without binary)
// to the other servers sharing the namespace, Socket.IO's serverSideEmit
// (see Adapter.ServerSideEmit); cb, when not nil, gets their answers.
func (n *Namespace) ServerSideEmit(name string, args []byte, timeout time.Duration, cb func(answers [][]byte, err error)) (immediate bool, err error) {
	if err := n.checkArgs(args); err != nil {
		return false, err
	}
	return n.adapter.ServerSideEmit(name, args, timeout, cb)
}

// ServerEvent hands a server-side event from another server to the
// namespace's handler, when it takes them (ServerEventHandler); adapters
// call it. Without such a handler the event is dropped and an expected
// answer never comes, as on the reference server without a listener.
func (n *Namespace) ServerEvent(name string, args []byte, ack func(answer []byte)) {
	if h, ok := n.handler().(ServerEventHandler); ok {
		h.OnServerEvent(n, name, args, ack)
	}
}

// AllSockets returns the ids of the sockets in any of rooms (all when
// empty) on every server sharing the namespace (see Adapter.AllSockets).
func (n *Namespace) AllSockets(ctx context.Context, rooms ...string) ([]string, error) {
	return n.adapter.AllSockets(ctx, rooms)
}

// SocketsJoin makes the sockets opts selects join rooms (the reference
// server's io.in(…).socketsJoin). It fails with ErrInvalidRoom, joining
// nothing, when a room name is invalid (see Socket.Join); a socket that
// would be in more than Options.MaxRoomsPerSocket rooms is left as it is.
func (n *Namespace) SocketsJoin(opts BroadcastOptions, rooms ...string) error {
	for _, r := range rooms {
		if !n.validRoom(r) {
			return ErrInvalidRoom
		}
	}
	if len(rooms) > 0 {
		n.adapter.AddSockets(opts, rooms)
	}
	return nil
}

// SocketsLeave makes the sockets opts selects leave rooms.
func (n *Namespace) SocketsLeave(opts BroadcastOptions, rooms ...string) {
	if len(rooms) > 0 {
		n.adapter.DelSockets(opts, rooms)
	}
}

// DisconnectSockets disconnects the sockets opts selects, as
// Socket.Disconnect(closeSession) does for each. Their OnDisconnect calls
// may run before it returns (those of clients with no handler call
// running); use Socket.Schedule to run it after the current handler call.
func (n *Namespace) DisconnectSockets(opts BroadcastOptions, closeSession bool) {
	n.adapter.DisconnectSockets(opts, closeSession)
}

// Schedule runs f serialized with the handler calls of the socket's
// client, like ack callbacks: called from inside one of them, f runs right
// after it returns; otherwise now, or as soon as the running call returns.
func (s *Socket) Schedule(f func()) { s.c.call(f) }

// localSockets returns the connected local sockets with ids.
func (n *Namespace) localSockets(ids []string) []*Socket {
	socks := make([]*Socket, 0, len(ids))
	n.mu.RLock()
	for _, id := range ids {
		if s := n.sockets[id]; s != nil {
			socks = append(socks, s)
		}
	}
	n.mu.RUnlock()
	return socks
}

// BroadcastWithAck emits event name to the sockets opts selects, each with
// its own ack id, and calls cb once with the answers, in arrival order,
// when every selected socket has answered or left, or else when timeout
// (none when <= 0) has passed: then with the answers received so far and
// ErrAckTimeout. A socket that leaves before answering is not waited for
// and not reported. With no socket selected cb gets (nil, nil).
//
// cb runs on the goroutine that resolves the last answer (a session's
// receiver, a timer, or this one when no socket is selected);
// Socket.BroadcastWithAck serializes it with a socket's handler calls
// instead. It fails, without calling cb, only when args is not a JSON
// array.
func (n *Namespace) BroadcastWithAck(opts BroadcastOptions, name string, args []byte, atts [][]byte, timeout time.Duration, cb func([]AckReply, error)) error {
	_, err := n.broadcastWithAck(nil, opts, name, args, atts, timeout, cb)
	return err
}

// BroadcastWithAck is Namespace.BroadcastWithAck on the socket's
// namespace with cb serialized with the handler calls of the socket's
// client, like the callbacks of EmitWithAck: called from a handler, cb
// never runs before that handler has returned. immediate reports that the
// broadcast was already complete when it returned (no socket took the
// event), so cb follows without waiting for any client or clock: a handler
// layer uses it to bound chains of such calls. It fails with
// ErrDisconnected once the socket has left, and with ErrTooManyAcks when
// Options.MaxPendingAcks of the socket's broadcasts with acks are still
// waiting.
func (s *Socket) BroadcastWithAck(opts BroadcastOptions, name string, args []byte, atts [][]byte, timeout time.Duration, cb func([]AckReply, error)) (immediate bool, err error) {
	if !s.connected.Load() {
		return false, ErrDisconnected
	}
	s.mu.Lock()
	full := s.bcasts >= s.nsp.srv.opts.MaxPendingAcks
	if !full {
		s.bcasts++
	}
	s.mu.Unlock()
	if full {
		return false, ErrTooManyAcks
	}
	immediate, err = s.nsp.broadcastWithAck(s, opts, name, args, atts, timeout, cb)
	if err != nil {
		s.endBroadcast()
	}
	return immediate, err
}

// endBroadcast ends one of the socket's broadcasts with acks.
func (s *Socket) endBroadcast() {
	s.mu.Lock()
	s.bcasts--
	s.mu.Unlock()
}

func (n *Namespace) broadcastWithAck(from *Socket, opts BroadcastOptions, name string, args []byte, atts [][]byte, timeout time.Duration, cb func([]AckReply, error)) (bool, error) {
	if err := n.checkArgs(args); err != nil {
		return false, err
	}
	if len(atts) > n.srv.opts.MaxAttachments {
		return false, ErrTooManyAttachments
	}
	b := &AckBroadcast{n: n, from: from, name: name, args: args, atts: atts, timeout: timeout, volatile: opts.Volatile, cb: cb}
	b.pending = 1 // held until the adapter is done
	n.srv.broadcasts.Add(1)
	n.adapter.BroadcastWithAck(opts, b)
	return b.resolve(), nil
}

// AckBroadcast is a broadcast with acks in flight. Adapters hand it the
// selected local sockets with Deliver; an adapter that shares the
// broadcast with other servers also tells it how many servers received
// it (ExpectServers), how many clients each selected (ServerCount) and
// their answers (RemoteAnswer). It completes when every expected answer
// has come or its socket left, or else at its timeout.
type AckBroadcast struct {
	n        *Namespace
	from     *Socket
	name     string
	args     []byte
	atts     [][]byte
	timeout  time.Duration
	volatile bool
	cb       func([]AckReply, error)

	mu       sync.Mutex
	pending  int // outcomes awaited: local emits, remote counts and answers, +1 while delivering
	replies  []AckReply
	size     int // bytes of replies, args and attachments
	dropped  int // answers over Options.MaxBroadcastAckBytes
	timedOut bool
	// expecting is set by ExpectServers; counted counts the servers whose
	// ServerCount came before it (a fast server's count may beat the
	// adapter's count of servers).
	expecting bool
	counted   int
	done      bool        // cb called (or about to be)
	timer     *time.Timer // the remote part's deadline
}

// Event returns the broadcast's event: its name, its args (a JSON array
// whose placeholders refer to atts) and its attachments.
func (b *AckBroadcast) Event() (name string, args []byte, atts [][]byte) {
	return b.name, b.args, b.atts
}

// Timeout returns how long the broadcast waits for answers (none when
// <= 0).
func (b *AckBroadcast) Timeout() time.Duration { return b.timeout }

// Volatile reports whether the broadcast skips sessions that are not
// writable.
func (b *AckBroadcast) Volatile() bool { return b.volatile }

// Hold keeps b from completing until release is called (once): an
// adapter holds it while it learns, after Deliver has returned, how many
// servers to expect.
func (b *AckBroadcast) Hold() (release func()) {
	b.mu.Lock()
	b.pending++
	b.mu.Unlock()
	var once sync.Once
	return func() { once.Do(func() { b.resolve() }) }
}

// ExpectServers tells b that servers other servers received it: it waits
// for each one's ServerCount, then for as many RemoteAnswer calls, for at
// most wait (the broadcast's own timeout when that is shorter and set).
// Call it while Deliver runs or under a Hold, once, with 0 when the number
// of servers is unknown (Redis away): counts that came already are then
// still bounded by wait.
func (b *AckBroadcast) ExpectServers(servers int, wait time.Duration) {
	if b.timeout > 0 && b.timeout < wait {
		wait = b.timeout
	}
	b.mu.Lock()
	// Servers whose count came before this call were not awaited yet:
	// only the others are. Their answers, and those of servers counted
	// early, are awaited up to wait.
	b.pending += max(servers-b.counted, 0)
	b.expecting = true
	if (servers > 0 || b.counted > 0) && b.timer == nil {
		b.timer = time.AfterFunc(wait, b.expire)
	}
	b.mu.Unlock()
}

// ServerCount records that one of the expected servers selected clients
// clients: their answers are awaited.
func (b *AckBroadcast) ServerCount(clients int) {
	b.mu.Lock()
	if b.done {
		b.mu.Unlock()
		return
	}
	b.pending += max(clients, 0)
	expecting := b.expecting
	if !expecting {
		b.counted++ // ExpectServers, still to come, will not wait for it
	}
	b.mu.Unlock()
	if expecting {
		b.resolve()
	}
}

// RemoteAnswer records the answer of a client of another server.
func (b *AckBroadcast) RemoteAnswer(r AckReply) {
	b.answer(r.SocketID, AckResponse{Args: r.Args, Attachments: r.Attachments})
}

// expire ends the broadcast at the remote part's deadline, with the
// answers received so far.
func (b *AckBroadcast) expire() {
	b.mu.Lock()
	if b.done {
		b.mu.Unlock()
		return
	}
	b.timedOut = true
	b.pending = 1
	b.mu.Unlock()
	b.resolve()
}

// Deliver emits the event to the local sockets with ids (unknown or gone
// ids are skipped; with Volatile, so are sessions that are not writable),
// each with its own ack id, and waits for their answers.
func (b *AckBroadcast) Deliver(ids []string) {
	queued, dropped := 0, 0
	for _, s := range b.n.localSockets(ids) {
		if b.volatile && !s.c.es.Writable() {
			dropped++
			continue
		}
		id := s.id
		b.mu.Lock()
		b.pending++
		b.mu.Unlock()
		err := s.EmitWithAck(b.name, b.args, b.atts, b.timeout, func(r AckResponse) { b.answer(id, r) })
		if err != nil {
			s.c.log.Debug().Err(err).Str("nsp", b.n.name).Msg("broadcast with ack not queued")
			b.resolve()
			continue
		}
		queued++
	}
	b.n.srv.countDeliveries(queued, dropped)
}

// answer records one socket's outcome.
func (b *AckBroadcast) answer(id string, r AckResponse) {
	b.mu.Lock()
	switch {
	case b.done:
		b.mu.Unlock()
		return
	case r.Err == nil:
		n := len(r.Args)
		for _, a := range r.Attachments {
			n += len(a)
		}
		// The answers are held until the last one: bounded, so that
		// clients cannot make the server keep a megabyte per answer for
		// as long as the broadcast waits. Those over the budget count as
		// sockets that left.
		if b.size+n > b.n.srv.opts.MaxBroadcastAckBytes {
			b.dropped++
			if b.dropped == 1 {
				b.n.srv.clientLog.Warn().Str("nsp", b.n.name).Str("event", truncate(b.name, 64)).
					Int("limit", b.n.srv.opts.MaxBroadcastAckBytes).Msg("broadcast with ack: answers over max_broadcast_ack_bytes dropped")
			}
			break
		}
		b.size += n
		b.replies = append(b.replies, AckReply{SocketID: id, Args: r.Args, Attachments: r.Attachments})
	case errors.Is(r.Err, ErrAckTimeout):
		b.timedOut = true
	}
	b.mu.Unlock()
	b.resolve()
}

// resolve ends one pending outcome and calls cb after the last; it
// reports whether that was the last.
func (b *AckBroadcast) resolve() bool {
	b.mu.Lock()
	b.pending--
	last := b.pending == 0 && !b.done
	if last {
		b.done = true
		if b.timer != nil {
			b.timer.Stop()
		}
	}
	replies, timedOut := b.replies, b.timedOut
	b.mu.Unlock()
	if !last {
		return false
	}
	var err error
	if timedOut {
		err = ErrAckTimeout
	}
	if b.from != nil {
		b.from.endBroadcast()
		b.from.c.call(func() { b.cb(replies, err) })
		return true
	}
	b.cb(replies, err)
	return true
}

// EmitWithAckTo emits event name to the local sockets with ids (with
// volatile, only those whose session is writable), each with its own ack
// id, as part of a broadcast with acks another server started: it returns
// how many sockets it was queued for, and calls reply once for each
// answer that comes within timeout, from the answering client's goroutine.
func (n *Namespace) EmitWithAckTo(ids []string, name string, args []byte, atts [][]byte, timeout time.Duration, volatile bool, reply func(AckReply)) (int, error) {
	if err := n.checkArgs(args); err != nil {
		return 0, err
	}
	if len(atts) > n.srv.opts.MaxAttachments {
		return 0, ErrTooManyAttachments
	}
	count, dropped := 0, 0
	for _, s := range n.localSockets(ids) {
		if volatile && !s.c.es.Writable() {
			dropped++
			continue
		}
		id := s.id
		err := s.EmitWithAck(name, args, atts, timeout, func(r AckResponse) {
			if r.Err == nil {
				reply(AckReply{SocketID: id, Args: r.Args, Attachments: r.Attachments})
			}
		})
		if err == nil {
			count++
		}
	}
	n.srv.countDeliveries(count, dropped)
	return count, nil
}

// BroadcastWithAck implements Adapter.
func (a *MemoryAdapter) BroadcastWithAck(opts BroadcastOptions, b *AckBroadcast) {
	b.Deliver(a.selectIDs(opts))
}

// FetchSockets implements Adapter.
func (a *MemoryAdapter) FetchSockets(_ context.Context, opts BroadcastOptions) ([]SocketInfo, error) {
	a.mu.RLock()
	ids := a.selectLocked(opts.Rooms, opts.Except)
	out := make([]SocketInfo, 0, len(ids))
	for _, id := range ids {
		rooms := make([]string, 0, len(a.sids[id]))
		for r := range a.sids[id] {
			rooms = append(rooms, r)
		}
		slices.Sort(rooms)
		out = append(out, SocketInfo{ID: id, Rooms: rooms})
	}
	a.mu.RUnlock()
	for i := range out {
		if s := a.n.Socket(out[i].ID); s != nil {
			out[i].Data = s.allData()
		}
	}
	return out, nil
}

// ServerSideEmit implements Adapter: there is no other server; cb, if
// any, is called at once with no answers.
func (a *MemoryAdapter) ServerSideEmit(_ string, _ []byte, _ time.Duration, cb func([][]byte, error)) (bool, error) {
	if cb != nil {
		cb(nil, nil)
	}
	return true, nil
}

// AllSockets implements Adapter: this server's sockets.
func (a *MemoryAdapter) AllSockets(_ context.Context, rooms []string) ([]string, error) {
	return a.Sockets(rooms), nil
}

// AddSockets implements Adapter. A socket the rooms would take beyond
// Options.MaxRoomsPerSocket is left as it is.
func (a *MemoryAdapter) AddSockets(opts BroadcastOptions, rooms []string) {
	for _, s := range a.n.localSockets(a.selectIDs(opts)) {
		if err := s.Join(rooms...); err != nil {
			s.c.log.Debug().Err(err).Str("nsp", a.n.name).Str("socket", s.id).Msg("server-side join refused")
		}
	}
}

// DelSockets implements Adapter.
func (a *MemoryAdapter) DelSockets(opts BroadcastOptions, rooms []string) {
	for _, s := range a.n.localSockets(a.selectIDs(opts)) {
		for _, r := range rooms {
			s.Leave(r)
		}
	}
}

// DisconnectSockets implements Adapter.
func (a *MemoryAdapter) DisconnectSockets(opts BroadcastOptions, closeSession bool) {
	for _, s := range a.n.localSockets(a.selectIDs(opts)) {
		s.Disconnect(closeSession)
	}
}
