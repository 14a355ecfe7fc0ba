package socketio

import (
	"sync"

	"github.com/sockwasm/sockwasm/host/engineio"
	sp "github.com/sockwasm/sockwasm/protocol/socketio"
)

// Namespace is one Socket.IO namespace.
type Namespace struct {
	name    string
	srv     *Server
	h       handlerPtr
	adapter Adapter
	dynamic bool // made by the resolver: removed once empty

	mu      sync.RWMutex
	sockets map[string]*Socket
	removed bool // no longer served: a socket must not be added
}

func (n *Namespace) handler() NamespaceHandler { return *n.h.Load() }

// Name returns the namespace name, e.g. "/".
func (n *Namespace) Name() string { return n.name }

// Adapter returns the namespace's room adapter.
func (n *Namespace) Adapter() Adapter { return n.adapter }

// Len returns the number of sockets connected to this namespace (this node).
func (n *Namespace) Len() int {
	n.mu.RLock()
	defer n.mu.RUnlock()
	return len(n.sockets)
}

// RoomSize returns the number of sockets in room, as the adapter knows it.
func (n *Namespace) RoomSize(room string) int { return n.adapter.RoomSize(room) }

// Socket returns a connected socket by id, or nil.
func (n *Namespace) Socket(id string) *Socket {
	n.mu.RLock()
	defer n.mu.RUnlock()
	return n.sockets[id]
}

// add adds s to n; false when n has been removed meanwhile (an empty
// dynamic namespace).
func (n *Namespace) add(s *Socket) bool {
	n.mu.Lock()
	if n.removed {
		n.mu.Unlock()
		return false
	}
	n.sockets[s.id] = s
	n.mu.Unlock()
	n.adapter.AddAll(s.id, []string{s.id})
	return true
}

func (n *Namespace) remove(s *Socket) {
	n.mu.Lock()
	if n.sockets[s.id] == s {
		delete(n.sockets, s.id)
	}
	empty := len(n.sockets) == 0
	n.mu.Unlock()
	if empty {
		n.srv.removeIfEmpty(n)
	}
}

// EncodeEvent encodes an EVENT (BINARY_EVENT when atts is not empty) of
// this namespace with name and args, a JSON array whose placeholders refer
// to atts. The packet can be delivered to any number of sockets.
func (n *Namespace) EncodeEvent(name string, args []byte, atts [][]byte) (*Packet, error) {
	text, err := n.encodeEvent(name, args, atts, 0, false)
	if err != nil {
		return nil, err
	}
	return &Packet{Text: text, Binary: n.srv.opts.Parser == ParserMsgpack, Attachments: atts, Name: name, Args: args}, nil
}

func (n *Namespace) encodeEvent(name string, args []byte, atts [][]byte, id uint64, hasID bool) ([]byte, error) {
	if err := n.checkArgs(args); err != nil {
		return nil, err
	}
	if len(atts) > n.srv.opts.MaxAttachments {
		return nil, ErrTooManyAttachments
	}
	if n.srv.opts.Parser == ParserMsgpack {
		data, err := sp.AppendEventData(make([]byte, 0, len(name)+len(args)+8), name, args)
		if err != nil {
			return nil, err
		}
		return n.srv.encode(&sp.Packet{Type: sp.Event, Namespace: n.name, ID: id, HasID: hasID, Data: data, Attachments: atts})
	}
	t := sp.Event
	if len(atts) > 0 {
		t = sp.BinaryEvent
	}
	buf := make([]byte, 0, 24+len(n.name)+len(name)+len(args))
	buf = sp.AppendHeader(buf, sp.Header{Type: t, Namespace: n.name, Attachments: len(atts), ID: id, HasID: hasID})
	return sp.AppendEventData(buf, name, args)
}

// checkArgs accepts nil or a valid JSON array (strings valid UTF-8).
func (n *Namespace) checkArgs(args []byte) error {
	if len(args) == 0 {
		return nil
	}
	if sp.Validate(args, n.srv.opts.MaxDepth) != nil {
		return ErrInvalidArgs
	}
	for _, c := range args {
		if c == '[' {
			return nil
		}
		if c != ' ' && c != '\t' && c != '\n' && c != '\r' {
			break
		}
	}
	return ErrInvalidArgs
}

// Broadcast emits event name with args (a JSON array) and attachments to
// the sockets opts selects, encoding the packet once. It fails only when
// args is not a JSON array.
func (n *Namespace) Broadcast(opts BroadcastOptions, name string, args []byte, atts [][]byte) error {
	p, err := n.EncodeEvent(name, args, atts)
	if err != nil {
		return err
	}
	n.srv.broadcasts.Add(1)
	n.adapter.Broadcast(p, opts)
	return nil
}

// Deliver queues p on the sessions of the local sockets with the given
// ids (unknown ids are skipped). The same messages are handed to every
// session; no lock is held while queueing. Adapters call it to deliver a
// broadcast.
func (n *Namespace) Deliver(p *Packet, ids []string) { n.deliver(p, ids, false) }

// DeliverVolatile is Deliver for a volatile broadcast: sessions that are
// not writable right now (engineio.Session.Writable: a backlog is queued,
// or the transport is being upgraded) are skipped.
func (n *Namespace) DeliverVolatile(p *Packet, ids []string) { n.deliver(p, ids, true) }

func (n *Namespace) deliver(p *Packet, ids []string, volatile bool) {
	if len(ids) == 0 {
		return
	}
	socks := make([]*Socket, 0, len(ids))
	n.mu.RLock()
	for _, id := range ids {
		if s := n.sockets[id]; s != nil {
			socks = append(socks, s)
		}
	}
	n.mu.RUnlock()
	var msgs []engineio.Message
	if len(p.Attachments) == 0 && !p.Binary {
		msgs = []engineio.Message{{Data: p.Text}}
	} else {
		msgs = p.Messages()
	}
	queued, dropped := 0, 0
	for _, s := range socks {
		if !s.connected.Load() {
			continue
		}
		if volatile && !s.c.es.Writable() {
			dropped++
			continue
		}
		if err := s.c.es.Send(msgs...); err != nil {
			s.c.log.Debug().Err(err).Str("nsp", n.name).Msg("broadcast not queued")
			continue
		}
		queued++
	}
	n.srv.countDeliveries(queued, dropped)
}

// CountByTransport returns the number of the namespace's sockets on each
// transport ("polling", "websocket").
func (n *Namespace) CountByTransport() map[string]int {
	n.mu.RLock()
	socks := make([]*Socket, 0, len(n.sockets))
	for _, s := range n.sockets {
		socks = append(socks, s)
	}
	n.mu.RUnlock()
	out := make(map[string]int, 2)
	for _, s := range socks {
		out[s.Transport()]++
	}
	return out
}

// RoomCount returns the number of rooms the namespace's local sockets are
// in (their own id rooms included), or -1 when its adapter cannot tell.
func (n *Namespace) RoomCount() int {
	if a, ok := n.adapter.(interface{ Rooms() []string }); ok {
		return len(a.Rooms())
	}
	return -1
}
