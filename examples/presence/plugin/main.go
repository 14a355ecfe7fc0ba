//go:build wasip1

package main

import (
	"cmp"
	"encoding/json"
	"errors"
	"slices"
	"unicode/utf8"

	sockwasm "github.com/sockwasm/sockwasm/sdk/go"
)

const (
	maxRoomLen = 128
	maxNameLen = 64
	// casTries bounds a compare-and-swap loop; contention on one room
	// is short-lived, so running out means something is wrong.
	casTries = 1000
)

var (
	badRequest  = []byte(`[{"ok":false,"error":"bad request"}]`)
	unavailable = []byte(`[{"ok":false,"error":"unavailable"}]`)
	roomFull    = []byte(`[{"ok":false,"error":"room full"}]`)
)

func init() {
	sockwasm.OnEvent("presence:join", join)
	sockwasm.OnEvent("presence:leave", leave)
	sockwasm.OnEvent("presence:list", list)
	sockwasm.OnDisconnect(disconnected)
}

// members maps socket ids to names: the value of a room's key.
type members map[string]string

// roomKey is the store key of room in namespace nsp.
func roomKey(nsp, room string) string {
	b, _ := json.Marshal([2]string{nsp, room})
	return string(b)
}

// update applies change to the members of a room atomically and returns
// them as stored. change reports whether it changed anything.
func update(key string, change func(m members) bool) (members, error) {
	for range casTries {
		old, err := sockwasm.KV.Get(key)
		if err != nil && !errors.Is(err, sockwasm.ErrNotFound) {
			return nil, err
		}
		m := members{}
		if old != nil {
			if err := json.Unmarshal(old, &m); err != nil || m == nil {
				m = members{} // not ours: start over
			}
		}
		if !change(m) {
			return m, nil
		}
		var next []byte // nil deletes the key
		if len(m) > 0 {
			next, _ = json.Marshal(m)
		}
		ok, err := sockwasm.KV.CompareAndSwap(key, old, next)
		if err != nil {
			return nil, err
		}
		if ok {
			return m, nil
		}
	}
	return nil, errors.New("presence: too much contention on " + key)
}

// load returns the members of a room.
func load(key string) (members, error) {
	return update(key, func(members) bool { return false })
}

// args reads {room, name?} from the first argument.
func args(e *sockwasm.Event, needName bool) (room, name string, ok bool) {
	a := e.Arg(0)
	room, ok = a.Get("room").AsString()
	if !ok || room == "" || utf8.RuneCountInString(room) > maxRoomLen {
		return "", "", false
	}
	if needName {
		name, ok = a.Get("name").AsString()
		if !ok || name == "" || utf8.RuneCountInString(name) > maxNameLen {
			return "", "", false
		}
	}
	return room, name, true
}

// join handles presence:join {room, name}.
func join(s *sockwasm.Socket, e *sockwasm.Event) {
	room, name, ok := args(e, true)
	if !ok {
		e.Ack(badRequest)
		return
	}
	var changed bool
	m, err := update(roomKey(s.Namespace(), room), func(m members) bool {
		changed = m[s.ID()] != name
		m[s.ID()] = name
		return changed
	})
	if err != nil {
		sockwasm.Log(sockwasm.LevelWarn, "join: "+err.Error())
		if errors.Is(err, sockwasm.ErrLimit) {
			e.Ack(roomFull)
		} else {
			e.Ack(unavailable)
		}
		return
	}
	s.Join(room)
	if changed {
		s.To(room).Emit("presence:joined", memberEvent(room, s.ID(), name))
	}
	e.Ack(roomAck(room, m))
}

// leave handles presence:leave {room}.
func leave(s *sockwasm.Socket, e *sockwasm.Event) {
	room, _, ok := args(e, false)
	if !ok {
		e.Ack(badRequest)
		return
	}
	s.Leave(room)
	if err := forget(s, room); err != nil {
		sockwasm.Log(sockwasm.LevelWarn, "leave: "+err.Error())
		e.Ack(unavailable)
		return
	}
	b := append([]byte(`[{"ok":true,"room":`), sockwasm.AppendString(nil, room)...)
	e.Ack(append(b, "}]"...))
}

// list handles presence:list {room}.
func list(s *sockwasm.Socket, e *sockwasm.Event) {
	room, _, ok := args(e, false)
	if !ok {
		e.Ack(badRequest)
		return
	}
	m, err := load(roomKey(s.Namespace(), room))
	if err != nil {
		sockwasm.Log(sockwasm.LevelWarn, "list: "+err.Error())
		e.Ack(unavailable)
		return
	}
	e.Ack(roomAck(room, m))
}

// disconnected forgets the socket in every room it was in.
func disconnected(s *sockwasm.Socket, _ string, rooms []string) {
	for _, room := range rooms {
		if err := forget(s, room); err != nil {
			sockwasm.Log(sockwasm.LevelWarn, "disconnect: "+err.Error())
		}
	}
}

// forget removes the socket from the members of room and, when it was
// one, tells the rest of the room.
func forget(s *sockwasm.Socket, room string) error {
	var name string
	var was bool
	_, err := update(roomKey(s.Namespace(), room), func(m members) bool {
		name, was = m[s.ID()]
		delete(m, s.ID())
		return was
	})
	if err != nil || !was {
		return err
	}
	return s.To(room).Emit("presence:left", memberEvent(room, s.ID(), name))
}

// memberEvent encodes [{room, id, name}].
func memberEvent(room, id, name string) []byte {
	b := append([]byte(`[{"room":`), sockwasm.AppendString(nil, room)...)
	b = append(b, `,"id":`...)
	b = sockwasm.AppendString(b, id)
	b = append(b, `,"name":`...)
	b = sockwasm.AppendString(b, name)
	return append(b, "}]"...)
}

// roomAck encodes [{ok: true, room, members}], members sorted by name,
// then id.
func roomAck(room string, m members) []byte {
	ids := make([]string, 0, len(m))
	for id := range m {
		ids = append(ids, id)
	}
	slices.SortFunc(ids, func(a, b string) int {
		return cmp.Or(cmp.Compare(m[a], m[b]), cmp.Compare(a, b))
	})
	b := append([]byte(`[{"ok":true,"room":`), sockwasm.AppendString(nil, room)...)
	b = append(b, `,"members":[`...)
	for i, id := range ids {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"id":`...)
		b = sockwasm.AppendString(b, id)
		b = append(b, `,"name":`...)
		b = sockwasm.AppendString(b, m[id])
		b = append(b, '}')
	}
	return append(b, "]}]"...)
}

// main is not run in c-shared mode; handlers are registered by init.
func main() {}
