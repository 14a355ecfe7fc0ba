package socketio

// Observer hears what happens on a Server's sockets: the admin namespace
// (host/admin) is one. Its methods are called on the goroutine that made
// the change, after it is made and with none of the server's locks held;
// they must return quickly and must not block (queue what takes time).
// Rooms include each socket's own id room, as the reference adapter's
// "join-room" and "leave-room" events do.
type Observer interface {
	// Connected: s has joined its namespace (its CONNECT reply is
	// queued; its handler's OnConnect follows).
	Connected(s *Socket)
	// Disconnected: s has left its namespace, after its rooms.
	Disconnected(s *Socket, reason Reason)
	// Joined: socket id (of this node) is now in room.
	Joined(n *Namespace, room, id string)
	// Left: socket id (of this node) is no longer in room.
	Left(n *Namespace, room, id string)
	// Received: s sent event ev (before its handler runs). ev must not
	// be modified nor kept past the call.
	Received(s *Socket, ev *Event)
	// Sent: event name with args (a JSON array, placeholders for atts)
	// was queued for s alone (Socket.Emit and EmitWithAck; not
	// broadcasts). args and atts must not be modified nor kept past the
	// call.
	Sent(s *Socket, name string, args []byte, atts [][]byte)
}

// SetObserver installs o (nil removes it). Changes made before it returns
// may not be seen.
func (s *Server) SetObserver(o Observer) {
	if o == nil {
		s.observer.Store(nil)
		return
	}
	s.observer.Store(&o)
}

// observe returns the installed Observer, or nil.
func (s *Server) observe() Observer {
	if p := s.observer.Load(); p != nil {
		return *p
	}
	return nil
}
