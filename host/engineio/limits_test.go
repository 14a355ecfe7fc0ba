package engineio

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/rs/zerolog"
)

// Tests of the limits that keep a hostile client from making the server
// hold memory, goroutines, connections or time without bound.

// syncBuffer collects log lines written from several goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

// count returns how many log lines contain s.
func (b *syncBuffer) count(s string) int {
	b.mu.Lock()
	defer b.mu.Unlock()
	n := 0
	for line := range strings.SplitSeq(b.b.String(), "\n") {
		if strings.Contains(line, s) {
			n++
		}
	}
	return n
}

func (b *syncBuffer) logger() *zerolog.Logger {
	l := zerolog.New(b)
	return &l
}

// smallBuffers shrinks the kernel buffers of the test server's
// connections, so that a client that stops reading blocks the server's
// writes after a few KiB rather than megabytes.
func smallBuffers(_ *Server, ts *httptest.Server) {
	ts.Listener = smallBufferListener{ts.Listener}
}

type smallBufferListener struct{ net.Listener }

func (l smallBufferListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if tc, ok := c.(*net.TCPConn); ok {
		_ = tc.SetWriteBuffer(4096)
		_ = tc.SetReadBuffer(4096)
	}
	return c, err
}

// dialStalled opens a TCP connection with a small receive buffer that the
// test then does not read from.
func dialStalled(t *testing.T, addr string) net.Conn {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	_ = c.(*net.TCPConn).SetReadBuffer(4096)
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// stalledWebSocket opens a WebSocket session with a bare client that reads
// the open packet and nothing more.
func stalledWebSocket(t *testing.T, f *fixture) (net.Conn, *Session) {
	t.Helper()
	c, err := dialRawWebSocket(f.addr)
	if err != nil {
		t.Fatal(err)
	}
	_ = c.(*net.TCPConn).SetReadBuffer(4096)
	t.Cleanup(func() { _ = c.Close() })
	return c, f.session()
}

func heapInuse() uint64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapInuse
}

// waitFor polls cond until it holds, failing the test after 5s.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// readResponse reads one HTTP response from c, failing after 5s.
func readResponse(t *testing.T, c net.Conn) (int, string) {
	t.Helper()
	_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatalf("reading response: %v", err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// sendRaw writes a raw HTTP request.
func sendRaw(t *testing.T, c net.Conn, req string) {
	t.Helper()
	if _, err := io.WriteString(c, req); err != nil {
		t.Fatal(err)
	}
}

func (s *Session) heldBytes() int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.held.bytes
}

func TestWebSocketInvalidUTF8(t *testing.T) {
	t.Parallel()
	logs := &syncBuffer{}
	f := newFixture(t, Options{Logger: logs.logger()})
	good := f.dial("EIO=4&transport=websocket")
	read(t, good)
	f.session()
	bad := f.dial("EIO=4&transport=websocket")
	read(t, bad)
	s := f.session()
	write(t, bad, websocket.MessageText, "4bad \xff\xfe")
	if err := readClosed(t, bad); websocket.CloseStatus(err) != websocket.StatusInvalidFramePayloadData {
		t.Fatalf("close = %v, want status 1007", err)
	}
	f.waitClose(s.ID(), ReasonParseError)
	write(t, good, websocket.MessageText, "4still here €")
	if _, m := read(t, good); m != "4still here €" {
		t.Fatalf("other session echoed %q", m)
	}
	// Binary messages carry any bytes.
	write(t, good, websocket.MessageBinary, "\xff\xfe")
	if typ, m := read(t, good); typ != websocket.MessageBinary || m != "\xff\xfe" {
		t.Fatalf("binary echo %v %q", typ, m)
	}
	if n := logs.count(`"reason":"parse error","message":"malformed packet`); n != 1 {
		t.Fatalf("parse error logged %d times:\n%s", n, logs.b.String())
	}
}

func TestPollingInvalidUTF8(t *testing.T) {
	t.Parallel()
	f := newFixture(t, Options{})
	bad := f.handshake()
	good := f.handshake()
	if st, _ := f.post(bad, "4ok\x1e4bad \xff\xfe"); st != http.StatusBadRequest {
		t.Fatalf("POST with invalid UTF-8 = %d", st)
	}
	f.waitClose(bad, ReasonParseError)
	if st, _ := f.get(bad); st != http.StatusBadRequest {
		t.Fatalf("GET on closed = %d", st)
	}
	// Base64 binary packets are exempt: their bytes need not be UTF-8.
	if st, _ := f.post(good, "4€\x1eb//8="); st != http.StatusOK {
		t.Fatalf("valid POST = %d", st)
	}
	if st, body := f.get(good); st != http.StatusOK || body != "4€\x1eb//8=" {
		t.Fatalf("GET = %d %q", st, body)
	}
}

// A client that never reads while the server sends it 900 KB messages is
// closed once WriteQueueBytes (8 MiB by default) is exceeded, and the
// heap stays within that budget plus 2 MiB.
func TestWriteQueueBytesBoundsHeap(t *testing.T) {
	// Not parallel: it measures the process's heap.
	logs := &syncBuffer{}
	f := newFixtureWith(t, Options{Logger: logs.logger()}, smallBuffers)
	_, s := stalledWebSocket(t, f)
	const size = 900_000
	base := heapInuse()
	var peak uint64
	sent := 0
	for {
		// A new buffer each time, as every broadcast brings its own.
		msg := bytes.Repeat([]byte{'x'}, size)
		err := s.Send(Message{Data: msg})
		if errors.Is(err, ErrWriteQueueFull) {
			break
		}
		if err != nil {
			t.Fatalf("Send %d: %v", sent, err)
		}
		sent++
		peak = max(peak, heapInuse())
		if sent > 100 {
			t.Fatal("session never closed")
		}
	}
	f.waitClose(s.ID(), ReasonWriteQueueFull)
	// The kernel buffers hold less than a message, so what the writer has
	// taken counts too: exactly the messages that fit in the budget.
	if want := DefaultWriteQueueBytes / (size + 1); sent != want {
		t.Fatalf("closed after %d messages, want %d", sent, want)
	}
	growth := int64(peak) - int64(base)
	t.Logf("%d messages of %d bytes sent before the close; heap grew by at most %d bytes (bound %d)",
		sent, size, growth, DefaultWriteQueueBytes+2<<20)
	if growth > DefaultWriteQueueBytes+2<<20 {
		t.Fatalf("heap grew by %d bytes, more than the %d-byte budget plus 2 MiB", growth, DefaultWriteQueueBytes)
	}
	waitFor(t, "the queue's memory to be freed", func() bool { return int64(heapInuse())-int64(base) < 1<<20 })
	if n := logs.count(`"level":"warn","sid":"` + s.ID() + `","queued_packets"`); n != 1 {
		t.Fatalf("write queue full logged %d times", n)
	}
}

// A poll response that its client does not read keeps counting against
// the budget until it is written, and is cut short when the session
// closes, long before its write deadline.
func TestWriteQueueBytesPollingUnreadResponse(t *testing.T) {
	// Not parallel: it measures the process's heap.
	const budget = 2 << 20
	logs := &syncBuffer{}
	f := newFixtureWith(t, Options{WriteQueueBytes: budget, WriteTimeout: time.Minute, Logger: logs.logger()}, smallBuffers)
	sid := f.handshake()
	s := f.session()
	base := heapInuse()
	for range 15 {
		if err := s.Send(Message{Data: bytes.Repeat([]byte{'x'}, 100_000)}); err != nil {
			t.Fatal(err)
		}
	}
	c := dialStalled(t, f.addr)
	sendRaw(t, c, "GET "+DefaultPath+"?EIO=4&transport=polling&sid="+sid+" HTTP/1.1\r\nHost: x\r\n\r\n")
	waitFor(t, "the GET to take the queue", func() bool { return s.heldBytes() > 0 })
	held := s.heldBytes()
	growth := int64(heapInuse()) - int64(base)
	t.Logf("the unread response holds %d bytes; heap grew by %d bytes (bound %d)", held, growth, budget+1<<20)
	if growth > budget+1<<20 {
		t.Fatalf("heap grew by %d bytes with %d held, budget %d", growth, held, budget)
	}
	// The unread response still counts: 1.5 MB held + 0.6 MB > 2 MiB.
	if err := s.Send(Message{Data: make([]byte, 600_000)}); !errors.Is(err, ErrWriteQueueFull) {
		t.Fatalf("Send over the budget with %d bytes held = %v, want ErrWriteQueueFull", held, err)
	}
	f.waitClose(sid, ReasonWriteQueueFull)
	waitFor(t, "the unread response to be released", func() bool { return s.heldBytes() == 0 })
	waitFor(t, "the response's memory to be freed", func() bool { return int64(heapInuse())-int64(base) < 1<<20 })
	if n := logs.count(`"level":"warn","sid":"` + s.ID() + `","queued_packets"`); n != 1 {
		t.Fatalf("write queue full logged %d times", n)
	}
}

func TestWebSocketWriteTimeout(t *testing.T) {
	t.Parallel()
	logs := &syncBuffer{}
	f := newFixtureWith(t, Options{WriteTimeout: 200 * time.Millisecond, Logger: logs.logger()}, smallBuffers)
	_, s := stalledWebSocket(t, f)
	if err := s.Send(Message{Data: make([]byte, 4<<20), Binary: true}); err != nil {
		t.Fatal(err)
	}
	f.waitClose(s.ID(), ReasonTransportError)
	if n := logs.count(`"message":"websocket write timed out`); n != 1 {
		t.Fatalf("write timeout logged %d times:\n%s", n, logs.b.String())
	}
}

// A graceful close whose flush is stuck behind a client that stopped
// reading ends within the write timeout, with the close's reason.
func TestGracefulCloseDeadlineWebSocket(t *testing.T) {
	t.Parallel()
	f := newFixtureWith(t, Options{WriteTimeout: 200 * time.Millisecond}, smallBuffers)
	_, s := stalledWebSocket(t, f)
	if err := s.Send(Message{Data: make([]byte, 4<<20), Binary: true}); err != nil {
		t.Fatal(err)
	}
	s.Close(ReasonForcedClose)
	f.waitClose(s.ID(), ReasonForcedClose)
	waitFor(t, "the session to be forgotten", func() bool { return f.srv.Len() == 0 })
}

// A graceful polling close waits for the client's next GET no longer than
// the write timeout (here far shorter than the heartbeat).
func TestGracefulCloseDeadlinePolling(t *testing.T) {
	t.Parallel()
	f := newFixture(t, Options{WriteTimeout: 100 * time.Millisecond})
	sid := f.handshake()
	s := f.session()
	if err := s.Send(Message{Data: []byte("bye")}); err != nil {
		t.Fatal(err)
	}
	s.Close(ReasonForcedClose)
	f.waitClose(sid, ReasonForcedClose)
	s.mu.Lock()
	q := s.queue
	s.mu.Unlock()
	if q != nil {
		t.Fatal("queue kept after close")
	}
}

func TestPollResponseWriteTimeout(t *testing.T) {
	t.Parallel()
	logs := &syncBuffer{}
	f := newFixtureWith(t, Options{WriteTimeout: 200 * time.Millisecond, Logger: logs.logger()}, smallBuffers)
	sid := f.handshake()
	s := f.session()
	if err := s.Send(Message{Data: bytes.Repeat([]byte{'x'}, 4<<20)}); err != nil {
		t.Fatal(err)
	}
	c := dialStalled(t, f.addr)
	sendRaw(t, c, "GET "+DefaultPath+"?EIO=4&transport=polling&sid="+sid+" HTTP/1.1\r\nHost: x\r\n\r\n")
	f.waitClose(sid, ReasonTransportError)
	waitFor(t, "the response to be released", func() bool { return s.heldBytes() == 0 })
	if n := logs.count(`"message":"poll response write timed out`); n != 1 {
		t.Fatalf("write timeout logged %d times:\n%s", n, logs.b.String())
	}
}

func TestMaxHeaderBytes(t *testing.T) {
	t.Parallel()
	f := newFixture(t, Options{})
	const target = DefaultPath + "?EIO=4&transport=polling"
	const host = "x"
	for _, tt := range []struct {
		over int // bytes over the limit
		want int
	}{
		{-20, http.StatusOK},
		{0, http.StatusOK},
		{1, http.StatusRequestHeaderFieldsTooLarge},
		{4000, http.StatusRequestHeaderFieldsTooLarge},
	} {
		// What counts: the request target, Host, header names and values.
		pad := DefaultMaxHeaderBytes + tt.over - len(target) - len(host) - len("X-Pad")
		c, err := net.Dial("tcp", f.addr)
		if err != nil {
			t.Fatal(err)
		}
		sendRaw(t, c, "GET "+target+" HTTP/1.1\r\nHost: "+host+"\r\nX-Pad: "+strings.Repeat("a", pad)+"\r\n\r\n")
		if st, _ := readResponse(t, c); st != tt.want {
			t.Errorf("%d bytes over the limit: status %d, want %d", tt.over, st, tt.want)
		}
		c.Close()
	}
	// A WebSocket handshake is held to the same limit.
	c, err := net.Dial("tcp", f.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	sendRaw(t, c, "GET "+DefaultPath+"?EIO=4&transport=websocket HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n"+
		"Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"+
		"Cookie: "+strings.Repeat("c", DefaultMaxHeaderBytes)+"\r\n\r\n")
	if st, _ := readResponse(t, c); st != http.StatusRequestHeaderFieldsTooLarge {
		t.Errorf("oversized WebSocket handshake: %d", st)
	}
}

func TestConfigureHTTPServer(t *testing.T) {
	t.Parallel()
	var hs http.Server
	ConfigureHTTPServer(&hs, Options{})
	if hs.IdleTimeout != DefaultIdleTimeout || hs.ReadHeaderTimeout != DefaultReadHeaderTimeout ||
		hs.MaxHeaderBytes != DefaultMaxHeaderBytes || hs.ReadTimeout != 0 || hs.WriteTimeout != 0 {
		t.Fatalf("defaults: idle %v, read header %v, max header %d, read %v, write %v",
			hs.IdleTimeout, hs.ReadHeaderTimeout, hs.MaxHeaderBytes, hs.ReadTimeout, hs.WriteTimeout)
	}
	ConfigureHTTPServer(&hs, Options{IdleTimeout: time.Second, ReadHeaderTimeout: 2 * time.Second, MaxHeaderBytes: 100})
	if hs.IdleTimeout != time.Second || hs.ReadHeaderTimeout != 2*time.Second || hs.MaxHeaderBytes != 100 {
		t.Fatalf("set: idle %v, read header %v, max header %d", hs.IdleTimeout, hs.ReadHeaderTimeout, hs.MaxHeaderBytes)
	}
}

func TestIdleKeepAliveClosed(t *testing.T) {
	t.Parallel()
	opts := Options{IdleTimeout: 100 * time.Millisecond}
	f := newFixtureWith(t, opts, func(_ *Server, ts *httptest.Server) { ConfigureHTTPServer(ts.Config, opts) })
	c, err := net.Dial("tcp", f.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	sendRaw(t, c, "GET "+DefaultPath+"?EIO=4&transport=polling HTTP/1.1\r\nHost: x\r\n\r\n")
	br := bufio.NewReader(c)
	_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	// The connection is now idle: the server must close it, long before
	// this read's own 5s deadline.
	if _, err := br.ReadByte(); !errors.Is(err, io.EOF) {
		t.Fatalf("idle connection: %v, want EOF from the server", err)
	}
}

// trickle writes one byte to c every interval until the write fails or
// stop is closed.
func trickle(c net.Conn, interval time.Duration, stop <-chan struct{}) {
	tick := time.NewTicker(interval)
	defer tick.Stop()
	for {
		select {
		case <-stop:
			return
		case <-tick.C:
			if _, err := c.Write([]byte{'x'}); err != nil {
				return
			}
		}
	}
}

func postHead(sid string, length int) string {
	return "POST " + DefaultPath + "?EIO=4&transport=polling&sid=" + sid + " HTTP/1.1\r\nHost: x\r\n" +
		"Content-Type: text/plain;charset=UTF-8\r\nContent-Length: " + fmt.Sprint(length) + "\r\n\r\n"
}

// A POST whose body trickles in is cut short when its session closes (here
// by ping timeout), rather than holding its goroutine and buffer.
func TestTricklingPostCutWhenSessionCloses(t *testing.T) {
	t.Parallel()
	f := newFixture(t, Options{PingInterval: 100 * time.Millisecond, PingTimeout: 100 * time.Millisecond})
	sid := f.handshake()
	s := f.session()
	c, err := net.Dial("tcp", f.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	sendRaw(t, c, postHead(sid, 1_000_000)+"4abc")
	stop := make(chan struct{})
	defer close(stop)
	go trickle(c, 50*time.Millisecond, stop)
	if st, _ := readResponse(t, c); st != http.StatusBadRequest {
		t.Fatalf("trickling POST = %d", st)
	}
	f.waitClose(sid, ReasonPingTimeout)
	waitFor(t, "the POST to end", func() bool {
		s.mu.Lock()
		defer s.mu.Unlock()
		return s.post == nil
	})
}

func TestPostReadTimeout(t *testing.T) {
	t.Parallel()
	logs := &syncBuffer{}
	f := newFixture(t, Options{ReadTimeout: 200 * time.Millisecond, Logger: logs.logger()})
	sid := f.handshake()
	c, err := net.Dial("tcp", f.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	sendRaw(t, c, postHead(sid, 1_000_000)+"4abc")
	stop := make(chan struct{})
	defer close(stop)
	go trickle(c, 50*time.Millisecond, stop)
	if st, _ := readResponse(t, c); st != http.StatusBadRequest {
		t.Fatalf("trickling POST = %d", st)
	}
	f.waitClose(sid, ReasonTransportError)
	if n := logs.count(`"message":"poll data not received in time`); n != 1 {
		t.Fatalf("read timeout logged %d times:\n%s", n, logs.b.String())
	}
}

func TestOverlappingPosts(t *testing.T) {
	t.Parallel()
	logs := &syncBuffer{}
	f := newFixture(t, Options{Logger: logs.logger()})
	sid := f.handshake()
	s := f.session()
	c, err := net.Dial("tcp", f.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	sendRaw(t, c, postHead(sid, 100)+"4ab")
	waitFor(t, "the first POST to be read", func() bool {
		s.mu.Lock()
		defer s.mu.Unlock()
		return s.post != nil
	})
	if st, _ := f.post(sid, "4second"); st != http.StatusBadRequest {
		t.Fatalf("overlapping POST = %d", st)
	}
	f.waitClose(sid, ReasonTransportError)
	if st, _ := readResponse(t, c); st != http.StatusBadRequest {
		t.Fatalf("first POST = %d", st)
	}
	if st, _ := f.get(sid); st != http.StatusBadRequest {
		t.Fatalf("GET after = %d", st)
	}
	if n := logs.count(`"message":"data request overlap`); n != 1 {
		t.Fatalf("overlap logged %d times", n)
	}
}

// A polling client that never polls again is gone within pingInterval +
// pingTimeout with its queue freed, even if it sends pongs blindly.
func TestUnpolledPollingSessionGone(t *testing.T) {
	t.Parallel()
	const pi, pt = 100 * time.Millisecond, 100 * time.Millisecond
	f := newFixture(t, Options{PingInterval: pi, PingTimeout: pt})
	sid := f.handshake()
	start := time.Now()
	s := f.session()
	for range 10 {
		if err := s.Send(Message{Data: make([]byte, 10_000)}); err != nil {
			t.Fatal(err)
		}
	}
	stop := make(chan struct{})
	defer close(stop)
	go func() {
		tick := time.NewTicker(20 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-stop:
				return
			case <-tick.C:
				resp, err := http.Post(f.url+"?EIO=4&transport=polling&sid="+sid, "text/plain", strings.NewReader("3"))
				if err != nil {
					return
				}
				resp.Body.Close()
			}
		}
	}()
	f.waitClose(sid, ReasonPingTimeout)
	// A protocol bound, with a second of slack for a loaded machine.
	if d := time.Since(start); d > pi+pt+time.Second {
		t.Fatalf("session lived %v, want about %v", d, pi+pt)
	}
	s.mu.Lock()
	q, n := s.queue, s.queueBytes
	s.mu.Unlock()
	if q != nil || n != 0 {
		t.Fatalf("queue kept after close: %d packets, %d bytes", len(q), n)
	}
}

func TestCORSNeverReflectsWildcard(t *testing.T) {
	t.Parallel()
	type want struct{ origin, creds string }
	tests := []struct {
		name    string
		cors    CORSOptions
		answers map[string]want // request Origin → headers
	}{
		{"wildcard with credentials", CORSOptions{Origins: []string{"*"}, Credentials: true}, map[string]want{
			"https://evil.example": {"*", ""},
			"null":                 {"*", ""},
			"":                     {"*", ""},
		}},
		{"named with credentials", CORSOptions{Origins: []string{"https://a.example"}, Credentials: true}, map[string]want{
			"https://a.example":    {"https://a.example", "true"},
			"https://evil.example": {"", ""},
			"null":                 {"", ""},
		}},
		{"wildcard and named", CORSOptions{Origins: []string{"*", "https://a.example"}, Credentials: true}, map[string]want{
			"https://a.example":    {"https://a.example", "true"},
			"https://evil.example": {"*", ""},
			"null":                 {"*", ""},
			"*":                    {"*", ""},
		}},
	}
	for _, tt := range tests {
		f := newFixture(t, Options{CORS: tt.cors})
		for origin, w := range tt.answers {
			for _, method := range []string{http.MethodOptions, http.MethodGet} {
				req, _ := http.NewRequest(method, f.url+"?EIO=4&transport=polling", nil)
				if origin != "" {
					req.Header.Set("Origin", origin)
				}
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				resp.Body.Close()
				h := resp.Header
				if h.Get("Access-Control-Allow-Origin") != w.origin || h.Get("Access-Control-Allow-Credentials") != w.creds {
					t.Errorf("%s: %s from %q: Allow-Origin %q, Allow-Credentials %q; want %q, %q", tt.name, method, origin,
						h.Get("Access-Control-Allow-Origin"), h.Get("Access-Control-Allow-Credentials"), w.origin, w.creds)
				}
				if w.origin != "" && w.origin != "*" && !strings.Contains(strings.Join(h.Values("Vary"), ","), "Origin") {
					t.Errorf("%s: echoed origin without Vary: Origin", tt.name)
				}
			}
		}
	}
}

// tryGet is a GET that can run on any goroutine.
func (f *fixture) tryGet(sid string) string {
	resp, err := http.Get(f.url + "?EIO=4&transport=polling&sid=" + sid)
	if err != nil {
		return err.Error()
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return fmt.Sprint(resp.StatusCode, " ", string(b))
}

// A GET that found its session just before the client's own close packet
// ended it gets the noop, not 400 (the official suite's "forcefully closes
// the session" sends both at once).
func TestPollCloseRace(t *testing.T) {
	t.Parallel()
	var armed atomic.Bool
	lookedUp, release := make(chan struct{}), make(chan struct{})
	f := newFixtureWith(t, Options{}, func(srv *Server, _ *httptest.Server) {
		srv.afterLookup = func(string) {
			if armed.CompareAndSwap(true, false) {
				lookedUp <- struct{}{}
				<-release
			}
		}
	})
	sid := f.handshake()
	armed.Store(true)
	got := make(chan string, 1)
	go func() { got <- f.tryGet(sid) }()
	select {
	case <-lookedUp:
	case <-time.After(5 * time.Second):
		t.Fatal("GET did not reach the session")
	}
	if st, body := f.post(sid, "1"); st != http.StatusOK || body != "ok" {
		t.Fatalf("POST 1 = %d %q", st, body)
	}
	f.waitClose(sid, ReasonTransportClose)
	close(release)
	if g := <-got; g != "200 6" {
		t.Fatalf("GET racing the close = %q, want 200 6", g)
	}
	if st, _ := f.get(sid); st != http.StatusBadRequest {
		t.Fatalf("GET after = %d", st)
	}
}

// The same race without a hook, whichever order the requests take.
func TestPollCloseRaceRepeated(t *testing.T) {
	t.Parallel()
	f := newFixture(t, Options{})
	for i := range 50 {
		sid := f.handshake()
		got := make(chan string, 1)
		go func() { got <- f.tryGet(sid) }()
		if st, _ := f.post(sid, "1"); st != http.StatusOK {
			t.Fatalf("round %d: POST 1 = %d", i, st)
		}
		if g := <-got; g != "200 6" {
			t.Fatalf("round %d: GET = %q, want 200 6", i, g)
		}
		f.waitClose(sid, ReasonTransportClose)
		f.session()
	}
}

// What sessions log at info and above, clients cause: a flood of bad
// clients writes at most ClientLogBurst such lines a second.
func TestClientCausedLogsAreSampled(t *testing.T) {
	t.Parallel()
	logs := &syncBuffer{}
	f := newFixture(t, Options{Logger: logs.logger()})
	start := time.Now()
	for range 3 * ClientLogBurst {
		c := f.dial("EIO=4&transport=websocket")
		read(t, c)
		write(t, c, websocket.MessageText, "4bad \xff")
		readClosed(t, c)
	}
	// One burst per second begun.
	limit := ClientLogBurst * (int(time.Since(start)/time.Second) + 1)
	if n := logs.count(`"message":"malformed packet`); n == 0 || n > limit {
		t.Fatalf("%d parse errors logged for %d bad clients, want 1…%d", n, 3*ClientLogBurst, limit)
	}
}

// At most MaxSessions sessions are open at once: a handshake beyond is
// answered 503 (polling and WebSocket alike), logged, and a closed
// session makes room.
func TestMaxSessions(t *testing.T) {
	logs := &syncBuffer{}
	f := newFixture(t, Options{MaxSessions: 2, Logger: logs.logger()})
	f.handshake()
	sid := f.handshake()
	st, body, hdr := f.do(http.MethodGet, "EIO=4&transport=polling", "")
	if st != http.StatusServiceUnavailable || body != `{"code":3,"message":"Server full"}` || hdr.Get("Retry-After") == "" {
		t.Fatalf("third polling handshake: %d %q %v", st, body, hdr)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_, resp, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(f.url, "http")+"?EIO=4&transport=websocket", nil)
	if err == nil || resp == nil || resp.StatusCode != http.StatusServiceUnavailable {
		t.Fatalf("third WebSocket handshake: %v, %v", err, resp)
	}
	if n := logs.count("max_sessions reached"); n != 2 {
		t.Fatalf("%d refusals logged, want 2", n)
	}
	// Closing one makes room; upgrades of open sessions are not new ones.
	if st, _ := f.post(sid, "1"); st != http.StatusOK {
		t.Fatalf("close: %d", st)
	}
	f.session()
	f.session()
	f.waitClose(sid, ReasonTransportClose)
	f.handshake()
}

// A session keeps its handshake as compactly as it came: a 15 KB query of
// three-byte parameters does not become a map of 4000 entries per
// session, and Header and Query still give everything back.
func TestHandshakeHeldCompactly(t *testing.T) {
	// Not parallel: it measures the process's heap.
	f := newFixture(t, Options{})
	var q strings.Builder
	q.WriteString("EIO=4&transport=polling")
	for i := 0; q.Len() < 15_000; i++ {
		fmt.Fprintf(&q, "&%x", i)
	}
	const sessions = 60
	base := heapInuse()
	for range sessions {
		req, _ := http.NewRequest(http.MethodGet, f.url+"?"+q.String(), nil)
		req.Header.Add("X-Multi", "one")
		req.Header.Add("X-Multi", "two")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("handshake: %d", resp.StatusCode)
		}
	}
	s := f.session()
	per := (int64(heapInuse()) - int64(base)) / sessions
	t.Logf("%d sessions with a %d-byte query: %d bytes of heap each", sessions, q.Len(), per)
	if per > 64<<10 {
		t.Fatalf("each session holds %d bytes for a %d-byte request", per, q.Len())
	}
	hs := s.Handshake()
	if got := hs.Header().Values("X-Multi"); len(got) != 2 || got[0] != "one" || got[1] != "two" {
		t.Fatalf("X-Multi = %q", got)
	}
	if qv := hs.Query(); qv.Get("EIO") != "4" || !qv.Has("ff") || len(qv) < 3000 {
		t.Fatalf("query: EIO=%q, %d keys", qv.Get("EIO"), len(qv))
	}
}
