package plugin

import (
	"context"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/sockwasm/sockwasm/host/engineio"
	"github.com/sockwasm/sockwasm/host/socketio"
)

// TestNsBroadcastFromTimer: a TIMER call, which has no socket, emits to a
// room of another namespace through the real Socket.IO stack.
func TestNsBroadcastFromTimer(t *testing.T) {
	t.Parallel()
	srv := socketio.New(socketio.Options{Logger: testLogger(t)})
	p := loadGuest(t, "nsbcast", Options{
		// It serves / and /chat; /nope does not exist but is granted.
		Settings:   map[string]Settings{"nsbcast": {Grants: []string{"timers", "emit:/nope"}}},
		Namespaces: srv.Of,
		Serves:     func(_, nsp string) bool { return nsp == "/" || nsp == "/chat" },
	})
	srv.Handle("/", nsHandler{p})
	srv.Handle("/chat", nsHandler{p})
	eng := engineio.New(engineio.Options{Path: "/socket.io/", Logger: testLogger(t)}, srv)
	ts := httptest.NewServer(eng)
	defer func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		eng.Shutdown(ctx)
		ts.Close()
	}()

	a := dial(t, ts.URL)
	aid := a.connect("/", "")
	// The middleware may not emit.
	if d := srv.Of("/").Socket(aid).Data("nsbcast"); string(d) != "-4" {
		t.Fatalf("ns_broadcast in MIDDLEWARE = %s, want -4 (ERR_NOT_ALLOWED)", d)
	}
	b, c := dial(t, ts.URL), dial(t, ts.URL)
	b.connect("/chat", "")
	c.connect("/chat", "")
	b.send(`42/chat,1["join","room1"]`)
	b.expect(`43/chat,1[0]`)

	a.send(`421["go","/chat","room1",10]`)
	a.expect(`431[0]`)
	b.expect(`451-/chat,["tick","from timer",{"_placeholder":true,"num":0}]`)
	b.expect("bin:\x01\x02\x03")
	// The results: sent, and ERR_NOT_FOUND for the unknown namespace.
	a.expect(`42["result",0,-3]`)
	// c, in /chat but not in room1, got nothing before this ack.
	c.send(`42/chat,2["join","other"]`)
	c.expect(`43/chat,2[0]`)
}

// TestNsBroadcastWithoutNamespaces: a host without Options.Namespaces
// refuses ns_broadcast with ERR_NOT_ALLOWED.
func TestNsBroadcastWithoutNamespaces(t *testing.T) {
	var buf syncBuffer
	l := zerolog.New(&buf).Level(zerolog.InfoLevel)
	p := loadGuest(t, "nsbcast", Options{
		Settings: map[string]Settings{"nsbcast": {Grants: []string{"timers"}}},
		Logger:   &l,
	})
	s := newNS("/").sock("s1", "")
	if got := stAck(t, p, s, "go", `["/chat","room1",1]`); got != `[0]` {
		t.Fatalf("go = %s", got)
	}
	deadline := time.Now().Add(5 * time.Second)
	for !strings.Contains(buf.String(), "nsbcast [-4,-4]") {
		if time.Now().After(deadline) {
			t.Fatalf("no TIMER result logged: %s", buf.String())
		}
		time.Sleep(5 * time.Millisecond)
	}
}
