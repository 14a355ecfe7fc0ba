package server

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"
)

// TestNsBroadcastFromTimer: the server gives the plugins its namespaces,
// so a TIMER call (no socket) reaches a room of another namespace.
func TestNsBroadcastFromTimer(t *testing.T) {
	routes := `
[plugin.nsbcast]
grants = ["timers", "emit:/nope"] # /nope does not exist: ERR_NOT_FOUND
[[namespace]]
name = "/"
handler = "nsbcast"
[[namespace]]
name = "/chat"
handler = "nsbcast"
`
	e := startHot(t, false, routes, nsbWasm)
	a := dialNsp(t, e.addr, "/")
	b := dialNsp(t, e.addr, "/chat")
	b.send(t, `42/chat,1["join","room1"]`)
	if m := b.next(t); m != `43/chat,1[0]` {
		t.Fatalf("join ack %q", m)
	}
	a.send(t, `421["go","/chat","room1",10]`)
	if m := a.next(t); m != `431[0]` {
		t.Fatalf("go ack %q", m)
	}
	if m := b.next(t); m != `451-/chat,["tick","from timer",{"_placeholder":true,"num":0}]` {
		t.Fatalf("tick %q", m)
	}
	if m := b.next(t); m != "\x01\x02\x03" {
		t.Fatalf("attachment %q", m)
	}
	if m := a.next(t); m != `42["result",0,-3]` {
		t.Fatalf("result %q", m)
	}
}

// INIT finds the namespaces of the configuration it is loaded with, and
// may send into those routed to its plugin, at start as on a reload
// (which also brings a namespace of its own).
func TestInitSeesNamespaces(t *testing.T) {
	routes := `
[plugin.nsbcast]
grants = ["timers"]
[[namespace]]
name = "/"
handler = "nsbcast"
`
	e := startHot(t, false, routes+"[[namespace]]\nname = \"/chat\"\nhandler = \"hot\"\n", nsbWasm)
	// /chat is not the plugin's: ERR_NOT_ALLOWED (-4), "/" is: 0.
	e.logs.waitFor(t, time.Second, "nsbcast init [0,-4]")
	if err := os.WriteFile(e.cfgFile, []byte(e.head(false)+routes+"[[namespace]]\nname = \"/chat\"\nhandler = \"nsbcast\"\n"+
		"[plugin.nsbcast.config]\ngen = 2\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := e.srv.ReloadConfig(context.Background()); err != nil {
		t.Fatal(err)
	}
	e.logs.waitFor(t, time.Second, "nsbcast init [0,0]")
	if n := strings.Count(e.logs.String(), "nsbcast init"); n != 2 {
		t.Fatalf("%d INIT calls, want 2", n)
	}
}
