package socketio

// Data returns the socket's data as last set by SetData (nil when never
// set). Handler layers keep per-connection state here, conventionally
// JSON; it lives as long as the socket, whatever happens to the handlers.
// The returned slice must not be modified.
func (s *Socket) Data() []byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.data
}

// SetData replaces the socket's data with a copy of b (nil or empty
// clears it). It works from connection middleware on, before the socket
// is connected, and after it has left (then nobody will read it again).
func (s *Socket) SetData(b []byte) {
	var d []byte
	if len(b) > 0 {
		d = append(make([]byte, 0, len(b)), b...)
	}
	s.mu.Lock()
	s.data = d
	s.mu.Unlock()
}
