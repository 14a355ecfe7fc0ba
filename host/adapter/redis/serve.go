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

// What both adapters (classic and sharded) do with another node's
// requests, and with the answers to their own.

// fetchedSockets describes the local sockets opts selects, for another
// node's fetchSockets.
func fetchedSockets(n *socketio.Namespace, local *socketio.MemoryAdapter, opts socketio.BroadcastOptions) []wire.FetchedSocket {
	infos, _ := local.FetchSockets(context.Background(), opts)
	out := make([]wire.FetchedSocket, 0, len(infos))
	for _, si := range infos {
		s := n.Socket(si.ID)
		if s == nil {
			continue
		}
		out = append(out, wire.FetchedSocket{ID: si.ID, Handshake: s.HandshakeJSON(), Rooms: si.Rooms, Data: socketio.JoinData(si.Data)})
	}
	return out
}

// serveAcks serves another node's broadcast with acks: the local sockets
// opts selects get the event; count is called with their number, then
// answer with each client's answer (its first argument), in that order.
// The wait is the broadcast's own timeout (at most maxAckWait), else def.
func serveAcks(n *socketio.Namespace, local *socketio.MemoryAdapter, packet wire.Packet, opts wire.BroadcastOptions, def time.Duration,
	count func(int), answer func(json.RawMessage, [][]byte)) {
	name, args, err := sp.SplitEvent(packet.Data)
	if err != nil {
		return
	}
	timeout := def
	if opts.Flags.HasTimeout && opts.Flags.Timeout > 0 {
		timeout = min(opts.Flags.Timeout, maxAckWait)
	}
	// Answers that come before the count is sent wait for it.
	var mu sync.Mutex
	counted := false
	var early []socketio.AckReply
	send := func(rep socketio.AckReply) {
		answer(firstArg(rep))
	}
	k, err := n.EmitWithAckTo(local.Select(selection(opts)), name, args, packet.Attachments, timeout, opts.Flags.Volatile, func(rep socketio.AckReply) {
		mu.Lock()
		if !counted {
			early = append(early, rep)
			mu.Unlock()
			return
		}
		mu.Unlock()
		send(rep)
	})
	if err != nil {
		k = 0
	}
	count(k)
	mu.Lock()
	counted = true
	pending := early
	early = nil
	mu.Unlock()
	for _, rep := range pending {
		send(rep)
	}
}

// gather collects the other nodes' answers to one server-side emit with
// acks: cb gets them once every node counted has answered, or those
// received with ErrTimeout at the timeout, or none with the error of the
// count. cb is called once; then done (which forgets the request).
type gather struct {
	mu       sync.Mutex
	answers  [][]byte
	expected int // -1 until counted
	finished bool
	timer    *time.Timer
	cb       func([][]byte, error)
	done     func()
}

func newGather(timeout time.Duration, cb func([][]byte, error), done func()) *gather {
	g := &gather{expected: -1, cb: cb, done: done}
	g.mu.Lock() // finish reads the timer under mu
	g.timer = time.AfterFunc(timeout, func() { g.finish(ErrTimeout) })
	g.mu.Unlock()
	return g
}

// finish ends the gathering with err, once.
func (g *gather) finish(err error) {
	g.mu.Lock()
	if g.finished {
		g.mu.Unlock()
		return
	}
	g.finished = true
	got := g.answers
	timer := g.timer
	g.mu.Unlock()
	timer.Stop()
	g.done()
	g.cb(got, err)
}

// complete reports whether every node counted has answered.
func (g *gather) complete() bool { return g.expected >= 0 && len(g.answers) >= g.expected }

// add takes one node's answer.
func (g *gather) add(answer []byte) {
	g.mu.Lock()
	g.answers = append(g.answers, answer)
	all := g.complete()
	g.mu.Unlock()
	if all {
		g.finish(nil)
	}
}

// expect sets the number of nodes that will answer, or fails the
// gathering with err.
func (g *gather) expect(n int, err error) {
	if err != nil {
		g.finish(err)
		return
	}
	g.mu.Lock()
	g.expected = n
	all := g.complete()
	g.mu.Unlock()
	if all {
		g.finish(nil)
	}
}
