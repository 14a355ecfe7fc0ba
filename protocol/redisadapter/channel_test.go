package redisadapter

import (
	"regexp"
	"testing"
)

func TestChannels(t *testing.T) {
	for _, c := range []struct{ got, want string }{
		{BroadcastChannel("", "/"), "socket.io#/#"},
		{BroadcastChannel("app", "/chat"), "app#/chat#"},
		{RoomChannel("", "/", "r1"), "socket.io#/#r1#"},
		{BroadcastPattern("", "/chat"), "socket.io#/chat#*"},
		{RequestChannel("", "/"), "socket.io-request#/#"},
		{ResponseChannel("app", "/"), "app-response#/#"},
		{SpecificResponseChannel("", "/", "RqHuyn"), "socket.io-response#/#RqHuyn#"},
		{PublishChannel("", "/", nil), "socket.io#/#"},
		{PublishChannel("", "/", []string{"r1"}), "socket.io#/#r1#"},
		{PublishChannel("", "/", []string{"r1", "r2"}), "socket.io#/#"},
		{ShardedChannel("", "/"), "socket.io#/#"},
		{ShardedRoomChannel("p", "/", "r"), "p#/#r#"},
		{ShardedResponseChannel("", "/", "0123456789abcdef"), "socket.io#/#0123456789abcdef#"},
	} {
		if c.got != c.want {
			t.Errorf("%q, want %q", c.got, c.want)
		}
	}
}

func TestChannelRoom(t *testing.T) {
	for _, c := range []struct {
		nsp, channel, room string
		ok                 bool
	}{
		{"/", "socket.io#/#", "", true},
		{"/", "socket.io#/#r1#", "r1", true},
		{"/", "socket.io#/#a#b#", "a#b", true},
		{"/", "socket.io#/#x", "", true}, // Node.js drops the last character whatever it is
		{"/", "socket.io#/#ab", "a", true},
		{"/", "socket.io#/chat#r1#", "", false},
		{"/chat", "socket.io#/chat#r1#", "r1", true},
		{"/", "other#/#r1#", "", false},
		{"/", "socket.io#/", "", false},
	} {
		room, ok := ChannelRoom("", c.nsp, c.channel)
		if room != c.room || ok != c.ok {
			t.Errorf("%s %s: %q %v, want %q %v", c.nsp, c.channel, room, ok, c.room, c.ok)
		}
	}
}

func TestShardedPublishChannel(t *testing.T) {
	sid := "iCWTzpXT48uP-40yAAAA"
	one := func(room string) *ClusterMessage {
		return &ClusterMessage{Type: MessageBroadcast, Opts: BroadcastOptions{Rooms: []string{room}}}
	}
	for _, c := range []struct {
		m    *ClusterMessage
		mode SubscriptionMode
		want string
	}{
		{one("room1"), ModeDynamic, "socket.io#/#room1#"},
		{one(sid), ModeDynamic, "socket.io#/#"},
		{one(sid), ModeDynamicPrivate, "socket.io#/#" + sid + "#"},
		{one("room1"), ModeStatic, "socket.io#/#"},
		{&ClusterMessage{Type: MessageBroadcast, RequestID: "r", Opts: BroadcastOptions{Rooms: []string{"room1"}}}, ModeDynamic, "socket.io#/#"},
		{&ClusterMessage{Type: MessageBroadcast, Opts: BroadcastOptions{Rooms: []string{"a", "b"}}}, ModeDynamic, "socket.io#/#"},
		{&ClusterMessage{Type: MessageSocketsJoin, Opts: BroadcastOptions{Rooms: []string{"a"}}}, ModeDynamic, "socket.io#/#"},
	} {
		if got := ShardedPublishChannel("", "/", c.m, c.mode); got != c.want {
			t.Errorf("%+v %v: %q, want %q", c.m, c.mode, got, c.want)
		}
	}
	if !LooksLikeSocketID(sid) || LooksLikeSocketID("room1") || !LooksLikeSocketID("ééééééééééééééééééé😀"[2:]) || LooksLikeSocketID("é") {
		t.Error("LooksLikeSocketID")
	}
	if !ModeDynamic.HasRoomChannel(false) || ModeDynamic.HasRoomChannel(true) || !ModeDynamicPrivate.HasRoomChannel(true) || ModeStatic.HasRoomChannel(false) {
		t.Error("HasRoomChannel")
	}
}

func TestUIDs(t *testing.T) {
	uid := regexp.MustCompile(`^[A-Za-z0-9_-]{6}$`)
	cluster := regexp.MustCompile(`^[0-9a-f]{16}$`)
	seen := map[string]bool{}
	for range 1000 {
		u, r, c := NewUID(), NewRequestID(), NewClusterUID()
		if !uid.MatchString(u) || !uid.MatchString(r) || !cluster.MatchString(c) {
			t.Fatalf("%q %q %q", u, r, c)
		}
		seen[u] = true
	}
	if len(seen) < 990 {
		t.Fatalf("only %d distinct uids", len(seen))
	}
}

func TestTypeNames(t *testing.T) {
	if TypeBroadcastAck.String() != "BROADCAST_ACK" || RequestType(10).String() != "RequestType(10)" ||
		MessageAdapterClose.String() != "ADAPTER_CLOSE" || MessageType(0).String() != "MessageType(0)" ||
		!MessageBroadcastAck.IsResponse() || MessageBroadcast.IsResponse() {
		t.Fatal("names")
	}
}
