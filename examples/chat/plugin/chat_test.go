package main

import (
	"bytes"
	"testing"

	"github.com/sockwasm/sockwasm/sdk/go/plugintest"
)

func TestMiddleware(t *testing.T) {
	h := plugintest.New(t)
	bad := h.Socket(plugintest.SocketOptions{Auth: `{"token":"bad"}`})
	c := bad.Connect()
	if c.ConnectError == nil || c.ConnectError.Message != "unauthorized" || string(c.ConnectError.Data) != `{"code":401}` {
		t.Fatalf("bad token: %+v", c.ConnectError)
	}
	if bad.Connected() {
		t.Fatal("refused socket still connected")
	}
	good := h.Socket(plugintest.SocketOptions{Auth: `{"token":"ok"}`})
	if c := good.Connect(); c.ConnectError != nil || c.Kind != plugintest.KindConnect || !good.Connected() {
		t.Fatalf("good token: %+v", c)
	}
}

func TestEcho(t *testing.T) {
	h := plugintest.New(t)
	s := h.Socket(plugintest.SocketOptions{})
	c := s.EmitWithAck("echo", `[1,"two",{"_placeholder":true,"num":0}]`, []byte{0xde, 0xad})
	ack := c.Ack()
	if ack == nil || ack.Args != `[1,"two",{"_placeholder":true,"num":0}]` || len(ack.Attachments) != 1 || !bytes.Equal(ack.Attachments[0], []byte{0xde, 0xad}) {
		t.Fatalf("echo ack = %+v", ack)
	}
	c = s.Emit("echo", `["hi"]`)
	e := c.Emitted("echo-back")
	if e == nil || e.Args != `["hi"]` || e.Broadcast || len(e.Receivers) != 1 || e.Receivers[0] != s.ID() {
		t.Fatalf("echo-back = %+v", c.Emits)
	}
}

func TestJoinSay(t *testing.T) {
	h := plugintest.New(t)
	ann := h.Socket(plugintest.SocketOptions{ID: "ann"})
	bob := h.Socket(plugintest.SocketOptions{ID: "bob"})
	eve := h.Socket(plugintest.SocketOptions{ID: "eve"})
	if a := ann.EmitWithAck("join", `[{"room":"lobby"}]`).Ack(); a == nil || a.Args != `[{"ok":true,"room":"lobby","size":1}]` {
		t.Fatalf("join ack = %+v", a)
	}
	c := bob.EmitWithAck("join", `[{"room":"lobby"}]`)
	if c.Ack().Args != `[{"ok":true,"room":"lobby","size":2}]` || len(c.Joins) != 1 || c.Joins[0] != "lobby" || !bob.In("lobby") {
		t.Fatalf("bob join: %+v", c)
	}
	if a := eve.EmitWithAck("join", `[{"room":""}]`).Ack(); a.Args != `[{"ok":false,"error":"bad request"}]` {
		t.Fatalf("empty room ack = %s", a.Args)
	}

	c = ann.EmitWithAck("say", `[{"room":"lobby","text":"hello"}]`)
	if c.Ack().Args != `[{"ok":true}]` {
		t.Fatalf("say ack = %s", c.Ack().Args)
	}
	said := c.Emitted("said")
	if said == nil || !said.Broadcast || !said.ExceptSelf || said.Args != `[{"room":"lobby","from":"ann","text":"hello"}]` {
		t.Fatalf("said = %+v", said)
	}
	if len(said.Receivers) != 1 || said.Receivers[0] != "bob" || len(bob.Received()) != 1 || len(eve.Received()) != 0 {
		t.Fatalf("receivers %v, bob %d, eve %d", said.Receivers, len(bob.Received()), len(eve.Received()))
	}
	if a := ann.EmitWithAck("rooms", `[]`).Ack(); a.Args != `[["lobby"]]` {
		t.Fatalf("rooms = %s", a.Args)
	}
	if a := ann.EmitWithAck("stats", `[]`).Ack(); a.Args != `[{"clients":3}]` {
		t.Fatalf("stats = %s", a.Args)
	}
	if a := ann.EmitWithAck("leave", `[{"room":"lobby"}]`).Ack(); a.Args != `[{"ok":true,"room":"lobby","size":1}]` || ann.In("lobby") {
		t.Fatalf("leave = %s", a.Args)
	}
}

func TestWhoami(t *testing.T) {
	h := plugintest.New(t)
	s := h.Socket(plugintest.SocketOptions{ID: "abc", Namespace: "/chat", Auth: `{"name":"ann"}`, Transport: "polling"})
	a := s.EmitWithAck("whoami", `[]`).Ack()
	if want := `[{"id":"abc","nsp":"/chat","auth":{"name":"ann"},"transport":"polling"}]`; a == nil || a.Args != want {
		t.Fatalf("whoami = %+v, want %s", a, want)
	}
}

func TestPingMe(t *testing.T) {
	h := plugintest.New(t)
	s := h.Socket(plugintest.SocketOptions{})
	c := s.EmitWithAck("ping-me", `["hi"]`)
	if c.Ack() != nil {
		t.Fatal("ping-me answered at once")
	}
	ping := c.Emitted("server-ping")
	if ping == nil || !ping.WithAck || ping.Args != `["hi"]` || ping.Timeout.Seconds() != 2 {
		t.Fatalf("server-ping = %+v", ping)
	}
	r := s.Reply(*ping, `["pong"]`)
	if a := r.Acks; len(a) != 1 || a[0].ID != c.AckID || a[0].Args != `[{"ok":true,"answer":"pong"}]` {
		t.Fatalf("deferred ack = %+v", r.Acks)
	}
	if a := s.Ack(c.AckID); a == nil || a.Args != `[{"ok":true,"answer":"pong"}]` {
		t.Fatalf("socket ack = %+v", a)
	}

	c = s.EmitWithAck("ping-me", `[2]`)
	r = s.ReplyTimeout(*c.Emitted("server-ping"))
	if a := s.Ack(c.AckID); a == nil || a.Args != `[{"ok":false,"error":"timeout"}]` {
		t.Fatalf("timeout ack = %+v (%+v)", a, r)
	}
}

func TestByeAndLeft(t *testing.T) {
	h := plugintest.New(t)
	ann := h.Socket(plugintest.SocketOptions{ID: "ann", Rooms: []string{"lobby"}})
	bob := h.Socket(plugintest.SocketOptions{ID: "bob", Rooms: []string{"lobby"}})
	c := ann.Emit("bye", `[]`)
	if !c.Disconnect || c.CloseSession || ann.Connected() {
		t.Fatalf("bye: %+v", c)
	}
	c = ann.Disconnect("server namespace disconnect")
	left := c.Emitted("left")
	if left == nil || left.Args != `[{"room":"lobby","id":"ann","reason":"server namespace disconnect"}]` ||
		len(left.Receivers) != 1 || left.Receivers[0] != "bob" {
		t.Fatalf("left = %+v", left)
	}
	if len(bob.Received()) != 1 || len(c.Errors) != 0 {
		t.Fatalf("bob received %v, errors %v", bob.Received(), c.Errors)
	}
	if len(h.Calls()) != 2 || h.Calls()[0].Event != "bye" || h.Calls()[1].Kind != plugintest.KindDisconnect {
		t.Fatalf("calls %+v", h.Calls())
	}
}
