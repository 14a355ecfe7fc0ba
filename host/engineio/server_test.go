package engineio

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"
)

// testHandler echoes every message back and records sessions and close
// reasons.
type testHandler struct {
	echo     bool
	sessions chan *Session
	closed   chan closeEvent
}

type closeEvent struct {
	sid    string
	reason CloseReason
}

type testReceiver struct {
	h      *testHandler
	s      *Session
	mu     sync.Mutex
	inMsg  bool
	closed bool
	t      *testing.T
}

func (r *testReceiver) OnMessage(data []byte, binary bool) {
	r.mu.Lock()
	if r.inMsg || r.closed {
		r.t.Errorf("OnMessage concurrent or after OnClose")
	}
	r.inMsg = true
	r.mu.Unlock()
	if r.h.echo {
		_ = r.s.Send(Message{Data: data, Binary: binary})
	}
	r.mu.Lock()
	r.inMsg = false
	r.mu.Unlock()
}

func (r *testReceiver) OnClose(reason CloseReason) {
	r.mu.Lock()
	if r.closed || r.inMsg {
		r.t.Errorf("OnClose twice or during OnMessage")
	}
	r.closed = true
	r.mu.Unlock()
	r.h.closed <- closeEvent{r.s.ID(), reason}
}

type openFunc func(s *Session) Receiver

func (f openFunc) Open(s *Session) Receiver { return f(s) }

type fixture struct {
	t    *testing.T
	srv  *Server
	url  string // http://127.0.0.1:port/engine.io/
	addr string // 127.0.0.1:port
	h    *testHandler
}

func newFixture(t *testing.T, opts Options) *fixture {
	t.Helper()
	return newFixtureWith(t, opts, nil)
}

// newFixtureWith is newFixture with setup run on the server and the
// unstarted test server before it starts.
func newFixtureWith(t *testing.T, opts Options, setup func(*Server, *httptest.Server)) *fixture {
	t.Helper()
	h := &testHandler{echo: true, sessions: make(chan *Session, 100), closed: make(chan closeEvent, 100)}
	if opts.PingInterval == 0 {
		opts.PingInterval = time.Minute
	}
	if opts.PingTimeout == 0 {
		opts.PingTimeout = time.Minute
	}
	srv := New(opts, openFunc(func(s *Session) Receiver {
		h.sessions <- s
		return &testReceiver{h: h, s: s, t: t}
	}))
	ts := httptest.NewUnstartedServer(srv)
	if setup != nil {
		setup(srv, ts)
	}
	ts.Start()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := srv.Shutdown(ctx); err != nil {
			t.Errorf("Shutdown: %v", err)
		}
		ts.Close()
	})
	return &fixture{t: t, srv: srv, url: ts.URL + DefaultPath, addr: ts.Listener.Addr().String(), h: h}
}

func (f *fixture) do(method, query, body string) (int, string, http.Header) {
	f.t.Helper()
	req, err := http.NewRequest(method, f.url+"?"+query, strings.NewReader(body))
	if err != nil {
		f.t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		f.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		f.t.Fatal(err)
	}
	return resp.StatusCode, string(b), resp.Header
}

func (f *fixture) get(sid string) (int, string) {
	f.t.Helper()
	st, b, _ := f.do(http.MethodGet, "EIO=4&transport=polling&sid="+sid, "")
	return st, b
}

func (f *fixture) post(sid, body string) (int, string) {
	f.t.Helper()
	st, b, _ := f.do(http.MethodPost, "EIO=4&transport=polling&sid="+sid, body)
	return st, b
}

type openPacket struct {
	SID          string   `json:"sid"`
	Upgrades     []string `json:"upgrades"`
	PingInterval int      `json:"pingInterval"`
	PingTimeout  int      `json:"pingTimeout"`
	MaxPayload   int      `json:"maxPayload"`
}

func parseOpen(t *testing.T, body string) openPacket {
	t.Helper()
	if !strings.HasPrefix(body, "0{") {
		t.Fatalf("open packet = %q", body)
	}
	var keys map[string]any
	if err := json.Unmarshal([]byte(body[1:]), &keys); err != nil {
		t.Fatal(err)
	}
	got := make([]string, 0, len(keys))
	for k := range keys {
		got = append(got, k)
	}
	slices.Sort(got)
	if want := []string{"maxPayload", "pingInterval", "pingTimeout", "sid", "upgrades"}; !slices.Equal(got, want) {
		t.Fatalf("handshake keys = %v, want %v", got, want)
	}
	var op openPacket
	if err := json.Unmarshal([]byte(body[1:]), &op); err != nil {
		t.Fatal(err)
	}
	return op
}

// handshake opens a polling session and returns its sid.
func (f *fixture) handshake() string {
	f.t.Helper()
	st, body, _ := f.do(http.MethodGet, "EIO=4&transport=polling", "")
	if st != http.StatusOK {
		f.t.Fatalf("handshake status %d: %s", st, body)
	}
	return parseOpen(f.t, body).SID
}

func (f *fixture) session() *Session {
	f.t.Helper()
	select {
	case s := <-f.h.sessions:
		return s
	case <-time.After(5 * time.Second):
		f.t.Fatal("no session opened")
		return nil
	}
}

func (f *fixture) waitClose(sid string, want CloseReason) {
	f.t.Helper()
	select {
	case ev := <-f.h.closed:
		if ev.sid != sid || ev.reason != want {
			f.t.Fatalf("OnClose(%s, %q), want (%s, %q)", ev.sid, ev.reason, sid, want)
		}
	case <-time.After(5 * time.Second):
		f.t.Fatalf("no OnClose for %s (want %q)", sid, want)
	}
}

func (f *fixture) dial(query string) *websocket.Conn {
	f.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(f.url, "http")+"?"+query, nil)
	if err != nil {
		f.t.Fatal(err)
	}
	f.t.Cleanup(func() { _ = c.CloseNow() })
	return c
}

func read(t *testing.T, c *websocket.Conn) (websocket.MessageType, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	typ, b, err := c.Read(ctx)
	if err != nil {
		t.Fatalf("read: %v", err)
	}
	return typ, string(b)
}

func write(t *testing.T, c *websocket.Conn, typ websocket.MessageType, s string) {
	t.Helper()
	if err := c.Write(context.Background(), typ, []byte(s)); err != nil {
		t.Fatalf("write: %v", err)
	}
}

// readClosed reads until the connection fails and returns the error.
func readClosed(t *testing.T, c *websocket.Conn) error {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	for {
		if _, _, err := c.Read(ctx); err != nil {
			if errors.Is(err, context.DeadlineExceeded) {
				t.Fatal("connection not closed")
			}
			return err
		}
	}
}

func TestHandshakePolling(t *testing.T) {
	f := newFixture(t, Options{PingInterval: 300 * time.Millisecond, PingTimeout: 200 * time.Millisecond})
	st, body, _ := f.do(http.MethodGet, "EIO=4&transport=polling", "")
	if st != http.StatusOK {
		t.Fatalf("status %d", st)
	}
	op := parseOpen(t, body)
	if len(op.SID) < 20 || !slices.Equal(op.Upgrades, []string{"websocket"}) ||
		op.PingInterval != 300 || op.PingTimeout != 200 || op.MaxPayload != DefaultMaxPayload {
		t.Fatalf("handshake = %+v", op)
	}
	s := f.session()
	if s.ID() != op.SID || s.Transport() != TransportPolling || s.Handshake().Query().Get("EIO") != "4" {
		t.Fatalf("session %s %s", s.ID(), s.Transport())
	}
	if f.srv.Len() != 1 {
		t.Fatalf("Len = %d", f.srv.Len())
	}
}

func TestHandshakeWebSocket(t *testing.T) {
	f := newFixture(t, Options{})
	c := f.dial("EIO=4&transport=websocket")
	typ, msg := read(t, c)
	op := parseOpen(t, msg)
	if typ != websocket.MessageText || len(op.Upgrades) != 0 {
		t.Fatalf("handshake %v %q", typ, msg)
	}
	if s := f.session(); s.Transport() != TransportWebSocket {
		t.Fatalf("transport %s", s.Transport())
	}
}

func TestBadRequests(t *testing.T) {
	f := newFixture(t, Options{})
	sid := f.handshake()
	tests := []struct {
		method, query string
		want          string
	}{
		{"GET", "transport=polling", `{"code":5,"message":"Unsupported protocol version"}`},
		{"GET", "EIO=abc&transport=polling", `{"code":5,"message":"Unsupported protocol version"}`},
		{"GET", "EIO=3&transport=polling", `{"code":5,"message":"Unsupported protocol version"}`},
		{"GET", "EIO=4", `{"code":0,"message":"Transport unknown"}`},
		{"GET", "EIO=4&transport=abc", `{"code":0,"message":"Transport unknown"}`},
		{"POST", "EIO=4&transport=polling", `{"code":2,"message":"Bad handshake method"}`},
		{"PUT", "EIO=4&transport=polling", `{"code":2,"message":"Bad handshake method"}`},
		{"GET", "EIO=4&transport=polling&sid=nope", `{"code":1,"message":"Session ID unknown"}`},
		{"POST", "EIO=4&transport=polling&sid=nope", `{"code":1,"message":"Session ID unknown"}`},
		{"GET", "EIO=4&transport=websocket", `{"code":3,"message":"Bad request"}`},
		{"GET", "EIO=4&transport=websocket&sid=" + sid, `{"code":3,"message":"Bad request"}`},
		{"PUT", "EIO=4&transport=polling&sid=" + sid, `{"code":3,"message":"Bad request"}`},
	}
	for _, tt := range tests {
		st, body, h := f.do(tt.method, tt.query, "")
		if st != http.StatusBadRequest || body != tt.want || h.Get("Content-Type") != "application/json" {
			t.Errorf("%s ?%s = %d %q (%s), want 400 %q", tt.method, tt.query, st, body, h.Get("Content-Type"), tt.want)
		}
	}
	if st, _, _ := f.do("GET", "", ""); st != http.StatusBadRequest {
		t.Errorf("no query: %d", st)
	}
}

func TestPollingRoundTrip(t *testing.T) {
	f := newFixture(t, Options{})
	sid := f.handshake()
	st, body, h := f.do(http.MethodPost, "EIO=4&transport=polling&sid="+sid, "4hello\x1e4€\x1ebAQIDBA==")
	if st != http.StatusOK || body != "ok" || !strings.HasPrefix(h.Get("Content-Type"), "text/html") {
		t.Fatalf("POST = %d %q %q", st, body, h.Get("Content-Type"))
	}
	if st, body := f.get(sid); st != http.StatusOK || body != "4hello\x1e4€\x1ebAQIDBA==" {
		t.Fatalf("GET = %d %q", st, body)
	}
}

func TestPollingWaitsForPacket(t *testing.T) {
	f := newFixture(t, Options{})
	sid := f.handshake()
	s := f.session()
	done := make(chan string)
	go func() {
		_, body := f.get(sid)
		done <- body
	}()
	time.Sleep(50 * time.Millisecond)
	select {
	case b := <-done:
		t.Fatalf("GET answered early: %q", b)
	default:
	}
	if err := s.Send(Message{Data: []byte("hi")}, Message{Data: []byte{0xff}, Binary: true}); err != nil {
		t.Fatal(err)
	}
	if b := <-done; b != "4hi\x1eb/w==" {
		t.Fatalf("GET = %q", b)
	}
}

func TestWebSocketEcho(t *testing.T) {
	f := newFixture(t, Options{})
	c := f.dial("EIO=4&transport=websocket")
	read(t, c)
	write(t, c, websocket.MessageText, "4hello")
	if typ, m := read(t, c); typ != websocket.MessageText || m != "4hello" {
		t.Fatalf("got %v %q", typ, m)
	}
	write(t, c, websocket.MessageBinary, "\x01\x02\x03\x04")
	if typ, m := read(t, c); typ != websocket.MessageBinary || m != "\x01\x02\x03\x04" {
		t.Fatalf("got %v %q", typ, m)
	}
}

func TestWebSocketInvalidPacket(t *testing.T) {
	f := newFixture(t, Options{})
	c := f.dial("EIO=4&transport=websocket")
	read(t, c)
	s := f.session()
	write(t, c, websocket.MessageText, "abc")
	readClosed(t, c)
	f.waitClose(s.ID(), ReasonParseError)
}

func TestWebSocketClientClose(t *testing.T) {
	f := newFixture(t, Options{})
	c := f.dial("EIO=4&transport=websocket")
	read(t, c)
	s := f.session()
	write(t, c, websocket.MessageText, "1")
	readClosed(t, c)
	f.waitClose(s.ID(), ReasonTransportClose)
	if err := s.Send(Message{Data: []byte("x")}); !errors.Is(err, ErrSessionClosed) {
		t.Fatalf("Send after close: %v", err)
	}
}

func TestWebSocketDrop(t *testing.T) {
	f := newFixture(t, Options{})
	c := f.dial("EIO=4&transport=websocket")
	read(t, c)
	s := f.session()
	_ = c.CloseNow()
	f.waitClose(s.ID(), ReasonTransportClose)
	if f.srv.Len() != 0 {
		t.Fatalf("Len = %d", f.srv.Len())
	}
}

func TestWebSocketMaxPayload(t *testing.T) {
	f := newFixture(t, Options{MaxPayload: 100})
	c := f.dial("EIO=4&transport=websocket")
	read(t, c)
	s := f.session()
	write(t, c, websocket.MessageText, "4"+strings.Repeat("x", 200))
	readClosed(t, c)
	f.waitClose(s.ID(), ReasonTransportError)
}

func TestPollingClientClose(t *testing.T) {
	f := newFixture(t, Options{})
	sid := f.handshake()
	s := f.session()
	done := make(chan string)
	go func() {
		_, body := f.get(sid)
		done <- body
	}()
	waitPoll(t, s)
	if st, body := f.post(sid, "1"); st != http.StatusOK || body != "ok" {
		t.Fatalf("POST 1 = %d %q", st, body)
	}
	if b := <-done; b != "6" {
		t.Fatalf("pending GET = %q, want noop", b)
	}
	f.waitClose(sid, ReasonTransportClose)
	if st, _ := f.get(sid); st != http.StatusBadRequest {
		t.Fatalf("GET after close = %d", st)
	}
}

// waitPoll waits until s has a pending GET.
func waitPoll(t *testing.T, s *Session) {
	t.Helper()
	for range 500 {
		s.mu.Lock()
		p := s.poll
		s.mu.Unlock()
		if p != nil {
			return
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Fatal("no pending poll")
}

func TestUpgrade(t *testing.T) {
	f := newFixture(t, Options{})
	sid := f.handshake()
	s := f.session()
	done := make(chan string)
	go func() {
		_, body := f.get(sid)
		done <- body
	}()
	waitPoll(t, s)
	c := f.dial("EIO=4&transport=websocket&sid=" + sid)
	write(t, c, websocket.MessageText, "2probe")
	if _, m := read(t, c); m != "3probe" {
		t.Fatalf("probe answer %q", m)
	}
	if b := <-done; b != "6" {
		t.Fatalf("pending GET = %q, want noop", b)
	}
	write(t, c, websocket.MessageText, "5")
	write(t, c, websocket.MessageText, "4hello")
	if _, m := read(t, c); m != "4hello" {
		t.Fatalf("echo %q", m)
	}
	if s.Transport() != TransportWebSocket {
		t.Fatalf("transport %s", s.Transport())
	}
	if c := f.srv.Counters(); c.Opened != 1 || c.Upgrades != 1 {
		t.Fatalf("counters %+v, want 1 opened, 1 upgraded", c)
	}
	if st, _ := f.get(sid); st != http.StatusBadRequest {
		t.Fatalf("GET after upgrade = %d", st)
	}
	c2 := f.dial("EIO=4&transport=websocket&sid=" + sid)
	readClosed(t, c2)
	write(t, c, websocket.MessageBinary, "\x00\x01")
	if typ, m := read(t, c); typ != websocket.MessageBinary || m != "\x00\x01" {
		t.Fatalf("echo after second ws %v %q", typ, m)
	}
}

func TestUpgradeRacingGet(t *testing.T) {
	f := newFixture(t, Options{})
	sid := f.handshake()
	c := f.dial("EIO=4&transport=websocket&sid=" + sid)
	write(t, c, websocket.MessageText, "2probe")
	write(t, c, websocket.MessageText, "5")
	if st, _ := f.get(sid); st != http.StatusBadRequest {
		t.Fatalf("GET racing the upgrade = %d", st)
	}
	read(t, c) // 3probe
	write(t, c, websocket.MessageText, "4x")
	if _, m := read(t, c); m != "4x" {
		t.Fatalf("echo %q", m)
	}
}

func TestUpgradeTimeout(t *testing.T) {
	f := newFixture(t, Options{UpgradeTimeout: 50 * time.Millisecond})
	sid := f.handshake()
	c := f.dial("EIO=4&transport=websocket&sid=" + sid)
	readClosed(t, c)
	if st, body := f.post(sid, "4still"); st != http.StatusOK {
		t.Fatalf("POST after upgrade timeout = %d %q", st, body)
	}
	if _, body := f.get(sid); body != "4still" {
		t.Fatalf("GET = %q", body)
	}
}

func TestPingPongWebSocket(t *testing.T) {
	f := newFixture(t, Options{PingInterval: 50 * time.Millisecond, PingTimeout: time.Second})
	c := f.dial("EIO=4&transport=websocket")
	read(t, c)
	for range 3 {
		if _, m := read(t, c); m != "2" {
			t.Fatalf("got %q, want ping", m)
		}
		write(t, c, websocket.MessageText, "3")
	}
	if f.srv.Len() != 1 {
		t.Fatal("session closed despite pongs")
	}
}

func TestPingTimeoutPolling(t *testing.T) {
	f := newFixture(t, Options{PingInterval: 60 * time.Millisecond, PingTimeout: 40 * time.Millisecond})
	sid := f.handshake()
	time.Sleep(150 * time.Millisecond)
	if st, _ := f.get(sid); st != http.StatusBadRequest {
		t.Fatalf("GET after ping timeout = %d", st)
	}
	f.waitClose(sid, ReasonPingTimeout)
}

func TestPingTimeoutWebSocket(t *testing.T) {
	f := newFixture(t, Options{PingInterval: 30 * time.Millisecond, PingTimeout: 30 * time.Millisecond})
	c := f.dial("EIO=4&transport=websocket")
	read(t, c)
	s := f.session()
	if _, m := read(t, c); m != "2" {
		t.Fatalf("got %q", m)
	}
	readClosed(t, c)
	f.waitClose(s.ID(), ReasonPingTimeout)
}

func TestConcurrentGet(t *testing.T) {
	f := newFixture(t, Options{})
	sid := f.handshake()
	s := f.session()
	done := make(chan string)
	go func() {
		st, body := f.get(sid)
		done <- fmt.Sprint(st, " ", body)
	}()
	waitPoll(t, s)
	if st, _ := f.get(sid); st != http.StatusBadRequest {
		t.Fatalf("second GET = %d", st)
	}
	if b := <-done; b != "200 1" {
		t.Fatalf("first GET = %q", b)
	}
	f.waitClose(sid, ReasonTransportError)
	if st, _ := f.get(sid); st != http.StatusBadRequest {
		t.Fatalf("GET after = %d", st)
	}
}

func TestMalformedPayloadClosesOnlyThatSession(t *testing.T) {
	f := newFixture(t, Options{})
	bad := f.handshake()
	good := f.handshake()
	if st, _ := f.post(bad, "abc"); st != http.StatusBadRequest {
		t.Fatalf("malformed POST = %d", st)
	}
	f.waitClose(bad, ReasonParseError)
	if st, _ := f.get(bad); st != http.StatusBadRequest {
		t.Fatalf("GET on closed = %d", st)
	}
	f.post(good, "4fine")
	if st, body := f.get(good); st != http.StatusOK || body != "4fine" {
		t.Fatalf("other session: %d %q", st, body)
	}
}

func TestOversizedPost(t *testing.T) {
	f := newFixture(t, Options{MaxPayload: 100})
	sid := f.handshake()
	if st, _ := f.post(sid, "4"+strings.Repeat("x", 200)); st != http.StatusRequestEntityTooLarge {
		t.Fatalf("oversized POST = %d", st)
	}
	f.waitClose(sid, ReasonPayloadTooLarge)
	if st, _ := f.get(sid); st != http.StatusBadRequest {
		t.Fatalf("GET after = %d", st)
	}
}

func TestWriteQueueOverflow(t *testing.T) {
	f := newFixture(t, Options{WriteQueueSize: 4})
	slow := f.handshake()
	s := f.session()
	other := f.handshake()
	for i := range 3 {
		if err := s.Send(Message{Data: []byte{byte('a' + i)}}); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Send(Message{Data: []byte("x")}, Message{Data: []byte("y")}); !errors.Is(err, ErrWriteQueueFull) {
		t.Fatalf("Send = %v, want ErrWriteQueueFull", err)
	}
	f.waitClose(slow, ReasonWriteQueueFull)
	if st, _ := f.get(slow); st != http.StatusBadRequest {
		t.Fatalf("GET on overflowed = %d", st)
	}
	f.post(other, "4ok")
	if _, body := f.get(other); body != "4ok" {
		t.Fatalf("other session got %q", body)
	}
}

func TestCloseFlushesPolling(t *testing.T) {
	f := newFixture(t, Options{})
	sid := f.handshake()
	s := f.session()
	if err := s.Send(Message{Data: []byte("bye")}); err != nil {
		t.Fatal(err)
	}
	s.Close(ReasonForcedClose)
	if err := s.Send(Message{Data: []byte("late")}); !errors.Is(err, ErrSessionClosed) {
		t.Fatalf("Send while closing = %v", err)
	}
	if st, body := f.get(sid); st != http.StatusOK || body != "4bye\x1e1" {
		t.Fatalf("GET = %d %q", st, body)
	}
	f.waitClose(sid, ReasonForcedClose)
	if st, _ := f.get(sid); st != http.StatusBadRequest {
		t.Fatalf("GET after close = %d", st)
	}
}

func TestCloseFlushesPendingPoll(t *testing.T) {
	f := newFixture(t, Options{})
	sid := f.handshake()
	s := f.session()
	done := make(chan string)
	go func() {
		_, body := f.get(sid)
		done <- body
	}()
	waitPoll(t, s)
	s.Close(ReasonForcedClose)
	if b := <-done; b != "1" {
		t.Fatalf("pending GET = %q", b)
	}
	f.waitClose(sid, ReasonForcedClose)
}

func TestCloseFlushesWebSocket(t *testing.T) {
	f := newFixture(t, Options{})
	c := f.dial("EIO=4&transport=websocket")
	read(t, c)
	s := f.session()
	_ = s.Send(Message{Data: []byte("a")}, Message{Data: []byte{1}, Binary: true})
	s.Close(ReasonForcedClose)
	if _, m := read(t, c); m != "4a" {
		t.Fatalf("got %q", m)
	}
	if typ, m := read(t, c); typ != websocket.MessageBinary || m != "\x01" {
		t.Fatalf("got %v %q", typ, m)
	}
	if err := readClosed(t, c); websocket.CloseStatus(err) != websocket.StatusNormalClosure {
		t.Fatalf("close: %v", err)
	}
	f.waitClose(s.ID(), ReasonForcedClose)
}

func TestSendContiguous(t *testing.T) {
	f := newFixture(t, Options{WriteQueueSize: 100000})
	c := f.dial("EIO=4&transport=websocket")
	read(t, c)
	s := f.session()
	const senders, groups = 4, 200
	var wg sync.WaitGroup
	for g := range senders {
		wg.Go(func() {
			for i := range groups {
				tag := fmt.Sprintf("%d-%d", g, i)
				if err := s.Send(Message{Data: []byte(tag + "-h")}, Message{Data: []byte(tag + "-a"), Binary: true}); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	for range senders * groups {
		_, h := read(t, c)
		typ, a := read(t, c)
		if typ != websocket.MessageBinary || strings.TrimSuffix(h, "-h")[1:] != strings.TrimSuffix(a, "-a") {
			t.Fatalf("interleaved: %q then %q", h, a)
		}
	}
	wg.Wait()
}

func TestShutdown(t *testing.T) {
	f := newFixture(t, Options{})
	c := f.dial("EIO=4&transport=websocket")
	read(t, c)
	ws := f.session()
	sid := f.handshake()
	done := make(chan string)
	go func() {
		_, body := f.get(sid)
		done <- body
	}()
	waitPoll(t, f.session())
	wsClosed := make(chan error)
	go func() {
		_, _, err := c.Read(context.Background())
		wsClosed <- err
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := f.srv.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	if b := <-done; b != "1" {
		t.Fatalf("pending GET = %q", b)
	}
	if err := <-wsClosed; websocket.CloseStatus(err) != websocket.StatusNormalClosure {
		t.Fatalf("websocket: %v", err)
	}
	reasons := map[string]CloseReason{}
	for range 2 {
		ev := <-f.h.closed
		reasons[ev.sid] = ev.reason
	}
	if reasons[ws.ID()] != ReasonServerShutdown || reasons[sid] != ReasonServerShutdown {
		t.Fatalf("reasons %v", reasons)
	}
	if f.srv.Len() != 0 {
		t.Fatalf("Len = %d", f.srv.Len())
	}
	if st, _, _ := f.do(http.MethodGet, "EIO=4&transport=polling", ""); st != http.StatusBadRequest {
		t.Fatalf("handshake after shutdown = %d", st)
	}
	if err := f.srv.Shutdown(ctx); err != nil {
		t.Fatalf("second Shutdown: %v", err)
	}
}

func TestCORS(t *testing.T) {
	f := newFixture(t, Options{CORS: CORSOptions{Origins: []string{"https://a.example"}, Credentials: true}})
	req, _ := http.NewRequest(http.MethodOptions, f.url+"?EIO=4&transport=polling", nil)
	req.Header.Set("Origin", "https://a.example")
	req.Header.Set("Access-Control-Request-Headers", "content-type")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	h := resp.Header
	if resp.StatusCode != http.StatusNoContent || h.Get("Access-Control-Allow-Origin") != "https://a.example" ||
		h.Get("Access-Control-Allow-Credentials") != "true" || h.Get("Access-Control-Allow-Headers") != "content-type" {
		t.Fatalf("preflight %d %v", resp.StatusCode, h)
	}
	req, _ = http.NewRequest(http.MethodGet, f.url+"?EIO=4&transport=polling", nil)
	req.Header.Set("Origin", "https://b.example")
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.Header.Get("Access-Control-Allow-Origin") != "" {
		t.Fatal("foreign origin allowed")
	}

	g := newFixture(t, Options{CORS: CORSOptions{Origins: []string{"*"}}})
	_, _, h = g.do(http.MethodGet, "EIO=4&transport=polling", "")
	if h.Get("Access-Control-Allow-Origin") != "*" {
		t.Fatalf("wildcard CORS: %v", h)
	}
}

func TestNotFound(t *testing.T) {
	f := newFixture(t, Options{})
	resp, err := http.Get(strings.TrimSuffix(f.url, DefaultPath) + "/other/")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound {
		t.Fatalf("status %d", resp.StatusCode)
	}
}

func TestShutdownUnresponsiveClient(t *testing.T) {
	f := newFixture(t, Options{})
	c := f.dial("EIO=4&transport=websocket")
	read(t, c)
	f.session()
	// The client never reads, so it never answers the close handshake.
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	start := time.Now()
	if err := f.srv.Shutdown(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Shutdown = %v", err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Fatalf("Shutdown took %v", d)
	}
	ctx2, cancel2 := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel2()
	if err := f.srv.Shutdown(ctx2); err != nil {
		t.Fatalf("second Shutdown: %v", err)
	}
}

// Counters count the message packets received and handed to a transport,
// and their data's bytes, on both transports; control packets (the open
// packet, pongs) are not counted, and binary data counts decoded.
func TestCountersMessages(t *testing.T) {
	f := newFixture(t, Options{})
	want := func(what string, pin, bin, pout, bout uint64) {
		t.Helper()
		c := f.srv.Counters()
		if c.PacketsIn != pin || c.BytesIn != bin || c.PacketsOut != pout || c.BytesOut != bout {
			t.Fatalf("%s: in %d packets %d bytes, out %d packets %d bytes; want %d %d, %d %d",
				what, c.PacketsIn, c.BytesIn, c.PacketsOut, c.BytesOut, pin, bin, pout, bout)
		}
	}
	sid := f.handshake()
	want("after a handshake", 0, 0, 0, 0)
	// "hello" (5 bytes), "€" (3), a pong, 4 bytes in base64.
	if st, body := f.post(sid, "4hello\x1e4€\x1e3\x1ebAQIDBA=="); st != http.StatusOK || body != "ok" {
		t.Fatalf("POST = %d %q", st, body)
	}
	want("after a POST", 3, 12, 0, 0)
	if st, body := f.get(sid); st != http.StatusOK || body != "4hello\x1e4€\x1ebAQIDBA==" {
		t.Fatalf("GET = %d %q", st, body)
	}
	want("after the echoes were polled", 3, 12, 3, 12)

	c := f.dial("EIO=4&transport=websocket")
	read(t, c)
	write(t, c, websocket.MessageText, "4hello")
	write(t, c, websocket.MessageText, "3")
	write(t, c, websocket.MessageBinary, "\x01\x02\x03\x04")
	read(t, c)
	read(t, c)
	want("after two WebSocket echoes", 5, 21, 5, 21)
}
