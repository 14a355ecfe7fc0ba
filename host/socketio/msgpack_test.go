package socketio

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/sockwasm/sockwasm/protocol/msgpack"
	sp "github.com/sockwasm/sockwasm/protocol/socketio"
)

// mpPacket encodes a packet as socket.io-msgpack-parser does; data is
// JSON text whose placeholders refer to atts.
func mpPacket(t testing.TB, typ sp.Type, nsp string, id int64, data string, atts ...[]byte) []byte {
	t.Helper()
	p := sp.Packet{Type: typ, Namespace: nsp, Attachments: atts}
	if id >= 0 {
		p.ID, p.HasID = uint64(id), true
	}
	if data != "" {
		p.Data = []byte(data)
	}
	b, err := msgpack.AppendPacket(nil, &p, msgpack.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// sendMP writes a msgpack packet as a binary Engine.IO message.
func (w *wsClient) sendMP(typ sp.Type, nsp string, id int64, data string, atts ...[]byte) {
	w.t.Helper()
	w.sendBinary(mpPacket(w.t, typ, nsp, id, data, atts...))
}

// nextMP reads the next message, which must be a binary msgpack packet,
// and returns it and its raw bytes (without the Engine.IO type byte).
func (w *wsClient) nextMP() (sp.Packet, []byte) {
	w.t.Helper()
	f := w.next()
	if !f.binary {
		w.t.Fatalf("got %q (binary %v), want a binary message", f.data, f.binary)
	}
	raw := bytes.Clone(f.data)
	p, err := msgpack.DecodePacket(raw, msgpack.Limits{})
	if err != nil {
		w.t.Fatalf("%x: %v", raw, err)
	}
	return p, raw
}

// expectMP reads the next packet and compares it with want (data JSON
// text, attachments in placeholder order).
func (w *wsClient) expectMP(typ sp.Type, nsp string, id int64, data string, atts ...[]byte) []byte {
	w.t.Helper()
	p, raw := w.nextMP()
	if p.Type != typ || p.Namespace != nsp || p.HasID != (id >= 0) || (id >= 0 && p.ID != uint64(id)) || string(p.Data) != data {
		w.t.Fatalf("got %v %q id %v/%d %s, want %v %q id %d %s", p.Type, p.Namespace, p.HasID, p.ID, p.Data, typ, nsp, id, data)
	}
	if len(p.Attachments) != len(atts) {
		w.t.Fatalf("%d attachments, want %d", len(p.Attachments), len(atts))
	}
	for i := range atts {
		if !bytes.Equal(p.Attachments[i], atts[i]) {
			w.t.Fatalf("attachment %d: %x, want %x", i, p.Attachments[i], atts[i])
		}
	}
	return raw
}

func (w *wsClient) connectMP(nsp, auth string) string {
	w.t.Helper()
	w.sendMP(sp.Connect, nsp, -1, auth)
	p, _ := w.nextMP()
	var reply struct{ Sid string }
	if p.Type != sp.Connect || p.Namespace != nsp || json.Unmarshal(p.Data, &reply) != nil || reply.Sid == "" {
		w.t.Fatalf("connect reply %+v %s", p, p.Data)
	}
	return reply.Sid
}

func TestMsgpackEventsAcksAndBinary(t *testing.T) {
	h := newHandler()
	sockets := make(chan *Socket, 1)
	h.onConnect = func(s *Socket) {
		_ = s.Emit("auth", []byte("["+string(s.Auth())+"]"), nil)
		sockets <- s
	}
	var gotEvent *Event
	h.onEvent = func(s *Socket, ev *Event) {
		if ev.Name == "inspect" {
			gotEvent = ev
			_ = s.Ack(ev.AckID, nil, nil)
			return
		}
		newHandler().OnEvent(s, ev)
	}
	e := newEnv(t, Options{Parser: ParserMsgpack}, map[string]NamespaceHandler{"/": h})
	w := e.dial(t)
	w.connectMP("/", `{"token":"é😀","n":[1,2.5]}`)
	w.expectMP(sp.Event, "/", -1, `["auth",{"token":"é😀","n":[1,2.5]}]`)
	s := <-sockets

	// Plugins see what the JSON parser delivers: placeholders and
	// attachments.
	w.sendMP(sp.Event, "/", 5, `["inspect",{"a":{"_placeholder":true,"num":0}},[{"_placeholder":true,"num":1}]]`, []byte{1, 2}, []byte{})
	w.expectMP(sp.Ack, "/", 5, `[]`)
	if gotEvent == nil || string(gotEvent.Args) != `[{"a":{"_placeholder":true,"num":0}},[{"_placeholder":true,"num":1}]]` ||
		len(gotEvent.Attachments) != 2 || !bytes.Equal(gotEvent.Attachments[0], []byte{1, 2}) || !gotEvent.HasAck || gotEvent.AckID != 5 {
		t.Fatalf("event %+v", gotEvent)
	}

	// Echo with binary both ways, and an ack with binary.
	big := bytes.Repeat([]byte{0xab}, 8<<10)
	w.sendMP(sp.Event, "/", -1, `["message","x",{"_placeholder":true,"num":0},{"n":-1.5e-7}]`, big)
	w.expectMP(sp.Event, "/", -1, `["message-back","x",{"_placeholder":true,"num":0},{"n":-1.5e-7}]`, big)
	w.sendMP(sp.Event, "/", 9, `["message-with-ack",{"_placeholder":true,"num":0}]`, []byte{7})
	raw := w.expectMP(sp.Ack, "/", 9, `[{"_placeholder":true,"num":0}]`, []byte{7})
	if want := mpPacket(t, sp.Ack, "/", 9, `[{"_placeholder":true,"num":0}]`, []byte{7}); !bytes.Equal(raw, want) {
		t.Fatalf("ack %x, want %x", raw, want)
	}

	// Server→client ack with binary in the answer, and a timeout.
	resp := make(chan AckResponse, 2)
	if err := s.EmitWithAck("ping", []byte(`[1]`), nil, time.Second, func(r AckResponse) { resp <- r }); err != nil {
		t.Fatal(err)
	}
	w.expectMP(sp.Event, "/", 0, `["ping",1]`)
	w.sendMP(sp.Ack, "/", 0, `["pong",{"_placeholder":true,"num":0}]`, []byte{9, 8})
	if r := <-resp; r.Err != nil || string(r.Args) != `["pong",{"_placeholder":true,"num":0}]` || len(r.Attachments) != 1 || !bytes.Equal(r.Attachments[0], []byte{9, 8}) {
		t.Fatalf("%+v", r)
	}
	if err := s.EmitWithAck("slow", nil, nil, 30*time.Millisecond, func(r AckResponse) { resp <- r }); err != nil {
		t.Fatal(err)
	}
	w.expectMP(sp.Event, "/", 1, `["slow"]`)
	if r := <-resp; !errors.Is(r.Err, ErrAckTimeout) {
		t.Fatalf("%+v", r)
	}

	// A server disconnect sends DISCONNECT.
	s.Disconnect(false)
	w.expectMP(sp.Disconnect, "/", -1, "")
	if d := h.waitDisconnect(t); d.reason != ReasonServerNamespaceDisconnect {
		t.Fatal(d)
	}
}

func TestMsgpackConnectErrorAndBroadcast(t *testing.T) {
	h := newHandler()
	h.onConnect = func(*Socket) {}
	h.authorize = func(s *Socket) *ConnectError {
		if string(s.Auth()) != `{"ok":true}` {
			return &ConnectError{Message: "nope", Data: json.RawMessage(`{"code":42}`)}
		}
		return nil
	}
	e := newEnv(t, Options{Parser: ParserMsgpack}, map[string]NamespaceHandler{"/": h})
	w := e.dial(t)
	w.sendMP(sp.Connect, "/", -1, `{"ok":false}`)
	w.expectMP(sp.ConnectError, "/", -1, `{"message":"nope","data":{"code":42}}`)
	w.sendMP(sp.Connect, "/nowhere", -1, "")
	w.expectMP(sp.ConnectError, "/nowhere", -1, `{"message":"Invalid namespace"}`)

	n := e.srv.Of("/")
	var ws []*wsClient
	var ids []string
	for range 3 {
		c := e.dial(t)
		ws = append(ws, c)
		ids = append(ids, c.connectMP("/", `{"ok":true}`))
	}
	n.Socket(ids[0]).Join("r")
	n.Socket(ids[1]).Join("r")
	if err := n.Broadcast(BroadcastOptions{Rooms: []string{"r"}}, "said", []byte(`[{"t":"hi"},{"_placeholder":true,"num":0}]`), [][]byte{{1, 2, 3}}); err != nil {
		t.Fatal(err)
	}
	n.Broadcast(BroadcastOptions{}, "marker", nil, nil)
	a := ws[0].expectMP(sp.Event, "/", -1, `["said",{"t":"hi"},{"_placeholder":true,"num":0}]`, []byte{1, 2, 3})
	b := ws[1].expectMP(sp.Event, "/", -1, `["said",{"t":"hi"},{"_placeholder":true,"num":0}]`, []byte{1, 2, 3})
	if !bytes.Equal(a, b) {
		t.Fatal("receivers got different bytes")
	}
	for _, c := range ws {
		c.expectMP(sp.Event, "/", -1, `["marker"]`)
	}
	// A bad placeholder from a handler fails the emit, nothing is sent.
	if err := n.Socket(ids[2]).Emit("x", []byte(`[{"_placeholder":true,"num":3}]`), nil); err == nil {
		t.Fatal("emit with a dangling placeholder succeeded")
	}
}

func TestMsgpackMalformedClosesSession(t *testing.T) {
	for _, c := range []struct {
		name string
		send func(w *wsClient)
	}{
		{"text packet", func(w *wsClient) { w.send("0") }},
		{"garbage", func(w *wsClient) { w.sendBinary([]byte("\xc1")) }},
		{"truncated", func(w *wsClient) { w.sendBinary(mpPacket(w.t, sp.Event, "/", -1, `["a"]`)[:5]) }},
		{"binary type", func(w *wsClient) {
			b, _ := msgpack.AppendMsgpack(nil, []byte(`{"type":5,"nsp":"/","data":["a"]}`), nil, msgpack.Limits{})
			w.sendBinary(b)
		}},
		{"reserved event", func(w *wsClient) { w.sendMP(sp.Event, "/", -1, `["disconnect"]`) }},
		{"too many attachments", func(w *wsClient) {
			w.sendMP(sp.Event, "/", -1, `["a",{"_placeholder":true,"num":0},{"_placeholder":true,"num":0},{"_placeholder":true,"num":0}]`, []byte{1})
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			h := newHandler()
			h.onConnect = func(*Socket) {}
			e := newEnv(t, Options{Parser: ParserMsgpack, MaxAttachments: 2}, map[string]NamespaceHandler{"/": h})
			other := e.dial(t)
			other.connectMP("/", "")
			w := e.dial(t)
			w.connectMP("/", "")
			c.send(w)
			w.waitClosed()
			if d := h.waitDisconnect(t); d.reason != ReasonParseError {
				t.Fatalf("reason %q", d.reason)
			}
			other.sendMP(sp.Event, "/", 1, `["message-with-ack",1]`)
			other.expectMP(sp.Ack, "/", 1, `[1]`)
		})
	}
}

// TestMsgpackPolling runs the msgpack parser over long-polling, where
// binary messages travel as base64 "b" records.
func TestMsgpackPolling(t *testing.T) {
	e := newEnv(t, Options{Parser: ParserMsgpack}, map[string]NamespaceHandler{"/": newHandler()})
	base := "http" + strings.TrimPrefix(strings.TrimSuffix(e.url, "transport=websocket"), "ws") + "transport=polling"
	get := func(url string) string {
		t.Helper()
		resp, err := http.Get(url)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != 200 {
			t.Fatalf("GET %d %s", resp.StatusCode, b)
		}
		return string(b)
	}
	post := func(url, body string) {
		t.Helper()
		resp, err := http.Post(url, "text/plain", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Fatalf("POST %d", resp.StatusCode)
		}
	}
	open := get(base)
	var hs struct{ Sid string }
	if !strings.HasPrefix(open, "0") || json.Unmarshal([]byte(open[1:]), &hs) != nil {
		t.Fatalf("open %q", open)
	}
	url := base + "&sid=" + hs.Sid
	b64 := func(b []byte) string { return "b" + base64.StdEncoding.EncodeToString(b) }
	decode := func(rec string) sp.Packet {
		t.Helper()
		raw, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(rec, "b"))
		if !strings.HasPrefix(rec, "b") || err != nil {
			t.Fatalf("record %q", rec)
		}
		p, err := msgpack.DecodePacket(raw, msgpack.Limits{})
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	post(url, b64(mpPacket(t, sp.Connect, "/", -1, `{"k":"v"}`)))
	var recs []string
	for len(recs) < 2 {
		recs = append(recs, strings.Split(get(url), "\x1e")...)
	}
	if p := decode(recs[0]); p.Type != sp.Connect || !bytes.HasPrefix(p.Data, []byte(`{"sid":`)) {
		t.Fatalf("%+v", p)
	}
	if p := decode(recs[1]); p.Type != sp.Event || string(p.Data) != `["auth",{"k":"v"}]` {
		t.Fatalf("%+v %s", p, p.Data)
	}
	post(url, b64(mpPacket(t, sp.Event, "/", 3, `["message-with-ack",{"_placeholder":true,"num":0},"ü"]`, []byte{0, 255}))+"\x1e"+
		b64(mpPacket(t, sp.Event, "/", -1, `["message",2]`)))
	recs = nil
	for len(recs) < 2 {
		recs = append(recs, strings.Split(get(url), "\x1e")...)
	}
	if p := decode(recs[0]); p.Type != sp.Ack || p.ID != 3 || string(p.Data) != `[{"_placeholder":true,"num":0},"ü"]` || !bytes.Equal(p.Attachments[0], []byte{0, 255}) {
		t.Fatalf("%+v %s", p, p.Data)
	}
	if p := decode(recs[1]); p.Type != sp.Event || string(p.Data) != `["message-back",2]` {
		t.Fatalf("%+v %s", p, p.Data)
	}
	// A text packet closes the session.
	post(url, "40")
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode == 200 && !strings.Contains(string(body), "1") {
		t.Fatalf("session still open: %d %q", resp.StatusCode, body)
	}
}
