package redisadapter

import "unicode/utf16"

// DefaultKey is the default key prefix of every channel (the adapter's
// key option, the sharded adapter's channelPrefix). It must be the same
// on every server.
const DefaultKey = "socket.io"

func keyOr(key string) string {
	if key == "" {
		return DefaultKey
	}
	return key
}

// BroadcastChannel returns <key>#<nsp>#, the channel of broadcasts to a
// namespace that do not target exactly one room. An empty key is
// DefaultKey, here and in the other channel functions.
func BroadcastChannel(key, nsp string) string {
	return keyOr(key) + "#" + nsp + "#"
}

// RoomChannel returns <key>#<nsp>#<room>#, the channel of broadcasts that
// target exactly one room.
func RoomChannel(key, nsp, room string) string {
	return keyOr(key) + "#" + nsp + "#" + room + "#"
}

// BroadcastPattern returns <key>#<nsp>#*, the PSUBSCRIBE pattern that
// receives both broadcast channels of a namespace. Node.js does not
// escape the glob characters *?[\ of a namespace, and neither does this.
func BroadcastPattern(key, nsp string) string {
	return keyOr(key) + "#" + nsp + "#*"
}

// RequestChannel returns <key>-request#<nsp>#, the channel of requests.
// PUBSUB NUMSUB on it counts the servers of the namespace.
func RequestChannel(key, nsp string) string {
	return keyOr(key) + "-request#" + nsp + "#"
}

// ResponseChannel returns <key>-response#<nsp>#, the channel of
// responses to every server's requests.
func ResponseChannel(key, nsp string) string {
	return keyOr(key) + "-response#" + nsp + "#"
}

// SpecificResponseChannel returns <key>-response#<nsp>#<uid>#, the
// channel of responses to the server with adapter uid uid, used instead
// of ResponseChannel by servers with publishOnSpecificResponseChannel
// (SERVER_SIDE_EMIT answers always go to ResponseChannel).
func SpecificResponseChannel(key, nsp, uid string) string {
	return keyOr(key) + "-response#" + nsp + "#" + uid + "#"
}

// PublishChannel returns the channel a broadcast to rooms is published
// on: RoomChannel for exactly one room, BroadcastChannel otherwise. rooms
// must hold no duplicates (Node.js counts a Set).
func PublishChannel(key, nsp string, rooms []string) string {
	if len(rooms) == 1 {
		return RoomChannel(key, nsp, rooms[0])
	}
	return BroadcastChannel(key, nsp)
}

// ChannelRoom returns the room of channel, a channel received on
// BroadcastPattern(key, nsp), as Node.js computes it: ok is false for a
// channel that does not start with BroadcastChannel(key, nsp), and room
// is "" for that channel itself, otherwise what lies between it and the
// last byte (the closing '#'). A server may drop a broadcast for a room
// it has no socket in.
func ChannelRoom(key, nsp, channel string) (room string, ok bool) {
	prefix := len(keyOr(key)) + 1 + len(nsp) + 1
	if len(channel) < prefix || channel[:prefix] != BroadcastChannel(key, nsp) {
		return "", false
	}
	if len(channel) <= prefix+1 {
		return "", true
	}
	return channel[prefix : len(channel)-1], true
}

// SubscriptionMode is the sharded adapter's subscriptionMode: which rooms
// have a channel of their own.
type SubscriptionMode int

// Subscription modes.
const (
	// ModeDynamic, the default, gives a channel to every public room
	// (one that is not a socket's own room).
	ModeDynamic SubscriptionMode = iota
	// ModeStatic uses only the namespace channel.
	ModeStatic
	// ModeDynamicPrivate gives a channel to every room, socket rooms
	// included.
	ModeDynamicPrivate
)

// ShardedChannel returns <prefix>#<nsp>#, the sharded adapter's channel
// of a namespace (SSUBSCRIBE, SPUBLISH). SHARDNUMSUB on it counts the
// servers.
func ShardedChannel(prefix, nsp string) string {
	return keyOr(prefix) + "#" + nsp + "#"
}

// ShardedRoomChannel returns <prefix>#<nsp>#<room>#, the channel of a room
// that has one.
func ShardedRoomChannel(prefix, nsp, room string) string {
	return keyOr(prefix) + "#" + nsp + "#" + room + "#"
}

// ShardedResponseChannel returns <prefix>#<nsp>#<uid>#, the channel of
// responses to the server with uid uid.
func ShardedResponseChannel(prefix, nsp, uid string) string {
	return keyOr(prefix) + "#" + nsp + "#" + uid + "#"
}

// HasRoomChannel reports whether a server in mode m subscribes to the
// channel of a room: every room in ModeDynamicPrivate, public rooms in
// ModeDynamic. private reports whether the room is a socket's own room
// (a socket id on the subscribing server).
func (m SubscriptionMode) HasRoomChannel(private bool) bool {
	return m == ModeDynamicPrivate || (m == ModeDynamic && !private)
}

// LooksLikeSocketID reports whether room looks like a socket id to the
// sharded adapter: 20 UTF-16 code units long.
func LooksLikeSocketID(room string) bool {
	n := 0
	for _, r := range room {
		n += utf16.RuneLen(r)
		if n > 20 {
			return false
		}
	}
	return n == 20
}

// ShardedPublishChannel returns the channel the sharded adapter in mode
// mode publishes m on: the room's channel for a BROADCAST without
// acknowledgements to exactly one room (in ModeDynamic, one that does not
// look like a socket id), the namespace channel otherwise. Responses go
// to ShardedResponseChannel of the requester instead.
func ShardedPublishChannel(prefix, nsp string, m *ClusterMessage, mode SubscriptionMode) string {
	if m.Type == MessageBroadcast && m.RequestID == "" && len(m.Opts.Rooms) == 1 {
		room := m.Opts.Rooms[0]
		if mode == ModeDynamicPrivate || (mode == ModeDynamic && !LooksLikeSocketID(room)) {
			return ShardedRoomChannel(prefix, nsp, room)
		}
	}
	return ShardedChannel(prefix, nsp)
}
