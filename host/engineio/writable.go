package engineio

// Writable reports whether a message sent now would go out without
// waiting behind others: the session is open, not switching transports,
// and nothing is queued (a polling session's queue is emptied by each GET,
// a WebSocket session's by its writer). Socket.IO's volatile packets are
// dropped for sessions that are not writable.
func (s *Session) Writable() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.state == stateOpen && !s.upgrading && len(s.queue) == 0
}
