package plugin

import (
	"context"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/sockwasm/sockwasm/host/engineio"
	"github.com/sockwasm/sockwasm/host/socketio"
)

// nsHandler serves a namespace with a plugin, as the router does.
type nsHandler struct{ p *Plugin }

func (h nsHandler) Authorize(s *socketio.Socket) *socketio.ConnectError { return h.p.Middleware(s) }
func (h nsHandler) OnConnect(s *socketio.Socket)                        { h.p.Connect(s) }
func (h nsHandler) OnEvent(s *socketio.Socket, ev *socketio.Event)      { h.p.Event(s, ev) }
func (h nsHandler) OnDisconnect(s *socketio.Socket, r socketio.Reason, rooms []string) {
	h.p.Disconnect(s, r, rooms)
}

// wsClient is a raw Socket.IO-over-WebSocket client.
type wsClient struct {
	t    *testing.T
	conn *websocket.Conn
	ctx  context.Context
}

func dial(t *testing.T, url string) *wsClient {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	conn, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(url, "http")+"/socket.io/?EIO=4&transport=websocket", nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.CloseNow() })
	c := &wsClient{t: t, conn: conn, ctx: ctx}
	if open := c.read(); !strings.HasPrefix(open, "0{") {
		t.Fatalf("open = %q", open)
	}
	return c
}

func (c *wsClient) send(s string) {
	c.t.Helper()
	if err := c.conn.Write(c.ctx, websocket.MessageText, []byte(s)); err != nil {
		c.t.Fatal(err)
	}
}

func (c *wsClient) sendBinary(b []byte) {
	c.t.Helper()
	if err := c.conn.Write(c.ctx, websocket.MessageBinary, b); err != nil {
		c.t.Fatal(err)
	}
}

// read returns the next message that is not a ping (pings are answered);
// binary messages are returned prefixed with "bin:".
func (c *wsClient) read() string {
	c.t.Helper()
	for {
		typ, b, err := c.conn.Read(c.ctx)
		if err != nil {
			c.t.Fatal(err)
		}
		if typ == websocket.MessageBinary {
			return "bin:" + string(b)
		}
		if string(b) == "2" {
			c.send("3")
			continue
		}
		return string(b)
	}
}

func (c *wsClient) expect(want string) {
	c.t.Helper()
	if got := c.read(); got != want {
		c.t.Fatalf("got %q, want %q", got, want)
	}
}

func (c *wsClient) connect(nsp, auth string) string {
	c.t.Helper()
	prefix := "40"
	if nsp != "/" {
		prefix += nsp + ","
	}
	c.send(prefix + auth)
	got := c.read()
	if !strings.HasPrefix(got, prefix+`{"sid":"`) {
		c.t.Fatalf("connect %s: %q", nsp, got)
	}
	return strings.TrimSuffix(strings.TrimPrefix(got, prefix+`{"sid":"`), `"}`)
}

func TestEndToEndChat(t *testing.T) {
	t.Parallel()
	chat := loadGuest(t, "chat", Options{})
	faults := loadGuest(t, "faults", Options{Limits: Limits{CallTimeout: 300 * time.Millisecond}})
	srv := socketio.New(socketio.Options{Logger: testLogger(t)})
	srv.Handle("/", nsHandler{chat})
	srv.Handle("/faults", nsHandler{faults})
	eng := engineio.New(engineio.Options{Path: "/socket.io/", Logger: testLogger(t)}, srv)
	ts := httptest.NewServer(eng)
	defer func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		eng.Shutdown(ctx)
		ts.Close()
	}()

	a := dial(t, ts.URL)
	a.send(`40{"token":"bad"}`)
	a.expect(`44{"message":"unauthorized","data":{"code":401}}`)
	aid := a.connect("/", `{"token":"ok"}`)

	a.send(`42["echo",1,"x"]`)
	a.expect(`42["echo-back",1,"x"]`)
	a.send(`421["echo",1]`)
	a.expect(`431[1]`)
	a.send(`451-2["echo",{"_placeholder":true,"num":0}]`)
	a.sendBinary([]byte{0, 1, 2, 255})
	a.expect(`461-2[{"_placeholder":true,"num":0}]`)
	a.expect("bin:\x00\x01\x02\xff")

	a.send(`423["whoami"]`)
	a.expect(`433[{"id":"` + aid + `","nsp":"/","auth":{"token":"ok"},"transport":"websocket"}]`)

	b := dial(t, ts.URL)
	bid := b.connect("/", "")
	a.send(`424["join",{"room":"r1"}]`)
	a.expect(`434[{"ok":true,"room":"r1","size":1}]`)
	b.send(`425["join",{"room":"r1"}]`)
	b.expect(`435[{"ok":true,"room":"r1","size":2}]`)
	a.send(`426["say",{"room":"r1","text":"hi"}]`)
	a.expect(`436[{"ok":true}]`)
	b.expect(`42["said",{"room":"r1","from":"` + aid + `","text":"hi"}]`)
	a.send(`427["stats"]`)
	a.expect(`437[{"clients":2}]`)
	a.send(`428["rooms"]`)
	a.expect(`438[["r1"]]`)

	// ping-me: the plugin asks back and answers the original ack later.
	a.send(`429["ping-me","p"]`)
	got := a.read()
	if !strings.HasPrefix(got, `42`) || !strings.HasSuffix(got, `["server-ping","p"]`) {
		t.Fatalf("server-ping = %q", got)
	}
	id := strings.TrimSuffix(strings.TrimPrefix(got, "42"), `["server-ping","p"]`)
	if _, err := strconv.Atoi(id); err != nil {
		t.Fatalf("server-ping id %q", id)
	}
	a.send(`43` + id + `["pong"]`)
	a.expect(`439[{"ok":true,"answer":"pong"}]`)

	// A faulting handler answers the ack with an error; the socket stays.
	a.connect("/faults", "")
	a.send(`42/faults,10["panic"]`)
	a.expect(`43/faults,10[{"error":"handler failed"}]`)
	a.send(`42/faults,11["ok","still here"]`)
	a.expect(`43/faults,11["still here"]`)

	// b leaves: a hears about it in r1.
	b.send(`41`)
	a.expect(`42["left",{"room":"r1","id":"` + bid + `","reason":"client namespace disconnect"}]`)

	a.send(`42["bye"]`)
	a.expect(`41`)
}
