package sockwasm

// NamespaceBroadcast selects the receivers of a broadcast to a namespace
// named by the plugin: Socket.IO's io.of(nsp).to(room).emit(…). Unlike
// Broadcast it needs no socket, so it works in every call but the
// middleware ones: OnInit, OnTimer, the engine handlers and the socket
// handlers, whose socket may be in another namespace.
type NamespaceBroadcast struct {
	nsp           string
	rooms, except []string
	flags         uint32
}

// Of starts a broadcast to namespace nsp (e.g. "/chat"), which must exist
// on the server: Emit returns ErrNotFound otherwise. The plugin must serve
// nsp (server.toml routes it there) or be granted it ("emit:/chat" in its
// grants): Emit returns ErrNotAllowed otherwise. Without To it reaches
// every socket of the namespace.
func Of(nsp string) *NamespaceBroadcast { return &NamespaceBroadcast{nsp: nsp} }

// To adds rooms to send to.
func (b *NamespaceBroadcast) To(rooms ...string) *NamespaceBroadcast {
	b.rooms = append(b.rooms, rooms...)
	return b
}

// In is To (Socket.IO's io.of(nsp).in(room)).
func (b *NamespaceBroadcast) In(rooms ...string) *NamespaceBroadcast { return b.To(rooms...) }

// Except excludes the members of rooms (a socket id excludes that socket).
func (b *NamespaceBroadcast) Except(rooms ...string) *NamespaceBroadcast {
	b.except = append(b.except, rooms...)
	return b
}

// Volatile drops the packet for receivers whose transport is not writable
// right now (a backlog is queued, or the transport is being upgraded).
func (b *NamespaceBroadcast) Volatile() *NamespaceBroadcast {
	b.flags |= broadcastVolatile
	return b
}

// Compress sets the compress flag. It is accepted for compatibility and
// has no effect: the host does not compress WebSocket messages.
func (b *NamespaceBroadcast) Compress(on bool) *NamespaceBroadcast {
	if on {
		b.flags |= broadcastCompress
	} else {
		b.flags &^= broadcastCompress
	}
	return b
}

// Emit sends event name with args (a JSON array) and attachments to the
// selected sockets of the namespace; the host encodes the packet once.
// It returns ErrNotFound when the namespace does not exist, and
// ErrNotAllowed in the middleware handlers.
func (b *NamespaceBroadcast) Emit(name string, args []byte, atts ...Blob) error {
	r := encodeStrings(nil, b.rooms)
	e := encodeStrings(nil, b.except)
	a := encodeBlobs(atts)
	return check(hostNsBroadcast(sptr(b.nsp), uint32(len(b.nsp)), ptr(r), uint32(len(r)), ptr(e), uint32(len(e)), b.flags,
		sptr(name), uint32(len(name)), ptr(args), uint32(len(args)), ptr(a), uint32(len(a))))
}
