package socketio

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/rs/zerolog"

	"github.com/sockwasm/sockwasm/host/engineio"
)

// testHandler is a NamespaceHandler whose behaviour tests set per field.
// By default: "auth" is emitted on connect, "message" is echoed as
// "message-back" and "message-with-ack" is acked with the same args.
type testHandler struct {
	authorize func(*Socket) *ConnectError
	onConnect func(*Socket)
	onEvent   func(*Socket, *Event)
	disc      chan disconnect
}

type disconnect struct {
	id     string
	reason Reason
	rooms  []string
}

func newHandler() *testHandler { return &testHandler{disc: make(chan disconnect, 16)} }

func (h *testHandler) Authorize(s *Socket) *ConnectError {
	if h.authorize != nil {
		return h.authorize(s)
	}
	return nil
}

func (h *testHandler) OnConnect(s *Socket) {
	if h.onConnect != nil {
		h.onConnect(s)
		return
	}
	_ = s.Emit("auth", []byte("["+string(s.Auth())+"]"), nil)
}

func (h *testHandler) OnEvent(s *Socket, ev *Event) {
	if h.onEvent != nil {
		h.onEvent(s, ev)
		return
	}
	switch ev.Name {
	case "message":
		_ = s.Emit("message-back", ev.Args, ev.Attachments)
	case "message-with-ack":
		if ev.HasAck {
			_ = s.Ack(ev.AckID, ev.Args, ev.Attachments)
		}
	}
}

func (h *testHandler) OnDisconnect(s *Socket, reason Reason, rooms []string) {
	h.disc <- disconnect{s.ID(), reason, rooms}
}

func (h *testHandler) waitDisconnect(t *testing.T) disconnect {
	t.Helper()
	select {
	case d := <-h.disc:
		return d
	case <-time.After(3 * time.Second):
		t.Fatal("no OnDisconnect")
	}
	return disconnect{}
}

type env struct {
	srv *Server
	eng *engineio.Server
	url string
}

func newEnv(t testing.TB, opts Options, nsps map[string]NamespaceHandler) *env {
	t.Helper()
	srv := New(opts)
	for name, h := range nsps {
		srv.Handle(name, h)
	}
	eng := engineio.New(engineio.Options{Path: "/socket.io/", PingInterval: 10 * time.Second, PingTimeout: 5 * time.Second}, srv)
	hs := httptest.NewServer(eng)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
		_ = eng.Shutdown(ctx)
		hs.Close()
	})
	return &env{srv: srv, eng: eng, url: "ws" + strings.TrimPrefix(hs.URL, "http") + "/socket.io/?EIO=4&transport=websocket"}
}

type frame struct {
	data   []byte
	binary bool
}

// wsClient is a raw Engine.IO WebSocket client: it answers pings and
// queues every other message.
type wsClient struct {
	t      testing.TB
	c      *websocket.Conn
	frames chan frame
	closed chan struct{}
}

func (e *env) dial(t testing.TB) *wsClient {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	c, _, err := websocket.Dial(ctx, e.url, nil)
	if err != nil {
		t.Fatal(err)
	}
	c.SetReadLimit(1 << 20)
	w := &wsClient{t: t, c: c, frames: make(chan frame, 256), closed: make(chan struct{})}
	go w.readLoop()
	t.Cleanup(func() { _ = c.CloseNow() })
	f := w.next()
	if f.binary || !bytes.HasPrefix(f.data, []byte(`0{"sid":`)) {
		t.Fatalf("open packet: %q", f.data)
	}
	return w
}

func (w *wsClient) readLoop() {
	defer close(w.closed)
	for {
		typ, data, err := w.c.Read(context.Background())
		if err != nil {
			return
		}
		if typ == websocket.MessageText && string(data) == "2" {
			_ = w.c.Write(context.Background(), websocket.MessageText, []byte("3"))
			continue
		}
		w.frames <- frame{data, typ == websocket.MessageBinary}
	}
}

func (w *wsClient) next() frame {
	w.t.Helper()
	select {
	case f := <-w.frames:
		return f
	case <-w.closed:
		select {
		case f := <-w.frames:
			return f
		default:
		}
		w.t.Fatal("connection closed while waiting for a message")
	case <-time.After(3 * time.Second):
		w.t.Fatal("timeout waiting for a message")
	}
	return frame{}
}

// send writes a Socket.IO text packet (the Engine.IO "4" is added).
func (w *wsClient) send(s string) {
	w.t.Helper()
	if err := w.c.Write(context.Background(), websocket.MessageText, []byte("4"+s)); err != nil {
		w.t.Fatal(err)
	}
}

func (w *wsClient) sendBinary(b []byte) {
	w.t.Helper()
	if err := w.c.Write(context.Background(), websocket.MessageBinary, b); err != nil {
		w.t.Fatal(err)
	}
}

// expect reads the next message: an Engine.IO text message equal to want.
func (w *wsClient) expect(want string) {
	w.t.Helper()
	f := w.next()
	if f.binary || string(f.data) != want {
		w.t.Fatalf("got %q (binary %v), want %q", f.data, f.binary, want)
	}
}

func (w *wsClient) expectBinary(want []byte) {
	w.t.Helper()
	f := w.next()
	if !f.binary || !bytes.Equal(f.data, want) {
		w.t.Fatalf("got %q (binary %v), want binary %q", f.data, f.binary, want)
	}
}

// connect joins nsp ("" for "/") and returns the socket id.
func (w *wsClient) connect(nsp, auth string) string {
	w.t.Helper()
	prefix := ""
	if nsp != "" {
		prefix = nsp + ","
	}
	w.send("0" + prefix + auth)
	f := w.next()
	var reply struct{ Sid string }
	body, ok := bytes.CutPrefix(f.data, []byte("40"+prefix))
	if !ok || json.Unmarshal(body, &reply) != nil || reply.Sid == "" || string(body) != `{"sid":"`+reply.Sid+`"}` {
		w.t.Fatalf("connect reply %q", f.data)
	}
	return reply.Sid
}

func (w *wsClient) waitClosed() {
	w.t.Helper()
	select {
	case <-w.closed:
	case <-time.After(3 * time.Second):
		w.t.Fatal("connection not closed")
	}
}

func TestConnectAndAuth(t *testing.T) {
	h, hc := newHandler(), newHandler()
	e := newEnv(t, Options{}, map[string]NamespaceHandler{"/": h, "/custom": hc})
	w := e.dial(t)
	id := w.connect("", "")
	w.expect(`42["auth",{}]`)
	if s := e.srv.Of("/").Socket(id); s == nil || !s.Connected() || s.Transport() != "websocket" || s.Handshake() == nil || s.SessionID() == "" {
		t.Fatal("socket not registered")
	}
	if got := e.srv.Of("/").Socket(id).Rooms(); len(got) != 1 || got[0] != id {
		t.Fatalf("rooms %v", got)
	}
	w.connect("/custom", `{"token":"abc"}`)
	w.expect(`42/custom,["auth",{"token":"abc"}]`)
	w2 := e.dial(t)
	w2.connect("", `{"token":"123"}`)
	w2.expect(`42["auth",{"token":"123"}]`)
	if n := e.srv.Of("/").Len(); n != 2 {
		t.Fatalf("Len %d", n)
	}
}

func TestInvalidNamespaceAndConnectError(t *testing.T) {
	h := newHandler()
	h.authorize = func(s *Socket) *ConnectError {
		if string(s.Auth()) != `{"token":"ok"}` {
			return &ConnectError{Message: "not \"authorized\"", Data: json.RawMessage(`{"code":1}`)}
		}
		return nil
	}
	e := newEnv(t, Options{}, map[string]NamespaceHandler{"/": newHandler(), "/admin": h})
	w := e.dial(t)
	w.send("0/random,")
	w.expect(`44/random,{"message":"Invalid namespace"}`)
	w.send(`0/admin,{"token":"no"}`)
	w.expect(`44/admin,{"message":"not \"authorized\"","data":{"code":1}}`)
	w.connect("/admin", `{"token":"ok"}`)
	w.expect(`42/admin,["auth",{"token":"ok"}]`)
}

func TestEventsAndClientAcks(t *testing.T) {
	h := newHandler()
	got := make(chan *Event, 4)
	later := make(chan *Socket, 1)
	h.onEvent = func(s *Socket, ev *Event) {
		got <- ev
		switch ev.Name {
		case "later":
			later <- s
		default:
			if ev.HasAck {
				if err := s.Ack(ev.AckID, ev.Args, ev.Attachments); err != nil {
					t.Error(err)
				}
				if err := s.Ack(ev.AckID, ev.Args, nil); !errors.Is(err, ErrUnknownAck) {
					t.Errorf("second Ack: %v", err)
				}
			} else {
				_ = s.Emit("message-back", ev.Args, ev.Attachments)
			}
		}
	}
	e := newEnv(t, Options{}, map[string]NamespaceHandler{"/": h})
	w := e.dial(t)
	w.connect("", "")
	w.expect(`42["auth",{}]`)
	w.send(`2["message",1,"2",{"3":[true]}]`)
	w.expect(`42["message-back",1,"2",{"3":[true]}]`)
	ev := <-got
	if ev.Name != "message" || string(ev.Args) != `[1,"2",{"3":[true]}]` || ev.HasAck {
		t.Fatalf("%+v", ev)
	}
	w.send(`2456["message-with-ack",1,"2",{"3":[false]}]`)
	w.expect(`43456[1,"2",{"3":[false]}]`)
	ev = <-got
	if !ev.HasAck || ev.AckID != 456 {
		t.Fatalf("%+v", ev)
	}
	// An ack answered later from another goroutine.
	w.send(`27["later"]`)
	s := <-later
	go func() { _ = s.Ack(7, []byte(`["done"]`), nil) }()
	w.expect(`437["done"]`)
	if err := s.Ack(99, nil, nil); !errors.Is(err, ErrUnknownAck) {
		t.Fatal(err)
	}
	if err := s.Emit("x", []byte(`{}`), nil); !errors.Is(err, ErrInvalidArgs) {
		t.Fatal(err)
	}
}

func TestServerAcks(t *testing.T) {
	h := newHandler()
	sockets := make(chan *Socket, 1)
	h.onConnect = func(s *Socket) { sockets <- s }
	e := newEnv(t, Options{}, map[string]NamespaceHandler{"/": h})
	w := e.dial(t)
	w.connect("", "")
	s := <-sockets
	resp := make(chan AckResponse, 3)
	if err := s.EmitWithAck("ping", []byte(`[1]`), nil, time.Second, func(r AckResponse) { resp <- r }); err != nil {
		t.Fatal(err)
	}
	w.expect(`420["ping",1]`)
	w.send(`30["pong",{"a":1}]`)
	if r := <-resp; r.Err != nil || string(r.Args) != `["pong",{"a":1}]` {
		t.Fatalf("%+v", r)
	}
	// A duplicate answer is ignored.
	w.send(`30["again"]`)
	// Timeout.
	if err := s.EmitWithAck("slow", nil, nil, 50*time.Millisecond, func(r AckResponse) { resp <- r }); err != nil {
		t.Fatal(err)
	}
	w.expect(`421["slow"]`)
	if r := <-resp; !errors.Is(r.Err, ErrAckTimeout) {
		t.Fatalf("%+v", r)
	}
	w.send(`31["too late"]`)
	// Binary ack from the client.
	if err := s.EmitWithAck("bin", nil, nil, time.Second, func(r AckResponse) { resp <- r }); err != nil {
		t.Fatal(err)
	}
	w.expect(`422["bin"]`)
	w.send(`61-2[{"_placeholder":true,"num":0}]`)
	w.sendBinary([]byte{9, 8})
	if r := <-resp; r.Err != nil || string(r.Args) != `[{"_placeholder":true,"num":0}]` || len(r.Attachments) != 1 || !bytes.Equal(r.Attachments[0], []byte{9, 8}) {
		t.Fatalf("%+v", r)
	}
	// Disconnect fails pending acks.
	if err := s.EmitWithAck("never", nil, nil, 0, func(r AckResponse) { resp <- r }); err != nil {
		t.Fatal(err)
	}
	w.expect(`423["never"]`)
	w.send("1")
	if r := <-resp; !errors.Is(r.Err, ErrDisconnected) {
		t.Fatalf("%+v", r)
	}
	if d := h.waitDisconnect(t); d.reason != ReasonClientNamespaceDisconnect {
		t.Fatal(d)
	}
	if err := s.EmitWithAck("x", nil, nil, 0, func(AckResponse) { t.Error("called") }); !errors.Is(err, ErrDisconnected) {
		t.Fatal(err)
	}
}

func TestBinaryEventsByteExact(t *testing.T) {
	e := newEnv(t, Options{}, map[string]NamespaceHandler{"/": newHandler()})
	w := e.dial(t)
	w.connect("", "")
	w.expect(`42["auth",{}]`)
	w.send(`52-["message",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]`)
	w.sendBinary([]byte{1, 2, 3})
	w.sendBinary([]byte{4, 5, 6})
	w.expect(`452-["message-back",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]`)
	w.expectBinary([]byte{1, 2, 3})
	w.expectBinary([]byte{4, 5, 6})
	w.send(`52-789["message-with-ack",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]`)
	w.sendBinary([]byte{1, 2, 3})
	w.sendBinary([]byte{4, 5, 6})
	w.expect(`462-789[{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]`)
	w.expectBinary([]byte{1, 2, 3})
	w.expectBinary([]byte{4, 5, 6})
}

func TestRoomsAndBroadcast(t *testing.T) {
	h := newHandler()
	h.onConnect = func(*Socket) {}
	e := newEnv(t, Options{}, map[string]NamespaceHandler{"/": h})
	n := e.srv.Of("/")
	var ws []*wsClient
	var ids []string
	for range 3 {
		w := e.dial(t)
		ws = append(ws, w)
		ids = append(ids, w.connect("", ""))
	}
	n.Socket(ids[0]).Join("r", "s")
	n.Socket(ids[1]).Join("r")
	if got := n.Socket(ids[0]).Rooms(); strings.Join(got, ",") != strings.Join(sortedCopy([]string{ids[0], "r", "s"}), ",") {
		t.Fatalf("rooms %v", got)
	}
	if n.RoomSize("r") != 2 || n.RoomSize("s") != 1 {
		t.Fatal(n.RoomSize("r"), n.RoomSize("s"))
	}
	if got := sortedCopy(n.Adapter().Sockets([]string{"r", "s"})); strings.Join(got, ",") != strings.Join(sortedCopy(ids[:2]), ",") {
		t.Fatalf("Sockets %v", got)
	}
	if got := n.Adapter().Sockets(nil); len(got) != 3 {
		t.Fatalf("Sockets %v", got)
	}
	// Everyone.
	if err := n.Broadcast(BroadcastOptions{}, "all", []byte(`[1]`), nil); err != nil {
		t.Fatal(err)
	}
	for _, w := range ws {
		w.expect(`42["all",1]`)
	}
	// Room r except socket 1: socket 0 only. Then a marker to everyone
	// proves the others got nothing before it.
	n.Broadcast(BroadcastOptions{Rooms: []string{"r"}, Except: []string{ids[1]}}, "r", nil, nil)
	n.Broadcast(BroadcastOptions{Rooms: []string{"r", "s"}, Except: []string{"s"}}, "rs", nil, [][]byte{{7}})
	n.Broadcast(BroadcastOptions{}, "marker", nil, nil)
	ws[0].expect(`42["r"]`)
	ws[0].expect(`42["marker"]`)
	ws[1].expect(`451-["rs"]`)
	ws[1].expectBinary([]byte{7})
	ws[1].expect(`42["marker"]`)
	ws[2].expect(`42["marker"]`)
	// Leave, and rooms reported on disconnect.
	n.Socket(ids[0]).Leave("s")
	ws[0].send("1")
	if d := h.waitDisconnect(t); d.id != ids[0] || strings.Join(d.rooms, ",") != "r" || d.reason != ReasonClientNamespaceDisconnect {
		t.Fatalf("%+v", d)
	}
	if n.RoomSize("r") != 1 || n.Socket(ids[0]) != nil || n.Len() != 2 {
		t.Fatal("not cleaned up")
	}
}

func sortedCopy(s []string) []string {
	out := append([]string(nil), s...)
	for i := range out {
		for j := i + 1; j < len(out); j++ {
			if out[j] < out[i] {
				out[i], out[j] = out[j], out[i]
			}
		}
	}
	return out
}

func TestMultiplexAndNamespaceDisconnect(t *testing.T) {
	h, hc := newHandler(), newHandler()
	e := newEnv(t, Options{}, map[string]NamespaceHandler{"/": h, "/custom": hc})
	w := e.dial(t)
	w.connect("", "")
	w.expect(`42["auth",{}]`)
	w.connect("/custom", "")
	w.expect(`42/custom,["auth",{}]`)
	w.send(`2/custom,["message",1]`) // /custom echoes too (default handler)
	w.expect(`42/custom,["message-back",1]`)
	w.send(`2["message",2]`)
	w.expect(`42["message-back",2]`)
	w.send("1")
	if d := h.waitDisconnect(t); d.reason != ReasonClientNamespaceDisconnect {
		t.Fatal(d)
	}
	// The session and /custom are still up.
	w.send(`2/custom,["message",3]`)
	w.expect(`42/custom,["message-back",3]`)
	// Rejoin.
	w.connect("", "")
	w.expect(`42["auth",{}]`)
	w.send("1/custom,")
	if d := hc.waitDisconnect(t); d.reason != ReasonClientNamespaceDisconnect {
		t.Fatal(d)
	}
}

func TestProtocolErrorsCloseOnlyThatSession(t *testing.T) {
	malformed := []string{"abc", `2{}`, `2abc["message"]`, `599-["a"]`, `511-["a"]`, `2["a",` + strings.Repeat("[", 100) + strings.Repeat("]", 100) + `]`,
		"2[\"message\",\"bad \xff\xfe\"]"}
	// Sequence errors, closed like the reference server does ("forced
	// close"): a second CONNECT to a namespace joined, packets for a
	// namespace not joined, a CONNECT_ERROR from the client.
	outOfSequence := []string{"0", `2/other,["message"]`, `3/other,1[]`, "1/other,", `4{"message":"x"}`}
	for _, bad := range append(malformed, outOfSequence...) {
		want := ReasonParseError
		if slices.Contains(outOfSequence, bad) {
			want = ReasonForcedClose
		}
		t.Run(bad, func(t *testing.T) {
			h := newHandler()
			e := newEnv(t, Options{}, map[string]NamespaceHandler{"/": h})
			good := e.dial(t)
			good.connect("", "")
			good.expect(`42["auth",{}]`)
			w := e.dial(t)
			w.connect("", "")
			w.expect(`42["auth",{}]`)
			w.send(bad)
			w.waitClosed()
			if d := h.waitDisconnect(t); d.reason != want {
				t.Fatalf("%+v, want reason %q", d, want)
			}
			good.send(`2["message","still"]`)
			good.expect(`42["message-back","still"]`)
		})
	}
	t.Run("first packet", func(t *testing.T) {
		e := newEnv(t, Options{}, map[string]NamespaceHandler{"/": newHandler()})
		w := e.dial(t)
		w.send("abc")
		w.waitClosed()
	})
	// An EVENT before any CONNECT closes the session too.
	t.Run("event before connect", func(t *testing.T) {
		e := newEnv(t, Options{}, map[string]NamespaceHandler{"/": newHandler()})
		w := e.dial(t)
		w.send(`2["message",1]`)
		w.waitClosed()
	})
	// So does an event for a namespace left.
	t.Run("event after leaving", func(t *testing.T) {
		h := newHandler()
		e := newEnv(t, Options{}, map[string]NamespaceHandler{"/": h})
		w := e.dial(t)
		w.connect("", "")
		w.expect(`42["auth",{}]`)
		w.send("1")
		h.waitDisconnect(t)
		w.send(`2["message",1]`)
		w.waitClosed()
	})
	t.Run("unexpected binary", func(t *testing.T) {
		e := newEnv(t, Options{}, map[string]NamespaceHandler{"/": newHandler()})
		w := e.dial(t)
		w.connect("", "")
		w.expect(`42["auth",{}]`)
		w.sendBinary([]byte{1})
		w.waitClosed()
	})
}

func TestServerDisconnect(t *testing.T) {
	h, hc := newHandler(), newHandler()
	sockets := make(chan *Socket, 4)
	h.onConnect = func(s *Socket) { sockets <- s }
	hc.onConnect = func(s *Socket) { sockets <- s }
	e := newEnv(t, Options{}, map[string]NamespaceHandler{"/": h, "/custom": hc})
	w := e.dial(t)
	w.connect("", "")
	s := <-sockets
	s.Join("room")
	s.Disconnect(false)
	w.expect("41")
	if d := h.waitDisconnect(t); d.reason != ReasonServerNamespaceDisconnect || strings.Join(d.rooms, ",") != "room" {
		t.Fatal(d)
	}
	if s.Connected() || s.Emit("x", nil, nil) == nil {
		t.Fatal("still connected")
	}
	w.connect("", "")
	s = <-sockets
	w.connect("/custom", "")
	<-sockets
	s.Disconnect(true)
	got := map[string]bool{}
	got[string(w.next().data)] = true
	got[string(w.next().data)] = true
	if !got["41"] || !got["41/custom,"] {
		t.Fatal(got)
	}
	w.waitClosed()
	if d := h.waitDisconnect(t); d.reason != ReasonServerNamespaceDisconnect {
		t.Fatal(d)
	}
	if d := hc.waitDisconnect(t); d.reason != ReasonServerNamespaceDisconnect {
		t.Fatal(d)
	}
}

func TestTransportCloseAndShutdown(t *testing.T) {
	h := newHandler()
	h.onConnect = func(*Socket) {}
	e := newEnv(t, Options{}, map[string]NamespaceHandler{"/": h})
	w := e.dial(t)
	w.connect("", "")
	_ = w.c.Close(websocket.StatusNormalClosure, "")
	if d := h.waitDisconnect(t); d.reason != ReasonTransportClose {
		t.Fatal(d)
	}
	w2 := e.dial(t)
	w2.connect("", "")
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	if err := e.srv.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	if d := h.waitDisconnect(t); d.reason != ReasonServerShuttingDown {
		t.Fatal(d)
	}
	w2.waitClosed()
	if err := e.srv.Shutdown(ctx); err != nil {
		t.Fatal("second Shutdown:", err)
	}
}

func TestConnectTimeout(t *testing.T) {
	e := newEnv(t, Options{ConnectTimeout: 100 * time.Millisecond}, map[string]NamespaceHandler{"/": newHandler()})
	w := e.dial(t)
	w.waitClosed()
	w2 := e.dial(t)
	w2.connect("", "")
	w2.expect(`42["auth",{}]`)
	time.Sleep(200 * time.Millisecond)
	w2.send(`2["message",1]`)
	w2.expect(`42["message-back",1]`)
}

func TestConcurrentEmitsAndBroadcasts(t *testing.T) {
	h := newHandler()
	h.onConnect = func(*Socket) {}
	e := newEnv(t, Options{}, map[string]NamespaceHandler{"/": h})
	n := e.srv.Of("/")
	w := e.dial(t)
	id := w.connect("", "")
	s := n.Socket(id)
	var wg sync.WaitGroup
	for i := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 25 {
				if i%2 == 0 {
					_ = s.Emit("e", nil, nil)
				} else {
					_ = n.Broadcast(BroadcastOptions{Rooms: []string{id}}, "e", nil, nil)
				}
				s.Join("x")
				s.Leave("x")
			}
		}()
	}
	wg.Wait()
	for range 100 {
		w.expect(`42["e"]`)
	}
}

// syncBuffer is a goroutine-safe log sink.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

func TestProtocolErrorIsLogged(t *testing.T) {
	var buf syncBuffer
	lg := zerolog.New(&buf)
	e := newEnv(t, Options{Logger: &lg}, map[string]NamespaceHandler{"/": newHandler()})
	w := e.dial(t)
	w.send(`2{}`)
	w.waitClosed()
	deadline := time.Now().Add(2 * time.Second)
	for !strings.Contains(buf.String(), "payload is not an array") {
		if time.Now().After(deadline) {
			t.Fatalf("log: %s", buf.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
	if !strings.Contains(buf.String(), `"sid":`) {
		t.Fatalf("no sid in log: %s", buf.String())
	}
}

func TestPendingAckLimitAndHandlerSwap(t *testing.T) {
	h := newHandler()
	sockets := make(chan *Socket, 1)
	h.onConnect = func(s *Socket) { sockets <- s }
	e := newEnv(t, Options{MaxPendingAcks: 2}, map[string]NamespaceHandler{"/": h})
	w := e.dial(t)
	w.connect("", "")
	s := <-sockets
	for i := range 3 {
		err := s.EmitWithAck("q", nil, nil, 0, func(AckResponse) {})
		if (i < 2) != (err == nil) || (i == 2 && !errors.Is(err, ErrTooManyAcks)) {
			t.Fatalf("emit %d: %v", i, err)
		}
	}
	// Registering "/" again swaps the handler for connected sockets.
	h2 := newHandler()
	h2.onEvent = func(s *Socket, ev *Event) { _ = s.Emit("v2", ev.Args, nil) }
	if e.srv.Handle("/", h2) != e.srv.Of("/") {
		t.Fatal("namespace replaced")
	}
	w.send(`2["message",1]`)
	w.expect(`420["q"]`)
	w.expect(`421["q"]`)
	w.expect(`42["v2",1]`)
}

func BenchmarkBroadcast(b *testing.B) {
	h := newHandler()
	h.onConnect = func(*Socket) {}
	e := newEnv(b, Options{}, map[string]NamespaceHandler{"/": h})
	const clients = 20
	var ws []*wsClient
	for range clients {
		w := e.dial(b)
		w.connect("", "")
		ws = append(ws, w)
	}
	n := e.srv.Of("/")
	args := []byte(`[{"user":"alice","text":"hello, world"},42]`)
	b.ReportAllocs()
	for b.Loop() {
		if err := n.Broadcast(BroadcastOptions{}, "chat", args, nil); err != nil {
			b.Fatal(err)
		}
		for _, w := range ws {
			w.next()
		}
	}
}

func TestOnDisconnectSerializedWithHandlers(t *testing.T) {
	h := newHandler()
	sockets := make(chan *Socket, 1)
	entered, release := make(chan struct{}), make(chan struct{})
	var inHandler sync.Mutex
	h.onConnect = func(s *Socket) { sockets <- s }
	h.onEvent = func(s *Socket, ev *Event) {
		inHandler.Lock()
		defer inHandler.Unlock()
		switch ev.Name {
		case "block":
			close(entered)
			<-release
		case "self":
			s.Disconnect(false)
			select {
			case d := <-h.disc:
				t.Errorf("OnDisconnect ran inside the handler: %+v", d)
			default:
			}
		}
	}
	e := newEnv(t, Options{}, map[string]NamespaceHandler{"/": h})
	w := e.dial(t)
	w.connect("", "")
	s := <-sockets
	w.send(`2["block"]`)
	<-entered
	s.Disconnect(false) // returns at once; OnDisconnect waits for the handler
	select {
	case d := <-h.disc:
		t.Fatalf("OnDisconnect during a handler call: %+v", d)
	case <-time.After(50 * time.Millisecond):
	}
	close(release)
	if d := h.waitDisconnect(t); d.reason != ReasonServerNamespaceDisconnect {
		t.Fatal(d)
	}
	w.expect("41")
	w.connect("", "")
	<-sockets
	w.send(`2["self"]`)
	w.expect("41")
	if d := h.waitDisconnect(t); d.reason != ReasonServerNamespaceDisconnect {
		t.Fatal(d)
	}
}
