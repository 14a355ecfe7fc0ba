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

// Adapter is one namespace's adapter in a cluster: rooms are kept locally
// (socketio.MemoryAdapter), broadcasts and room operations are applied
// locally at once and published for the other nodes, and what other nodes
// publish is applied to the local sockets.
type Adapter struct {
	c     *Cluster
	n     *socketio.Namespace
	local *socketio.MemoryAdapter
	uid   string

	// The namespace's channels.
	pattern, request, response, specific string
}

// limits bounds what the adapter decodes from other nodes: the Socket.IO
// server's own bounds on attachments and nesting.
func (a *Adapter) limits() wire.Limits {
	return wire.Limits{MaxDepth: sp.DefaultMaxDepth, MaxAttachments: a.c.opts.MaxAttachments}
}

// AddAll implements socketio.Adapter.
func (a *Adapter) AddAll(id string, rooms []string) { a.local.AddAll(id, rooms) }

// Del implements socketio.Adapter.
func (a *Adapter) Del(id, room string) { a.local.Del(id, room) }

// DelAll implements socketio.Adapter.
func (a *Adapter) DelAll(id string) { a.local.DelAll(id) }

// SocketRooms implements socketio.Adapter.
func (a *Adapter) SocketRooms(id string) []string { return a.local.SocketRooms(id) }

// SocketRoomCount implements socketio.Adapter.
func (a *Adapter) SocketRoomCount(id string) int { return a.local.SocketRoomCount(id) }

// RoomSize implements socketio.Adapter: the local members only.
func (a *Adapter) RoomSize(room string) int { return a.local.RoomSize(room) }

// Sockets implements socketio.Adapter: the local sockets only.
func (a *Adapter) Sockets(rooms []string) []string { return a.local.Sockets(rooms) }

// Close implements socketio.Adapter: the namespace's channels are
// unsubscribed.
func (a *Adapter) Close() error {
	a.c.unsubscribe(a)
	return nil
}

// options converts socketio's selection to the wire's.
func options(o socketio.BroadcastOptions) wire.BroadcastOptions {
	return wire.BroadcastOptions{Rooms: o.Rooms, Except: o.Except, Flags: wire.Flags{Volatile: o.Volatile}}
}

// selection converts the wire's selection to socketio's.
func selection(o wire.BroadcastOptions) socketio.BroadcastOptions {
	return socketio.BroadcastOptions{Rooms: o.Rooms, Except: o.Except, Volatile: o.Flags.Volatile}
}

// eventData returns the packet data [name, ...args] of an event.
func eventData(name string, args []byte) ([]byte, error) {
	return sp.AppendEventData(make([]byte, 0, len(name)+len(args)+8), name, args)
}

// Broadcast implements socketio.Adapter: delivered to the local sockets
// now, published for the other nodes (on the room's channel when there is
// exactly one room, as the reference does).
func (a *Adapter) Broadcast(p *socketio.Packet, opts socketio.BroadcastOptions) {
	a.local.Broadcast(p, opts)
	data, err := eventData(p.Name, p.Args)
	if err != nil {
		a.c.log.Debug().Err(err).Msg("broadcast not published")
		return
	}
	msg, err := wire.AppendBroadcast(nil, &wire.Broadcast{
		UID:    a.uid,
		Packet: wire.Packet{Type: sp.Event, Nsp: a.n.Name(), Data: data, Attachments: p.Attachments},
		Opts:   options(opts),
	})
	if err != nil {
		a.c.log.Debug().Err(err).Msg("broadcast not published")
		return
	}
	a.c.enqueue(wire.PublishChannel(a.c.opts.Key, a.n.Name(), opts.Rooms), msg)
}

// onBroadcast delivers another node's broadcast to the local sockets.
func (a *Adapter) onBroadcast(channel string, payload []byte) {
	b, err := wire.DecodeBroadcast(payload, a.limits())
	if err != nil {
		a.c.log.Debug().Err(err).Str("channel", truncate(channel, 128)).Msg("broadcast from redis refused")
		return
	}
	if b.UID == a.uid || b.Opts.Flags.Local {
		return
	}
	// A single-room broadcast comes on the room's channel; the namespace's
	// own channel (room "") carries every other broadcast.
	if room, ok := wire.ChannelRoom(a.c.opts.Key, a.n.Name(), channel); ok && room != "" && a.local.RoomSize(room) == 0 {
		return // no local member: nothing to do
	}
	name, args, err := sp.SplitEvent(b.Packet.Data)
	if err != nil {
		a.c.log.Debug().Err(err).Msg("broadcast from redis refused")
		return
	}
	p, err := a.n.EncodeEvent(name, args, b.Packet.Attachments)
	if err != nil {
		a.c.log.Debug().Err(err).Msg("broadcast from redis refused")
		return
	}
	a.local.Broadcast(p, selection(b.Opts))
}

// publishRequest publishes a request on the namespace's request channel.
func (a *Adapter) publishRequest(req wire.Request) {
	msg, err := wire.AppendRequest(nil, req)
	if err != nil {
		a.c.log.Debug().Err(err).Stringer("type", req.RequestType()).Msg("request not published")
		return
	}
	a.c.enqueue(a.request, msg)
}

// publishResponse publishes a response on the namespace's response
// channel.
func (a *Adapter) publishResponse(resp wire.Response) {
	msg, err := wire.AppendResponse(nil, resp)
	if err != nil {
		a.c.log.Debug().Err(err).Msg("response not published")
		return
	}
	a.c.enqueue(a.response, msg)
}

// AddSockets implements socketio.Adapter: applied here now, and on the
// other nodes through Redis.
func (a *Adapter) AddSockets(opts socketio.BroadcastOptions, rooms []string) {
	a.local.AddSockets(opts, rooms)
	a.publishRequest(&wire.JoinRequest{UID: a.uid, Opts: options(opts), Rooms: rooms})
}

// DelSockets implements socketio.Adapter.
func (a *Adapter) DelSockets(opts socketio.BroadcastOptions, rooms []string) {
	a.local.DelSockets(opts, rooms)
	a.publishRequest(&wire.LeaveRequest{UID: a.uid, Opts: options(opts), Rooms: rooms})
}

// DisconnectSockets implements socketio.Adapter.
func (a *Adapter) DisconnectSockets(opts socketio.BroadcastOptions, closeSession bool) {
	a.local.DisconnectSockets(opts, closeSession)
	a.publishRequest(&wire.DisconnectRequest{UID: a.uid, Opts: options(opts), Close: closeSession})
}

// FetchSockets implements socketio.Adapter: the local sockets and those of
// every other node serving the namespace. As the reference does, it fails
// (ErrTimeout, no partial result) when a node has not answered within
// Options.RequestTimeout or ctx's deadline.
func (a *Adapter) FetchSockets(ctx context.Context, opts socketio.BroadcastOptions) ([]socketio.SocketInfo, error) {
	out, _ := a.local.FetchSockets(ctx, opts)
	ctx, cancel := context.WithTimeout(ctx, a.c.opts.RequestTimeout)
	defer cancel()
	others, err := a.others(ctx)
	if err != nil || others == 0 {
		return out, err
	}
	id := wire.NewRequestID()
	got := make(chan []wire.FetchedSocket, others)
	r := a.c.register(id, func(resp wire.Response) bool {
		if sr, ok := resp.(*wire.SocketsResponse); ok {
			select {
			case got <- sr.Sockets:
			default: // more answers than nodes counted: a node joined since
			}
		}
		return false
	})
	defer a.c.forget(id)
	a.publishRequest(&wire.FetchSocketsRequest{UID: a.uid, RequestID: id, Opts: options(opts)})
	for range others {
		select {
		case list := <-got:
			for _, fs := range list {
				out = append(out, socketio.SocketInfo{ID: fs.ID, Rooms: fs.Rooms, Data: dataByOwner(fs.Data)})
			}
		case <-ctx.Done():
			return nil, ErrTimeout
		case err := <-r.done:
			return nil, err
		}
	}
	return out, nil
}

// AllSockets implements socketio.Adapter: the ids of the local sockets in
// any of rooms and of those of every other node serving the namespace (a
// SOCKETS request), or ErrTimeout / ErrUnavailable.
func (a *Adapter) AllSockets(ctx context.Context, rooms []string) ([]string, error) {
	out := a.local.Sockets(rooms)
	ctx, cancel := context.WithTimeout(ctx, a.c.opts.RequestTimeout)
	defer cancel()
	others, err := a.others(ctx)
	if err != nil || others == 0 {
		return out, err
	}
	id := wire.NewRequestID()
	got := make(chan []string, others)
	r := a.c.register(id, func(resp wire.Response) bool {
		if sr, ok := resp.(*wire.SocketsResponse); ok {
			select {
			case got <- sr.SocketIDs:
			default:
			}
		}
		return false
	})
	defer a.c.forget(id)
	a.publishRequest(&wire.SocketsRequest{UID: a.uid, RequestID: id, Rooms: rooms})
	for range others {
		select {
		case ids := <-got:
			out = append(out, ids...)
		case <-ctx.Done():
			return nil, ErrTimeout
		case err := <-r.done:
			return nil, err
		}
	}
	return out, nil
}

// ServerSideEmit implements socketio.Adapter: a SERVER_SIDE_EMIT request
// to the other nodes (JSON, as the reference sends it). With cb, each node
// answers once on the response channel; cb gets the answers when every
// node counted by NUMSUB has answered, or those received and ErrTimeout at
// timeout (Options.RequestTimeout when not set); with no other node, none
// and no error; with Redis away, none and ErrUnavailable. It never waits
// for Redis: the count is asked for in the background.
func (a *Adapter) ServerSideEmit(name string, args []byte, timeout time.Duration, cb func([][]byte, error)) (bool, error) {
	data, err := eventData(name, args)
	if err != nil {
		return false, err
	}
	if cb == nil {
		a.publishRequest(&wire.ServerSideEmitRequest{UID: a.uid, Data: data})
		return false, nil
	}
	if timeout <= 0 {
		timeout = a.c.opts.RequestTimeout
	}
	id := wire.NewRequestID()
	g := newGather(timeout, cb, func() { a.c.forget(id) })
	a.c.register(id, func(resp wire.Response) bool {
		if r, ok := resp.(*wire.ServerSideEmitResponse); ok {
			g.add([]byte(r.Data))
		}
		return false
	})
	a.publishRequest(&wire.ServerSideEmitRequest{UID: a.uid, RequestID: id, Data: data})
	a.c.async(func(ctx context.Context) {
		ctx, cancel := context.WithTimeout(ctx, min(timeout, a.c.opts.RequestTimeout))
		defer cancel()
		g.expect(a.others(ctx))
	})
	return false, nil
}

// onServerSideEmit hands another node's server-side event to the
// namespace; an answer, when expected, goes to the response channel.
func (a *Adapter) onServerSideEmit(r *wire.ServerSideEmitRequest) {
	if r.UID == a.uid {
		return
	}
	name, args, err := sp.SplitEvent(r.Data)
	if err != nil {
		a.c.log.Debug().Err(err).Msg("server-side event from redis refused")
		return
	}
	var ack func([]byte)
	if r.RequestID != "" {
		var once sync.Once
		ack = func(answer []byte) {
			once.Do(func() {
				a.publishResponse(&wire.ServerSideEmitResponse{RequestID: r.RequestID, Data: answer})
			})
		}
	}
	a.n.ServerEvent(name, args, ack)
}

// others returns how many other nodes serve the namespace.
func (a *Adapter) others(ctx context.Context) (int, error) {
	n, err := a.c.numSub(ctx, a.request)
	if err != nil {
		return 0, ErrUnavailable
	}
	return max(n-1, 0), nil
}

// dataByOwner splits a remote socket's data, a JSON object, into the
// per-owner data of socketio.SocketInfo; other values have no owner.
func dataByOwner(raw json.RawMessage) map[string][]byte {
	var m map[string]json.RawMessage
	if len(raw) == 0 || raw[0] != '{' || json.Unmarshal(raw, &m) != nil || len(m) == 0 {
		return nil
	}
	out := make(map[string][]byte, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

// BroadcastWithAck implements socketio.Adapter: the local sockets get the
// event now; the other nodes through a request, each answering with the
// number of clients it reached and then with each client's answer.
func (a *Adapter) BroadcastWithAck(opts socketio.BroadcastOptions, b *socketio.AckBroadcast) {
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
	id := wire.NewRequestID()
	a.c.register(id, func(resp wire.Response) bool {
		switch r := resp.(type) {
		case *wire.ClientCountResponse:
			b.ServerCount(r.ClientCount)
		case *wire.BroadcastAckResponse:
			b.RemoteAnswer(socketio.AckReply{Args: ackArgs(r.Packet), Attachments: r.Attachments})
		}
		return false
	})
	time.AfterFunc(wait, func() { a.c.forget(id) })
	wo := options(opts)
	wo.Flags.Timeout, wo.Flags.HasTimeout = wait, true
	a.publishRequest(&wire.BroadcastRequest{
		UID:       a.uid,
		RequestID: id,
		Packet:    wire.Packet{Type: sp.Event, Nsp: a.n.Name(), Data: data, Attachments: atts},
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

// ackArgs makes a client's answer, as type 9 carries it (its first
// argument, or nothing), the JSON array of a socketio.AckReply.
func ackArgs(packet json.RawMessage) []byte {
	if len(packet) == 0 {
		return []byte("[]")
	}
	out := make([]byte, 0, len(packet)+2)
	out = append(out, '[')
	out = append(out, packet...)
	return append(out, ']')
}

// onRequest answers or applies another node's request.
func (a *Adapter) onRequest(payload []byte) {
	req, err := wire.DecodeRequest(payload, a.limits())
	if err != nil {
		a.c.log.Debug().Err(err).Msg("request from redis refused")
		return
	}
	switch r := req.(type) {
	case *wire.SocketsRequest:
		if a.c.ours(r.RequestID) {
			return
		}
		a.publishResponse(&wire.SocketsResponse{RequestID: r.RequestID, SocketIDs: nonNil(a.local.Sockets(r.Rooms))})
	case *wire.AllRoomsRequest:
		if a.c.ours(r.RequestID) {
			return
		}
		a.publishResponse(&wire.AllRoomsResponse{RequestID: r.RequestID, Rooms: nonNil(a.local.Rooms())})
	case *wire.JoinRequest:
		if r.UID != a.uid {
			a.local.AddSockets(selection(r.Opts), r.Rooms)
		}
	case *wire.LeaveRequest:
		if r.UID != a.uid {
			a.local.DelSockets(selection(r.Opts), r.Rooms)
		}
	case *wire.DisconnectRequest:
		if r.UID != a.uid {
			a.local.DisconnectSockets(selection(r.Opts), r.Close)
		}
	case *wire.LegacyRequest:
		a.onLegacy(r)
	case *wire.FetchSocketsRequest:
		if a.c.ours(r.RequestID) {
			return
		}
		a.publishResponse(&wire.SocketsResponse{RequestID: r.RequestID, Sockets: a.fetched(selection(r.Opts))})
	case *wire.ServerSideEmitRequest:
		a.onServerSideEmit(r)
	case *wire.BroadcastRequest:
		if a.c.ours(r.RequestID) {
			return
		}
		a.onBroadcastWithAck(r)
	}
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// fetched describes the local sockets opts selects for another node.
func (a *Adapter) fetched(opts socketio.BroadcastOptions) []wire.FetchedSocket {
	return fetchedSockets(a.n, a.local, opts)
}

// onLegacy serves a request of adapters before 8.0 naming one socket.
func (a *Adapter) onLegacy(r *wire.LegacyRequest) {
	s := a.n.Socket(r.SID)
	if s == nil {
		return
	}
	switch r.Type {
	case wire.TypeRemoteJoin:
		if s.Join(r.Room) != nil {
			return
		}
	case wire.TypeRemoteLeave:
		s.Leave(r.Room)
	case wire.TypeRemoteDisconnect:
		s.Schedule(func() { s.Disconnect(r.Close) })
	}
	a.publishResponse(&wire.LegacyResponse{RequestID: r.RequestID})
}

// onBroadcastWithAck serves another node's broadcast with acks: the
// local sockets get the event, the requester their number, then each
// answer, in that order.
func (a *Adapter) onBroadcastWithAck(r *wire.BroadcastRequest) {
	serveAcks(a.n, a.local, r.Packet, r.Opts, a.c.opts.RequestTimeout, func(count int) {
		a.publishResponse(&wire.ClientCountResponse{RequestID: r.RequestID, ClientCount: count})
	}, func(packet json.RawMessage, atts [][]byte) {
		a.publishResponse(&wire.BroadcastAckResponse{RequestID: r.RequestID, Packet: packet, Attachments: atts})
	})
}

// maxAckWait bounds how long this node keeps another node's broadcast
// with acks open, whatever timeout it asks for.
const maxAckWait = 10 * time.Minute

// firstArg returns the first argument of a client's answer, which is what
// the reference adapter passes back. Its placeholders keep their numbers:
// the attachments go along whole.
func firstArg(rep socketio.AckReply) (json.RawMessage, [][]byte) {
	var args []json.RawMessage
	if json.Unmarshal(rep.Args, &args) != nil || len(args) == 0 {
		return nil, nil
	}
	return args[0], rep.Attachments
}

// Rooms returns the rooms of this node's sockets.
func (a *Adapter) Rooms() []string { return a.local.Rooms() }
