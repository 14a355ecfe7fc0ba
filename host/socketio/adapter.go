package socketio

import "sync"

// MemoryAdapter keeps one namespace's rooms in memory: the default
// Adapter, and the local part of adapters that share rooms with other
// servers.
type MemoryAdapter struct {
	n *Namespace

	mu    sync.RWMutex
	rooms map[string]map[string]struct{} // room → socket ids
	sids  map[string]map[string]struct{} // socket id → rooms
}

// NewMemoryAdapter returns the in-memory adapter of n, the default of
// Options.NewAdapter: rooms of this node only, guarded by a RWMutex that
// is never held while writing to a session.
func NewMemoryAdapter(n *Namespace) Adapter { return NewLocalAdapter(n) }

// NewLocalAdapter returns n's in-memory adapter as its concrete type, for
// adapters built on it.
func NewLocalAdapter(n *Namespace) *MemoryAdapter {
	return &MemoryAdapter{
		n:     n,
		rooms: make(map[string]map[string]struct{}),
		sids:  make(map[string]map[string]struct{}),
	}
}

// AddAll implements Adapter.
func (a *MemoryAdapter) AddAll(id string, rooms []string) {
	o := a.observer()
	var joined []string
	a.mu.Lock()
	mine := a.sids[id]
	if mine == nil {
		mine = make(map[string]struct{}, len(rooms))
		a.sids[id] = mine
	}
	for _, r := range rooms {
		if _, in := mine[r]; !in && o != nil {
			joined = append(joined, r)
		}
		mine[r] = struct{}{}
		members := a.rooms[r]
		if members == nil {
			members = make(map[string]struct{})
			a.rooms[r] = members
		}
		members[id] = struct{}{}
	}
	a.mu.Unlock()
	for _, r := range joined {
		o.Joined(a.n, r, id)
	}
}

// Del implements Adapter.
func (a *MemoryAdapter) Del(id, room string) {
	a.mu.Lock()
	_, was := a.sids[id][room]
	if mine := a.sids[id]; mine != nil {
		delete(mine, room)
	}
	a.delMember(room, id)
	a.mu.Unlock()
	if o := a.observer(); o != nil && was {
		o.Left(a.n, room, id)
	}
}

func (a *MemoryAdapter) delMember(room, id string) {
	if members := a.rooms[room]; members != nil {
		delete(members, id)
		if len(members) == 0 {
			delete(a.rooms, room)
		}
	}
}

// DelAll implements Adapter.
func (a *MemoryAdapter) DelAll(id string) {
	o := a.observer()
	var left []string
	a.mu.Lock()
	for r := range a.sids[id] {
		a.delMember(r, id)
		if o != nil {
			left = append(left, r)
		}
	}
	delete(a.sids, id)
	a.mu.Unlock()
	for _, r := range left {
		o.Left(a.n, r, id)
	}
}

// observer returns the server's Observer, nil when none (or when the
// adapter has no namespace).
func (a *MemoryAdapter) observer() Observer {
	if a.n == nil || a.n.srv == nil {
		return nil
	}
	return a.n.srv.observe()
}

// SocketRooms implements Adapter.
func (a *MemoryAdapter) SocketRooms(id string) []string {
	a.mu.RLock()
	defer a.mu.RUnlock()
	mine, ok := a.sids[id]
	if !ok {
		return nil
	}
	out := make([]string, 0, len(mine))
	for r := range mine {
		out = append(out, r)
	}
	return out
}

// SocketRoomCount implements Adapter.
func (a *MemoryAdapter) SocketRoomCount(id string) int {
	a.mu.RLock()
	defer a.mu.RUnlock()
	return len(a.sids[id])
}

// RoomSize implements Adapter.
func (a *MemoryAdapter) RoomSize(room string) int {
	a.mu.RLock()
	defer a.mu.RUnlock()
	return len(a.rooms[room])
}

// Rooms returns the rooms that have local members (socket id rooms
// included), in no particular order.
func (a *MemoryAdapter) Rooms() []string {
	a.mu.RLock()
	defer a.mu.RUnlock()
	out := make([]string, 0, len(a.rooms))
	for r := range a.rooms {
		out = append(out, r)
	}
	return out
}

// Sockets implements Adapter.
func (a *MemoryAdapter) Sockets(rooms []string) []string {
	a.mu.RLock()
	defer a.mu.RUnlock()
	return a.selectLocked(rooms, nil)
}

// selectLocked returns the ids in any of rooms (all when empty) and in none
// of except.
func (a *MemoryAdapter) selectLocked(rooms, except []string) []string {
	excluded := func(id string) bool {
		for _, r := range except {
			if _, ok := a.rooms[r][id]; ok {
				return true
			}
		}
		return false
	}
	if len(rooms) == 0 {
		out := make([]string, 0, len(a.sids))
		for id := range a.sids {
			if !excluded(id) {
				out = append(out, id)
			}
		}
		return out
	}
	if len(rooms) == 1 {
		members := a.rooms[rooms[0]]
		out := make([]string, 0, len(members))
		for id := range members {
			if !excluded(id) {
				out = append(out, id)
			}
		}
		return out
	}
	seen := make(map[string]struct{})
	var out []string
	for _, r := range rooms {
		for id := range a.rooms[r] {
			if _, dup := seen[id]; dup {
				continue
			}
			seen[id] = struct{}{}
			if !excluded(id) {
				out = append(out, id)
			}
		}
	}
	return out
}

// Broadcast delivers p to the selected local sockets; with Volatile,
// sessions that are not writable are skipped (Namespace.DeliverVolatile).
func (a *MemoryAdapter) Broadcast(p *Packet, opts BroadcastOptions) {
	ids := a.selectIDs(opts)
	if opts.Volatile {
		a.n.DeliverVolatile(p, ids)
		return
	}
	a.n.Deliver(p, ids)
}

// Select returns the ids of the local sockets opts selects (Volatile is
// ignored).
func (a *MemoryAdapter) Select(opts BroadcastOptions) []string { return a.selectIDs(opts) }

// selectIDs returns the ids of the local sockets opts selects.
func (a *MemoryAdapter) selectIDs(opts BroadcastOptions) []string {
	a.mu.RLock()
	defer a.mu.RUnlock()
	return a.selectLocked(opts.Rooms, opts.Except)
}

// Close implements Adapter; the memory adapter holds nothing to release.
func (a *MemoryAdapter) Close() error { return nil }
