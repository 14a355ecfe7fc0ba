package nodetest_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/sockwasm/sockwasm/host/internal/nodetest"
	"github.com/sockwasm/sockwasm/host/internal/redistest"
)

// wsClient is a raw Engine.IO v4 / Socket.IO v4 client over WebSocket.
type wsClient struct {
	t   *testing.T
	ctx context.Context
	c   *websocket.Conn
}

func dial(t *testing.T, ctx context.Context, port int) *wsClient {
	t.Helper()
	url := fmt.Sprintf("ws://127.0.0.1:%d/socket.io/?EIO=4&transport=websocket", port)
	c, _, err := websocket.Dial(ctx, url, nil)
	if err != nil {
		t.Fatalf("dial %s: %v", url, err)
	}
	t.Cleanup(func() { c.CloseNow() })
	return &wsClient{t: t, ctx: ctx, c: c}
}

// read returns the next frame, answering Engine.IO pings on the way.
func (w *wsClient) read() (websocket.MessageType, []byte) {
	w.t.Helper()
	for {
		typ, b, err := w.c.Read(w.ctx)
		if err != nil {
			w.t.Fatalf("read: %v", err)
		}
		if typ == websocket.MessageText && string(b) == "2" {
			w.write("3")
			continue
		}
		return typ, b
	}
}

func (w *wsClient) readText(prefix string) string {
	w.t.Helper()
	typ, b := w.read()
	if typ != websocket.MessageText || !strings.HasPrefix(string(b), prefix) {
		w.t.Fatalf("got %v frame %q, want text starting with %q", typ, b, prefix)
	}
	return string(b)
}

func (w *wsClient) write(s string) {
	w.t.Helper()
	if err := w.c.Write(w.ctx, websocket.MessageText, []byte(s)); err != nil {
		w.t.Fatalf("write %q: %v", s, err)
	}
}

// connect opens the Socket.IO session on "/" and returns its sid.
func (w *wsClient) connect() string {
	w.t.Helper()
	w.readText("0{")
	w.write("40")
	var ok struct {
		SID string `json:"sid"`
	}
	if err := json.Unmarshal([]byte(strings.TrimPrefix(w.readText("40{"), "40")), &ok); err != nil || ok.SID == "" {
		w.t.Fatalf("CONNECT answer without sid: %v", err)
	}
	return ok.SID
}

func TestNodeAndEmitter(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	r := redistest.Start(t)
	env := map[string]string{"REDIS_URL": r.URL()}
	node := nodetest.Start(t, "node.mjs", env)
	em := nodetest.Start(t, "emitter.mjs", env)
	if node.Port() == 0 {
		t.Fatalf("node.mjs ready line without port: %s", node.Ready())
	}

	w := dial(t, ctx, node.Port())
	sid := w.connect()
	node.WaitEvent(t, nodetest.Field("connection", sid), 5*time.Second)

	// The emitter's broadcast reaches the Node node's client.
	em.Call(t, "emit", map[string]any{"event": "news", "args": []any{map[string]any{"n": 1}, "x"}})
	if got, want := w.readText("42"), `42["news",{"n":1},"x"]`; got != want {
		t.Errorf("emitter broadcast: got %s, want %s", got, want)
	}

	// Binary: "base64:" arguments become Buffers, sent as attachments.
	em.Call(t, "emit", map[string]any{"event": "bin", "args": []any{"base64:AQID"}})
	if got, want := w.readText("451-"), `451-["bin",{"_placeholder":true,"num":0}]`; got != want {
		t.Errorf("binary broadcast: got %s, want %s", got, want)
	}
	if typ, b := w.read(); typ != websocket.MessageBinary || !bytes.Equal(b, []byte{1, 2, 3}) {
		t.Errorf("attachment: got %v %x, want binary 010203", typ, b)
	}

	// A client event with an ack.
	w.write(`421["echo","a",2]`)
	if got, want := w.readText("43"), `431["a",2]`; got != want {
		t.Errorf("echo ack: got %s, want %s", got, want)
	}

	// fetchSockets returns the socket, with its data.
	node.Call(t, "setData", map[string]any{"socketId": sid, "data": map[string]any{"user": "u1"}})
	var sockets []struct {
		ID        string          `json:"id"`
		Rooms     []string        `json:"rooms"`
		Data      map[string]any  `json:"data"`
		Handshake json.RawMessage `json:"handshake"`
	}
	if err := json.Unmarshal(node.Call(t, "fetchSockets", map[string]any{"nsp": "/"}), &sockets); err != nil {
		t.Fatal(err)
	}
	if len(sockets) != 1 || sockets[0].ID != sid || len(sockets[0].Rooms) != 1 || sockets[0].Rooms[0] != sid ||
		sockets[0].Data["user"] != "u1" || !bytes.Contains(sockets[0].Handshake, []byte(`"query"`)) {
		t.Errorf("fetchSockets = %+v, want the socket %s in its own room with data.user u1", sockets, sid)
	}

	// A server-side event from the emitter is reported by the node.
	em.Call(t, "serverSideEmit", map[string]any{"event": "hello", "args": []any{"w", 1}})
	ev := node.WaitEvent(t, nodetest.Field("serverSideEvent", "hello"), 5*time.Second)
	if !bytes.Contains(ev, []byte(`"args":["w",1]`)) {
		t.Errorf("server-side event = %s, want args [\"w\",1]", ev)
	}

	// An unknown command is an error answer.
	if _, err := node.Try(t, "nope", nil); err == nil {
		t.Error("unknown command answered without error")
	}
	if n := string(node.Call(t, "serverCount", map[string]any{"nsp": "/"})); n != "1" {
		t.Errorf("serverCount = %s, want 1", n)
	}
	// The emitter's requests, in order: join a room, emit to it, disconnect.
	em.Call(t, "socketsJoin", map[string]any{"join": []string{"er"}})
	em.Call(t, "emit", map[string]any{"rooms": []string{"er"}, "event": "inroom", "args": []any{}})
	if got, want := w.readText("42"), `42["inroom"]`; got != want {
		t.Errorf("emit to a room joined through the emitter: got %s, want %s", got, want)
	}
	em.Call(t, "disconnectSockets", map[string]any{"except": []string{"nobody"}})
	if got := w.readText("41"); got != "41" {
		t.Errorf("emitter disconnectSockets: got %s, want 41", got)
	}
	node.WaitEvent(t, nodetest.Field("disconnect", sid), 5*time.Second)

	w.c.CloseNow()
	if err := node.Stop(); err != nil {
		t.Errorf("Stop: %v", err)
	}
}

// eventAck reads an event asking for an ack, `42<id>[…]`, and returns
// the id and the JSON array.
func (w *wsClient) eventAck() (string, string) {
	w.t.Helper()
	s := strings.TrimPrefix(w.readText("42"), "42")
	i := strings.IndexByte(s, '[')
	if i <= 0 {
		w.t.Fatalf("event without ack id: 42%s", s)
	}
	return s[:i], s[i:]
}

// TestTwoNodes drives the cluster commands of node.mjs across two Node
// nodes sharing a Redis.
func TestTwoNodes(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	r := redistest.Start(t)
	env := map[string]string{"REDIS_URL": r.URL(), "NAMESPACES": "/,/chat"}
	a := nodetest.Start(t, "node.mjs", env)
	b := nodetest.Start(t, "node.mjs", env)
	wa, wb := dial(t, ctx, a.Port()), dial(t, ctx, b.Port())
	sa, sb := wa.connect(), wb.connect()

	if n := string(a.Call(t, "serverCount", map[string]any{"nsp": "/chat"})); n != "2" {
		t.Errorf("serverCount = %s, want 2", n)
	}

	// socketsJoin applies through Redis; "ok" means applied on this node,
	// and b gets the join before a's next request.
	a.Call(t, "socketsJoin", map[string]any{"nsp": "/", "join": []string{"r1"}})
	var sockets []struct {
		ID string `json:"id"`
	}
	if err := json.Unmarshal(a.Call(t, "fetchSockets", map[string]any{"rooms": []string{"r1"}}), &sockets); err != nil {
		t.Fatal(err)
	}
	if len(sockets) != 2 {
		t.Errorf("fetchSockets in r1 = %+v, want %s and %s", sockets, sa, sb)
	}
	var rooms []string
	if err := json.Unmarshal(b.Call(t, "allRooms", map[string]any{"nsp": "/"}), &rooms); err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(rooms, ","); !strings.Contains(got, "r1") || !strings.Contains(got, sa) || !strings.Contains(got, sb) {
		t.Errorf("allRooms = %v, want r1, %s and %s", rooms, sa, sb)
	}

	// A client's room message crosses nodes, not back to the sender.
	wa.write(`42["shout","r1","hi"]`)
	if got, want := wb.readText("42"), `42["shout","hi"]`; got != want {
		t.Errorf("shout: got %s, want %s", got, want)
	}

	// broadcast with except, then one to everybody: wa sees only the second.
	b.Call(t, "broadcast", map[string]any{"rooms": []string{"r1"}, "except": []string{sa}, "event": "b", "args": []any{1}})
	b.Call(t, "broadcast", map[string]any{"event": "b", "args": []any{2}})
	if got, want := wa.readText("42"), `42["b",2]`; got != want {
		t.Errorf("a's client: got %s, want %s", got, want)
	}
	for _, want := range []string{`42["b",1]`, `42["b",2]`} {
		if got := wb.readText("42"); got != want {
			t.Errorf("b's client: got %s, want %s", got, want)
		}
	}

	// broadcastWithAck gathers both clients' acks.
	pending := a.Async("broadcastWithAck", map[string]any{"event": "q", "timeout": 3000})
	for _, w := range []*wsClient{wa, wb} {
		id, args := w.eventAck()
		if args != `["q"]` {
			t.Errorf("broadcastWithAck event = %s", args)
		}
		w.write("43" + id + `["r"]`)
	}
	if res, err := pending.Wait(t); err != nil || string(res) != `["r","r"]` {
		t.Errorf("broadcastWithAck = %s, %v; want [\"r\",\"r\"]", res, err)
	}

	// serverSideEmit with an ack: b answers "node-ack".
	if res := a.Call(t, "serverSideEmit", map[string]any{"nsp": "/chat", "event": "hello", "args": []any{"x"}, "ack": true}); string(res) != `["node-ack"]` {
		t.Errorf("serverSideEmit with ack = %s", res)
	}
	b.WaitEvent(t, nodetest.Field("serverSideEvent", "hello"), 5*time.Second)

	// socketsLeave, then disconnectSockets of r1 reaches nobody; of
	// everybody but sa, b's client only.
	a.Call(t, "socketsLeave", map[string]any{"leave": []string{"r1"}})
	b.Call(t, "disconnectSockets", map[string]any{"rooms": []string{"r1"}})
	a.Call(t, "disconnectSockets", map[string]any{"except": []string{sa}})
	if got := wb.readText("41"); got != "41" {
		t.Errorf("b's client: got %s, want 41", got)
	}
	b.WaitEvent(t, nodetest.Field("disconnect", sb), 5*time.Second)
	if res := a.Call(t, "fetchSockets", nil); !bytes.Contains(res, []byte(sa)) || bytes.Contains(res, []byte(sb)) {
		t.Errorf("fetchSockets after disconnect = %s, want %s only", res, sa)
	}
}
