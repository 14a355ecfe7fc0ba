package socketio

import (
	"encoding/json"
	"maps"
	"slices"

	sp "github.com/sockwasm/sockwasm/protocol/socketio"
)

// Data returns the data owner keeps on the socket, as last set by SetData
// (nil when never set). Handler layers keep per-connection state here,
// conventionally JSON; each owner (for sockwasm, each plugin) has its own
// slot, so that one cannot overwrite another's. It lives as long as the
// socket, whatever happens to the handlers. The returned slice must not be
// modified.
func (s *Socket) Data(owner string) []byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.data[owner]
}

// SetData replaces owner's data on the socket with a copy of b (nil or
// empty clears it). It works from connection middleware on, before the
// socket is connected, and after it has left (then nobody will read it
// again).
func (s *Socket) SetData(owner string, b []byte) {
	var d []byte
	if len(b) > 0 {
		d = append(make([]byte, 0, len(b)), b...)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if d == nil {
		delete(s.data, owner)
		return
	}
	if s.data == nil {
		s.data = make(map[string][]byte, 1)
	}
	s.data[owner] = d
}

// allData returns a copy of every owner's data, nil when there is none.
func (s *Socket) allData() map[string][]byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.data) == 0 {
		return nil
	}
	return maps.Clone(s.data)
}

// DataJSON returns the socket's data as one JSON object, each owner's
// value under its name ({} when there is none): the socket.data that
// other nodes (fetchSockets) and the admin UI see.
func (s *Socket) DataJSON() json.RawMessage { return JoinData(s.allData()) }

// JoinData joins per-owner data into one JSON object, owners sorted ({}
// when d is empty). A value that is not valid JSON is given as a string,
// so that the object always is.
func JoinData(d map[string][]byte) json.RawMessage {
	if len(d) == 0 {
		return json.RawMessage("{}")
	}
	buf := []byte{'{'}
	for i, k := range slices.Sorted(maps.Keys(d)) {
		if i > 0 {
			buf = append(buf, ',')
		}
		buf = sp.AppendString(buf, k)
		buf = append(buf, ':')
		if v := d[k]; json.Valid(v) {
			buf = append(buf, v...)
		} else {
			buf = sp.AppendString(buf, string(v))
		}
	}
	return append(buf, '}')
}
