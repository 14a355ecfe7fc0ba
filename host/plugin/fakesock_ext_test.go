package plugin

import (
	"context"
	"slices"
	"time"

	"github.com/sockwasm/sockwasm/host/socketio"
)

// The socketExt half of the fake socket (helpers_test.go).

func (s *fakeSock) Handshake() []byte {
	return []byte(`{"headers":{"user-agent":"test"},"query":{"EIO":"4"},"address":"127.0.0.1","issued":1700000000000,"secure":false,"xdomain":false,"url":"/socket.io/?EIO=4","auth":` + string(s.Auth()) + `}`)
}

func (s *fakeSock) Data() []byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.data
}

func (s *fakeSock) SetData(b []byte) {
	s.mu.Lock()
	s.data = append([]byte(nil), b...)
	if len(b) == 0 {
		s.data = nil
	}
	s.mu.Unlock()
}

func (s *fakeSock) BroadcastWithAck(opts socketio.BroadcastOptions, name string, args []byte, atts [][]byte, timeout time.Duration, cb func([]socketio.AckReply, error)) (bool, error) {
	if err := checkArgs(args); err != nil {
		return false, err
	}
	s.ns.mu.Lock()
	s.ns.out = append(s.ns.out, sent{kind: "broadcastack", name: name, args: string(args), atts: atts, rooms: opts.Rooms, except: opts.Except})
	s.ns.bcastAck = cb
	s.ns.mu.Unlock()
	return false, nil
}

// selectLocked returns the sorted ids opts selects; ns.mu must be held.
func (ns *fakeNS) selectLocked(opts socketio.BroadcastOptions) []string {
	var ids []string
	for id := range ns.socks {
		in := len(opts.Rooms) == 0
		for _, r := range opts.Rooms {
			in = in || ns.rooms[r][id]
		}
		for _, r := range opts.Except {
			in = in && !ns.rooms[r][id]
		}
		if in {
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	return ids
}

func (s *fakeSock) FetchSockets(_ context.Context, opts socketio.BroadcastOptions) ([]socketInfo, error) {
	s.ns.mu.Lock()
	ids := s.ns.selectLocked(opts)
	socks := make([]*fakeSock, len(ids))
	for i, id := range ids {
		socks[i] = s.ns.socks[id]
	}
	s.ns.mu.Unlock()
	out := make([]socketInfo, len(socks))
	for i, fs := range socks {
		out[i] = socketInfo{ID: fs.id, Rooms: fs.Rooms(), Data: fs.Data()}
	}
	return out, nil
}

func (s *fakeSock) SocketsJoin(opts socketio.BroadcastOptions, rooms []string) error {
	s.ns.mu.Lock()
	ids := s.ns.selectLocked(opts)
	s.ns.mu.Unlock()
	for _, id := range ids {
		for _, r := range rooms {
			_ = s.ns.socks[id].Join(r)
		}
	}
	return nil
}

func (s *fakeSock) SocketsLeave(opts socketio.BroadcastOptions, rooms []string) {
	s.ns.mu.Lock()
	ids := s.ns.selectLocked(opts)
	s.ns.mu.Unlock()
	for _, id := range ids {
		for _, r := range rooms {
			s.ns.socks[id].Leave(r)
		}
	}
}

func (s *fakeSock) DisconnectSockets(opts socketio.BroadcastOptions, closeSession bool) {
	s.ns.mu.Lock()
	s.ns.kicked = append(s.ns.kicked, opts)
	s.ns.mu.Unlock()
}

// Schedule runs f at once, on the caller's goroutine: the tests drive one
// call at a time.
func (s *fakeSock) Schedule(f func()) { f() }
