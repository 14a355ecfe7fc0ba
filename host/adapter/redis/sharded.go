package redis

import (
	"context"
	"encoding/json"
	"sync"
	"time"

	"github.com/sockwasm/sockwasm/host/socketio"
	wire "github.com/sockwasm/sockwasm/protocol/redisadapter"
	sp "github.com/sockwasm/sockwasm/protocol/socketio"
)

// ShardedAdapter is one namespace's adapter in sharded mode
// (Options.Sharded), the reference's createShardedAdapter: Redis 7
// sharded pub/sub (SSUBSCRIBE, SPUBLISH), every message a socket.io-adapter
// ClusterMessage on the namespace's channel "<key>#<nsp>#", answers on
// the requester's "<key>#<nsp>#<uid>#", and, in the dynamic subscription
// modes, a single-room broadcast on the room's own channel
// "<key>#<nsp>#<room>#", which only the nodes with members of that room
// subscribe to. Rooms are local; the nodes are counted with SHARDNUMSUB on
// the namespace's channel.
type ShardedAdapter struct {
	c     *Cluster
	n     *socketio.Namespace
	local *socketio.MemoryAdapter
	uid   string
	// channel is the namespace's channel, response this node's.
	channel, response string

	mu     sync.Mutex
	reqs   map[string]func(*wire.ClusterMessage) // this node's requests
	closed bool
}

// newShardedAdapter makes the sharded adapter of namespace n and
// subscribes its channels.
func (c *Cluster) newShardedAdapter(n *socketio.Namespace) *ShardedAdapter {
	a := &ShardedAdapter{
		c:     c,
		n:     n,
		local: socketio.NewLocalAdapter(n),
		uid:   wire.NewClusterUID(),
		reqs:  make(map[string]func(*wire.ClusterMessage)),
	}
	a.channel = wire.ShardedChannel(c.opts.Key, n.Name())
	a.response = wire.ShardedResponseChannel(c.opts.Key, n.Name(), a.uid)
	c.mu.Lock()
	c.channels[a.channel] = route{s: a, kind: routeSharded}
	c.channels[a.response] = route{s: a, kind: routeSharded}
	c.current[n.Name()] = a
	c.mu.Unlock()
	ctx, cancel := context.WithTimeout(c.ctx, c.opts.RequestTimeout)
	defer cancel()
	if err := c.ps.SSubscribe(ctx, a.channel, a.response); err != nil {
		c.log.Debug().Err(err).Str("nsp", n.Name()).Msg("subscribe deferred to the reconnection")
	}
	return a
}

func (a *ShardedAdapter) limits() wire.Limits {
	return wire.Limits{MaxDepth: sp.DefaultMaxDepth, MaxAttachments: a.c.opts.MaxAttachments}
}

// roomChannel returns the channel of room, and whether this node
// subscribes to it while the room has local members.
func (a *ShardedAdapter) roomChannel(room string) (string, bool) {
	private := a.n.Socket(room) != nil
	return wire.ShardedRoomChannel(a.c.opts.Key, a.n.Name(), room), a.c.opts.Mode.HasRoomChannel(private)
}

// touch asks the cluster to check the subscriptions of rooms: subscribed
// while they have local members, in the dynamic modes.
func (a *ShardedAdapter) touch(rooms []string) {
	if a.c.opts.Mode == wire.ModeStatic {
		return
	}
	a.c.rooms.touch(a, rooms)
}

// AddAll implements socketio.Adapter.
func (a *ShardedAdapter) AddAll(id string, rooms []string) {
	a.local.AddAll(id, rooms)
	a.touch(rooms)
}

// Del implements socketio.Adapter.
func (a *ShardedAdapter) Del(id, room string) {
	a.local.Del(id, room)
	a.touch([]string{room})
}

// DelAll implements socketio.Adapter.
func (a *ShardedAdapter) DelAll(id string) {
	rooms := a.local.SocketRooms(id)
	a.local.DelAll(id)
	a.touch(rooms)
}

// SocketRooms implements socketio.Adapter.
func (a *ShardedAdapter) SocketRooms(id string) []string { return a.local.SocketRooms(id) }

// SocketRoomCount implements socketio.Adapter.
func (a *ShardedAdapter) SocketRoomCount(id string) int { return a.local.SocketRoomCount(id) }

// RoomSize implements socketio.Adapter: the local members only.
func (a *ShardedAdapter) RoomSize(room string) int { return a.local.RoomSize(room) }

// Sockets implements socketio.Adapter: the local sockets only.
func (a *ShardedAdapter) Sockets(rooms []string) []string { return a.local.Sockets(rooms) }

// Close implements socketio.Adapter: the namespace's channels are
// unsubscribed, its requests end.
func (a *ShardedAdapter) Close() error {
	a.mu.Lock()
	a.closed = true
	clear(a.reqs)
	a.mu.Unlock()
	// A namespace made again (a dynamic one) may have a new adapter on
	// the namespace's channel already: it stays subscribed.
	var chans []string
	a.c.mu.Lock()
	for _, ch := range []string{a.channel, a.response} {
		if a.c.channels[ch].s == a {
			delete(a.c.channels, ch)
			chans = append(chans, ch)
		}
	}
	if a.c.current[a.n.Name()] == a {
		delete(a.c.current, a.n.Name())
	}
	a.c.mu.Unlock()
	a.c.rooms.forget(a)
	if len(chans) > 0 {
		ctx, cancel := context.WithTimeout(a.c.ctx, a.c.opts.RequestTimeout)
		defer cancel()
		_ = a.c.ps.SUnsubscribe(ctx, chans...)
	}
	return nil
}

// publish sends m to the other nodes, on the channel the reference would
// use.
func (a *ShardedAdapter) publish(m *wire.ClusterMessage) {
	m.UID, m.Nsp = a.uid, a.n.Name()
	msg, err := wire.AppendClusterMessage(nil, m)
	if err != nil {
		a.c.log.Debug().Err(err).Stringer("type", m.Type).Msg("message not published")
		return
	}
	a.c.enqueue(wire.ShardedPublishChannel(a.c.opts.Key, a.n.Name(), m, a.c.opts.Mode), msg)
}

// respond sends m, an answer, to the node with uid to.
func (a *ShardedAdapter) respond(to string, m *wire.ClusterMessage) {
	m.UID, m.Nsp = a.uid, a.n.Name()
	msg, err := wire.AppendClusterMessage(nil, m)
	if err != nil {
		a.c.log.Debug().Err(err).Stringer("type", m.Type).Msg("response not published")
		return
	}
	a.c.enqueue(wire.ShardedResponseChannel(a.c.opts.Key, a.n.Name(), to), msg)
}

// request records one of this node's requests, id (wire.NewClusterUID),
// before it is published; handle gets its answers. It reports false once
// the adapter is closed.
func (a *ShardedAdapter) request(id string, handle func(*wire.ClusterMessage)) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.closed {
		return false
	}
	a.reqs[id] = handle
	return true
}

// forget ends request id.
func (a *ShardedAdapter) forget(id string) {
	a.mu.Lock()
	delete(a.reqs, id)
	a.mu.Unlock()
}

// others returns how many other nodes serve the namespace.
func (a *ShardedAdapter) others(ctx context.Context) (int, error) {
	m, err := a.c.rdb.PubSubShardNumSub(ctx, a.channel).Result()
	if err != nil {
		return 0, ErrUnavailable
	}
	return max(int(m[a.channel])-1, 0), nil
}

// Broadcast implements socketio.Adapter: delivered to the local sockets
// now, published for the other nodes.
func (a *ShardedAdapter) Broadcast(p *socketio.Packet, opts socketio.BroadcastOptions) {
	a.local.Broadcast(p, opts)
	data, err := eventData(p.Name, p.Args)
	if err != nil {
		a.c.log.Debug().Err(err).Msg("broadcast not published")
		return
	}
	a.publish(&wire.ClusterMessage{
		Type:   wire.MessageBroadcast,
		Packet: wire.Packet{Type: sp.Event, Data: data, Attachments: p.Attachments},
		Opts:   options(opts),
	})
}

// AddSockets implements socketio.Adapter.
func (a *ShardedAdapter) AddSockets(opts socketio.BroadcastOptions, rooms []string) {
	a.publish(&wire.ClusterMessage{Type: wire.MessageSocketsJoin, Opts: options(opts), Rooms: rooms})
	a.local.AddSockets(opts, rooms)
}

// DelSockets implements socketio.Adapter.
func (a *ShardedAdapter) DelSockets(opts socketio.BroadcastOptions, rooms []string) {
	a.publish(&wire.ClusterMessage{Type: wire.MessageSocketsLeave, Opts: options(opts), Rooms: rooms})
	a.local.DelSockets(opts, rooms)
}

// DisconnectSockets implements socketio.Adapter.
func (a *ShardedAdapter) DisconnectSockets(opts socketio.BroadcastOptions, closeSession bool) {
	a.publish(&wire.ClusterMessage{Type: wire.MessageDisconnectSockets, Opts: options(opts), Close: closeSession})
	a.local.DisconnectSockets(opts, closeSession)
}

// FetchSockets implements socketio.Adapter: the local sockets and those of
// every other node, or ErrTimeout (no partial result) when a node has not
// answered within Options.RequestTimeout or ctx's deadline.
func (a *ShardedAdapter) FetchSockets(ctx context.Context, opts socketio.BroadcastOptions) ([]socketio.SocketInfo, error) {
	out, _ := a.local.FetchSockets(ctx, opts)
	remote, err := a.fetchRemote(ctx, opts)
	if err != nil {
		return nil, err
	}
	for _, fs := range remote {
		out = append(out, socketio.SocketInfo{ID: fs.ID, Rooms: fs.Rooms, Data: dataByOwner(fs.Data)})
	}
	return out, nil
}

// AllSockets implements socketio.Adapter. The sharded protocol has no
// request for ids only: the other nodes are asked to fetch the sockets.
func (a *ShardedAdapter) AllSockets(ctx context.Context, rooms []string) ([]string, error) {
	out := a.local.Sockets(rooms)
	remote, err := a.fetchRemote(ctx, socketio.BroadcastOptions{Rooms: rooms})
	if err != nil {
		return nil, err
	}
	for _, fs := range remote {
		out = append(out, fs.ID)
	}
	return out, nil
}

// fetchRemote asks the other nodes for the sockets opts selects (a
// FETCH_SOCKETS message) and waits for every one of them.
func (a *ShardedAdapter) fetchRemote(ctx context.Context, opts socketio.BroadcastOptions) ([]wire.FetchedSocket, error) {
	ctx, cancel := context.WithTimeout(ctx, a.c.opts.RequestTimeout)
	defer cancel()
	others, err := a.others(ctx)
	if err != nil || others == 0 {
		return nil, err
	}
	got := make(chan []wire.FetchedSocket, others)
	id := wire.NewClusterUID()
	if !a.request(id, func(m *wire.ClusterMessage) {
		if m.Type == wire.MessageFetchSocketsResponse {
			select {
			case got <- m.Sockets:
			default: // more answers than nodes counted: a node joined since
			}
		}
	}) {
		return nil, errClosed
	}
	defer a.forget(id)
	a.publish(&wire.ClusterMessage{Type: wire.MessageFetchSockets, RequestID: id, Opts: options(opts)})
	var out []wire.FetchedSocket
	for range others {
		select {
		case list := <-got:
			out = append(out, list...)
		case <-ctx.Done():
			return nil, ErrTimeout
		}
	}
	return out, nil
}

// ServerSideEmit implements socketio.Adapter, as the classic adapter's.
func (a *ShardedAdapter) ServerSideEmit(name string, args []byte, timeout time.Duration, cb func([][]byte, error)) (bool, error) {
	data, err := eventData(name, args)
	if err != nil {
		return false, err
	}
	if cb == nil {
		a.publish(&wire.ClusterMessage{Type: wire.MessageServerSideEmit, Value: data})
		return false, nil
	}
	if timeout <= 0 {
		timeout = a.c.opts.RequestTimeout
	}
	id := wire.NewClusterUID()
	g := newGather(timeout, cb, func() { a.forget(id) })
	if !a.request(id, func(m *wire.ClusterMessage) {
		if m.Type == wire.MessageServerSideEmitResponse {
			g.add(jsonOrNull(m.Value))
		}
	}) {
		g.finish(errClosed)
		return false, nil
	}
	a.publish(&wire.ClusterMessage{Type: wire.MessageServerSideEmit, RequestID: id, Value: data})
	a.c.async(func(ctx context.Context) {
		ctx, cancel := context.WithTimeout(ctx, min(timeout, a.c.opts.RequestTimeout))
		defer cancel()
		g.expect(a.others(ctx))
	})
	return false, nil
}

// jsonOrNull is v, or null when absent.
func jsonOrNull(v json.RawMessage) []byte {
	if len(v) == 0 {
		return []byte("null")
	}
	return v
}

// BroadcastWithAck implements socketio.Adapter: the local sockets get the
// event now; the other nodes through a BROADCAST with a request id, each
// answering with the number of clients it reached and then with each
// client's answer.
func (a *ShardedAdapter) BroadcastWithAck(opts socketio.BroadcastOptions, b *socketio.AckBroadcast) {
	name, args, atts := b.Event()
	data, err := eventData(name, args)
	if err != nil {
		b.Deliver(a.local.Select(opts))
		return
	}
	wait := b.Timeout()
	if wait <= 0 {
		wait = a.c.opts.RequestTimeout
	}
	id := wire.NewClusterUID()
	if !a.request(id, func(m *wire.ClusterMessage) {
		switch m.Type {
		case wire.MessageBroadcastClientCount:
			b.ServerCount(m.ClientCount)
		case wire.MessageBroadcastAck:
			b.RemoteAnswer(socketio.AckReply{Args: ackArgs(m.Value), Attachments: m.Attachments})
		}
	}) {
		b.Deliver(a.local.Select(opts))
		return
	}
	time.AfterFunc(wait, func() { a.forget(id) })
	wo := options(opts)
	wo.Flags.Timeout, wo.Flags.HasTimeout = wait, true
	a.publish(&wire.ClusterMessage{
		Type:      wire.MessageBroadcast,
		RequestID: id,
		Packet:    wire.Packet{Type: sp.Event, Data: data, Attachments: atts},
		Opts:      wo,
	})
	release := b.Hold()
	b.Deliver(a.local.Select(opts))
	a.c.async(func(ctx context.Context) {
		defer release()
		ctx, cancel := context.WithTimeout(ctx, a.c.opts.RequestTimeout)
		defer cancel()
		others, err := a.others(ctx)
		if err != nil {
			others = 0 // unknown: what came is still bounded by wait
		}
		b.ExpectServers(others, wait)
	})
}

// onMessage handles a message of the namespace's channels.
func (a *ShardedAdapter) onMessage(channel string, payload []byte) {
	m, err := wire.DecodeClusterMessage(payload, a.limits())
	if err != nil {
		a.c.log.Debug().Err(err).Str("channel", truncate(channel, 128)).Msg("message from redis refused")
		return
	}
	if m.UID == a.uid || m.Nsp != a.n.Name() {
		return
	}
	if m.Type.IsResponse() {
		a.mu.Lock()
		handle := a.reqs[m.RequestID]
		a.mu.Unlock()
		if handle != nil {
			handle(&m)
		}
		return
	}
	switch m.Type {
	case wire.MessageBroadcast:
		if m.RequestID != "" {
			a.onBroadcastWithAck(&m)
			return
		}
		name, args, err := sp.SplitEvent(m.Packet.Data)
		if err != nil {
			a.c.log.Debug().Err(err).Msg("broadcast from redis refused")
			return
		}
		p, err := a.n.EncodeEvent(name, args, m.Packet.Attachments)
		if err != nil {
			a.c.log.Debug().Err(err).Msg("broadcast from redis refused")
			return
		}
		a.local.Broadcast(p, selection(m.Opts))
	case wire.MessageSocketsJoin:
		a.local.AddSockets(selection(m.Opts), m.Rooms)
	case wire.MessageSocketsLeave:
		a.local.DelSockets(selection(m.Opts), m.Rooms)
	case wire.MessageDisconnectSockets:
		a.local.DisconnectSockets(selection(m.Opts), m.Close)
	case wire.MessageFetchSockets:
		a.respond(m.UID, &wire.ClusterMessage{
			Type:      wire.MessageFetchSocketsResponse,
			RequestID: m.RequestID,
			Sockets:   fetchedSockets(a.n, a.local, selection(m.Opts)),
		})
	case wire.MessageServerSideEmit:
		a.onServerSideEmit(&m)
	}
}

// onServerSideEmit hands another node's server-side event to the
// namespace; an answer, when expected, goes back to that node.
func (a *ShardedAdapter) onServerSideEmit(m *wire.ClusterMessage) {
	name, args, err := sp.SplitEvent(m.Value)
	if err != nil {
		a.c.log.Debug().Err(err).Msg("server-side event from redis refused")
		return
	}
	var ack func([]byte)
	if m.RequestID != "" {
		var once sync.Once
		from, id := m.UID, m.RequestID
		ack = func(answer []byte) {
			once.Do(func() {
				a.respond(from, &wire.ClusterMessage{Type: wire.MessageServerSideEmitResponse, RequestID: id, Value: answer})
			})
		}
	}
	a.n.ServerEvent(name, args, ack)
}

// onBroadcastWithAck serves another node's broadcast with acks.
func (a *ShardedAdapter) onBroadcastWithAck(m *wire.ClusterMessage) {
	from, id := m.UID, m.RequestID
	serveAcks(a.n, a.local, m.Packet, m.Opts, a.c.opts.RequestTimeout, func(count int) {
		a.respond(from, &wire.ClusterMessage{Type: wire.MessageBroadcastClientCount, RequestID: id, ClientCount: count})
	}, func(packet json.RawMessage, atts [][]byte) {
		a.respond(from, &wire.ClusterMessage{Type: wire.MessageBroadcastAck, RequestID: id, Value: packet, Attachments: atts})
	})
}

// roomSubs keeps the room channels of the sharded adapters subscribed
// while their rooms have local members. Adapters mark rooms whose
// membership changed; one goroutine of the cluster (workRooms) looks at
// each marked room once, reading then the membership the namespace's
// current adapter has (a dynamic namespace may be made again, with a new
// adapter, while the old one closes), and subscribes or unsubscribes the
// channel: joins and leaves never wait for Redis, and the last change of a
// room always wins.
type roomSubs struct {
	mu     sync.Mutex
	marked map[roomKey]struct{}
	subbed map[string]bool // channels subscribed; workRooms' own
	ready  chan struct{}   // cap 1
}

type roomKey struct {
	nsp, room string
}

func (r *roomSubs) init() {
	r.marked = make(map[roomKey]struct{})
	r.subbed = make(map[string]bool)
	r.ready = make(chan struct{}, 1)
}

// touch marks rooms of a's namespace.
func (r *roomSubs) touch(a *ShardedAdapter, rooms []string) {
	if len(rooms) == 0 {
		return
	}
	r.mu.Lock()
	for _, room := range rooms {
		r.marked[roomKey{a.n.Name(), room}] = struct{}{}
	}
	r.mu.Unlock()
	select {
	case r.ready <- struct{}{}:
	default:
	}
}

// forget marks every room of a closed adapter.
func (r *roomSubs) forget(a *ShardedAdapter) { r.touch(a, a.local.Rooms()) }

// workRooms applies the marks of c.rooms until the cluster closes.
func (c *Cluster) workRooms() {
	defer c.wg.Done()
	r := &c.rooms
	for {
		select {
		case <-r.ready:
		case <-c.ctx.Done():
			return
		}
		r.mu.Lock()
		marked := r.marked
		r.marked = make(map[roomKey]struct{})
		r.mu.Unlock()
		var sub, unsub []string
		c.mu.Lock()
		for k := range marked {
			ch := wire.ShardedRoomChannel(c.opts.Key, k.nsp, k.room)
			owner := c.current[k.nsp]
			wanted := false
			if owner != nil {
				owner.mu.Lock()
				closed := owner.closed
				owner.mu.Unlock()
				_, has := owner.roomChannel(k.room)
				wanted = has && !closed && owner.local.RoomSize(k.room) > 0
			}
			switch {
			case wanted:
				c.channels[ch] = route{s: owner, kind: routeSharded}
				if !r.subbed[ch] {
					r.subbed[ch] = true
					sub = append(sub, ch)
				}
			case r.subbed[ch]:
				delete(c.channels, ch)
				delete(r.subbed, ch)
				unsub = append(unsub, ch)
			}
		}
		c.mu.Unlock()
		// A failure is not final: go-redis keeps the channel list and
		// subscribes it again when it reconnects.
		ctx, cancel := context.WithTimeout(c.ctx, c.opts.RequestTimeout)
		if len(unsub) > 0 {
			_ = c.ps.SUnsubscribe(ctx, unsub...)
		}
		if len(sub) > 0 {
			_ = c.ps.SSubscribe(ctx, sub...)
		}
		cancel()
	}
}
