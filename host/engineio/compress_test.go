package engineio

import (
	"bufio"
	"bytes"
	"compress/flate"
	"compress/gzip"
	"compress/zlib"
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
)

func TestAcceptEncoding(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		header []string
		want   httpEncoding
	}{
		{nil, encodingIdentity},
		{[]string{""}, encodingIdentity},
		{[]string{"identity"}, encodingIdentity},
		{[]string{"br"}, encodingIdentity},
		{[]string{"gzip"}, encodingGzip},
		{[]string{"GZip"}, encodingGzip},
		{[]string{"deflate"}, encodingDeflate},
		{[]string{"gzip, deflate, br, zstd"}, encodingGzip}, // Chromium
		{[]string{"deflate, gzip"}, encodingDeflate},        // the header's order on a tie
		{[]string{"deflate", "gzip"}, encodingDeflate},      // across header lines too
		{[]string{"gzip;q=0.5, deflate"}, encodingDeflate},
		{[]string{"gzip; q=0.9 , deflate;q=0.8"}, encodingGzip},
		{[]string{"gzip;q=0"}, encodingIdentity},
		{[]string{"gzip;q=0, deflate;q=0"}, encodingIdentity},
		{[]string{"gzip;q=bad"}, encodingIdentity},
		{[]string{"*"}, encodingGzip},
		{[]string{"gzip;q=0, *"}, encodingDeflate}, // the exact entry wins over "*"
		{[]string{"*, deflate"}, encodingDeflate},  // exact before "*" on a tie
		{[]string{"*;q=0.5, gzip;q=0.4"}, encodingDeflate},
		{[]string{"gzip;q=0.1, gzip;q=0.9, deflate;q=0.5"}, encodingGzip}, // the later of equally specific
		{[]string{" , ;q=1, gzip"}, encodingGzip},
	} {
		h := http.Header{}
		for _, v := range tc.header {
			h.Add("Accept-Encoding", v)
		}
		if got := acceptEncoding(h); got != tc.want {
			t.Errorf("Accept-Encoding %q: %v, want %v", tc.header, got, tc.want)
		}
	}
}

// rawClient does HTTP requests with exactly the headers given: no
// Accept-Encoding of its own, no transparent decompression.
var rawClient = &http.Client{Transport: &http.Transport{DisableCompression: true}}

// pollWith sends msg to the polling session sid opened on f and GETs it
// with Accept-Encoding ae (none when empty). It returns the response and
// its body, still encoded.
func (f *fixture) pollWith(s *Session, msg, ae string) (*http.Response, []byte) {
	f.t.Helper()
	if err := s.Send(Message{Data: []byte(msg)}); err != nil {
		f.t.Fatal(err)
	}
	req, err := http.NewRequest(http.MethodGet, f.url+"?EIO=4&transport=polling&sid="+s.ID(), nil)
	if err != nil {
		f.t.Fatal(err)
	}
	if ae != "" {
		req.Header.Set("Accept-Encoding", ae)
	}
	resp, err := rawClient.Do(req)
	if err != nil {
		f.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		f.t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK {
		f.t.Fatalf("status %d: %s", resp.StatusCode, b)
	}
	return resp, b
}

// decode undoes Content-Encoding enc.
func decode(t *testing.T, enc string, b []byte) string {
	t.Helper()
	var r io.Reader
	var err error
	switch enc {
	case "":
		return string(b)
	case "gzip":
		r, err = gzip.NewReader(bytes.NewReader(b))
	case "deflate":
		r, err = zlib.NewReader(bytes.NewReader(b))
	default:
		t.Fatalf("Content-Encoding %q", enc)
	}
	if err != nil {
		t.Fatal(err)
	}
	out, err := io.ReadAll(r)
	if err != nil {
		t.Fatal(err)
	}
	return string(out)
}

// bigMessage is a message of n bytes that compresses well, as JSON does.
func bigMessage(n int) string {
	var b strings.Builder
	b.WriteString(`2["message",[`)
	for i := 0; b.Len() < n; i++ {
		fmt.Fprintf(&b, `{"id":%d,"text":"hello world"},`, i)
	}
	return b.String()[:n]
}

func TestPollingCompression(t *testing.T) {
	t.Parallel()
	big, small := bigMessage(8<<10), bigMessage(1000)
	for _, tc := range []struct {
		name     string
		opts     Options
		msg, ae  string
		wantEnc  string
		wantVary bool
	}{
		{"gzip", Options{}, big, "gzip", "gzip", true},
		{"deflate", Options{}, big, "deflate", "deflate", true},
		{"browser", Options{}, big, "gzip, deflate, br, zstd", "gzip", true},
		{"below threshold", Options{}, small, "gzip", "", false},
		{"threshold", Options{HTTPCompressionThreshold: 1001}, small, "gzip", "gzip", true}, // "4" + 1000 bytes
		{"no Accept-Encoding", Options{}, big, "", "", true},
		{"unsupported encoding", Options{}, big, "br", "", true},
		{"disabled", Options{DisableHTTPCompression: true}, big, "gzip", "", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t, tc.opts)
			f.handshake()
			s := f.session()
			resp, b := f.pollWith(s, tc.msg, tc.ae)
			enc := resp.Header.Get("Content-Encoding")
			if enc != tc.wantEnc {
				t.Fatalf("Content-Encoding %q, want %q", enc, tc.wantEnc)
			}
			if got := decode(t, enc, b); got != "4"+tc.msg {
				t.Fatalf("decoded body of %d bytes differs from the %d sent", len(got), 1+len(tc.msg))
			}
			if enc != "" && len(b) >= len(tc.msg)/2 {
				t.Fatalf("compressed to %d bytes from %d", len(b), len(tc.msg))
			}
			if cl := resp.Header.Get("Content-Length"); cl != fmt.Sprint(len(b)) {
				t.Fatalf("Content-Length %q for %d bytes", cl, len(b))
			}
			if vary := strings.Contains(strings.Join(resp.Header.Values("Vary"), ","), "Accept-Encoding"); vary != tc.wantVary {
				t.Fatalf("Vary: %q", resp.Header.Values("Vary"))
			}
			// The session goes on: the writers and buffers are reused.
			resp, b = f.pollWith(s, tc.msg+"x", tc.ae)
			if got := decode(t, resp.Header.Get("Content-Encoding"), b); got != "4"+tc.msg+"x" {
				t.Fatal("second response decoded wrong")
			}
		})
	}
}

// TestPollingCompressionErrorsPlain checks that an error answer to a
// request that accepts gzip is not marked as compressed.
func TestPollingCompressionErrorsPlain(t *testing.T) {
	t.Parallel()
	f := newFixture(t, Options{HTTPCompressionThreshold: 1})
	req, _ := http.NewRequest(http.MethodGet, f.url+"?EIO=4&transport=polling&sid=nope", nil)
	req.Header.Set("Accept-Encoding", "gzip")
	resp, err := rawClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest || resp.Header.Get("Content-Encoding") != "" || !strings.Contains(string(b), "Session ID unknown") {
		t.Fatalf("%d %q %s", resp.StatusCode, resp.Header.Get("Content-Encoding"), b)
	}
}

// dialDeflate dials f with a coder/websocket client that offers
// permessage-deflate and returns the connection and the extensions the
// server accepted.
func (f *fixture) dialDeflate() (*websocket.Conn, string) {
	f.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, resp, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(f.url, "http")+"?EIO=4&transport=websocket",
		&websocket.DialOptions{CompressionMode: websocket.CompressionContextTakeover})
	if err != nil {
		f.t.Fatal(err)
	}
	f.t.Cleanup(func() { _ = c.CloseNow() })
	c.SetReadLimit(-1)
	return c, resp.Header.Get("Sec-WebSocket-Extensions")
}

func TestWebSocketPerMessageDeflate(t *testing.T) {
	t.Parallel()
	t.Run("enabled", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t, Options{PerMessageDeflate: true})
		c, ext := f.dialDeflate()
		// The server takes over no context, and asks the client not to.
		if ext != "permessage-deflate; client_no_context_takeover; server_no_context_takeover" {
			t.Fatalf("Sec-WebSocket-Extensions %q", ext)
		}
		read(t, c)
		for _, n := range []int{10, 4 << 10, 200 << 10} {
			msg := "4" + bigMessage(n)
			write(t, c, websocket.MessageText, msg)
			if _, got := read(t, c); got != msg {
				t.Fatalf("echo of %d bytes differs", n)
			}
		}
		write(t, c, websocket.MessageBinary, bigMessage(4<<10))
		if typ, got := read(t, c); typ != websocket.MessageBinary || got != bigMessage(4<<10) {
			t.Fatal("binary echo differs")
		}
	})
	t.Run("disabled", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t, Options{})
		c, ext := f.dialDeflate()
		if ext != "" {
			t.Fatalf("Sec-WebSocket-Extensions %q", ext)
		}
		read(t, c)
		msg := "4" + bigMessage(8<<10)
		write(t, c, websocket.MessageText, msg)
		if _, got := read(t, c); got != msg {
			t.Fatal("echo differs")
		}
	})
}

// rawDeflateConn is a bare WebSocket client that negotiated
// permessage-deflate without context takeover: the test sees the frames.
type rawDeflateConn struct {
	net.Conn
	br *bufio.Reader
}

// dialRawDeflate opens a WebSocket session on addr offering
// permessage-deflate, as browsers and the ws package do, and reads the
// open packet. It fails the test unless the server accepted the
// extension.
func dialRawDeflate(t testing.TB, addr string) *rawDeflateConn {
	t.Helper()
	return dialRawOffering(t, addr, true)
}

// dialRawOffering is dialRawDeflate, where want says whether the server
// should accept the extension. The client buffers little, so that it
// adds little to a measure of the server's memory.
func dialRawOffering(t testing.TB, addr string, want bool) *rawDeflateConn {
	t.Helper()
	nc, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = nc.Close() })
	_, err = io.WriteString(nc, "GET /engine.io/?EIO=4&transport=websocket HTTP/1.1\r\nHost: x\r\n"+
		"Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"+
		"Sec-WebSocket-Version: 13\r\nSec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n\r\n")
	if err != nil {
		t.Fatal(err)
	}
	c := &rawDeflateConn{Conn: nc, br: bufio.NewReaderSize(nc, 64)}
	_ = nc.SetReadDeadline(time.Now().Add(5 * time.Second))
	resp, err := http.ReadResponse(c.br, nil)
	if err != nil {
		t.Fatal(err)
	}
	ext := resp.Header.Get("Sec-WebSocket-Extensions")
	if resp.StatusCode != http.StatusSwitchingProtocols || strings.HasPrefix(ext, "permessage-deflate") != want {
		t.Fatalf("status %d, extensions %q", resp.StatusCode, resp.Header.Get("Sec-WebSocket-Extensions"))
	}
	rsv1, op, p := c.readFrame(t)
	if rsv1 {
		p = inflate(t, p)
	}
	if op != 1 || !strings.HasPrefix(string(p), "0{") {
		t.Fatalf("open packet: opcode %d %q", op, p)
	}
	return c
}

// deflateMessage compresses a message as permessage-deflate sends it: a
// raw deflate stream flushed, without its last four bytes.
func deflateMessage(t testing.TB, p []byte) []byte {
	t.Helper()
	var b bytes.Buffer
	w, _ := flate.NewWriter(&b, flate.BestSpeed)
	if _, err := w.Write(p); err != nil {
		t.Fatal(err)
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	return bytes.TrimSuffix(b.Bytes(), []byte{0, 0, 0xff, 0xff})
}

// writeFrame writes one masked, final frame; rsv1 marks it compressed.
func (c *rawDeflateConn) writeFrame(t testing.TB, op byte, rsv1 bool, payload []byte) error {
	t.Helper()
	h := []byte{0x80 | op}
	if rsv1 {
		h[0] |= 0x40
	}
	switch n := len(payload); {
	case n < 126:
		h = append(h, 0x80|byte(n))
	case n < 1<<16:
		h = append(h, 0x80|126)
		h = binary.BigEndian.AppendUint16(h, uint16(n))
	default:
		h = append(h, 0x80|127)
		h = binary.BigEndian.AppendUint64(h, uint64(n))
	}
	key := [4]byte{1, 2, 3, 4}
	h = append(h, key[:]...)
	masked := make([]byte, len(payload))
	for i, b := range payload {
		masked[i] = b ^ key[i%4]
	}
	_, err := c.Write(append(h, masked...))
	return err
}

// readFrame reads one frame: whether it is compressed, its opcode and
// payload.
func (c *rawDeflateConn) readFrame(t testing.TB) (rsv1 bool, op byte, payload []byte) {
	t.Helper()
	_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
	var h [2]byte
	if _, err := io.ReadFull(c.br, h[:]); err != nil {
		t.Fatalf("reading frame: %v", err)
	}
	n := int64(h[1] & 0x7f)
	switch n {
	case 126:
		var l [2]byte
		_, _ = io.ReadFull(c.br, l[:])
		n = int64(binary.BigEndian.Uint16(l[:]))
	case 127:
		var l [8]byte
		_, _ = io.ReadFull(c.br, l[:])
		n = int64(binary.BigEndian.Uint64(l[:]))
	}
	payload = make([]byte, n)
	if _, err := io.ReadFull(c.br, payload); err != nil {
		t.Fatalf("reading frame: %v", err)
	}
	return h[0]&0x40 != 0, h[0] & 0x0f, payload
}

// inflate undoes deflateMessage.
func inflate(t testing.TB, p []byte) []byte {
	t.Helper()
	out, err := io.ReadAll(flate.NewReader(io.MultiReader(bytes.NewReader(p), strings.NewReader("\x00\x00\xff\xff\x01\x00\x00\xff\xff"))))
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestWebSocketDeflateOnTheWire checks the frames themselves: a message
// above the threshold is sent compressed, one below it is not, and a
// compressed message from the client is inflated.
func TestWebSocketDeflateOnTheWire(t *testing.T) {
	t.Parallel()
	f := newFixture(t, Options{PerMessageDeflate: true, PerMessageDeflateThreshold: 100})
	c := dialRawDeflate(t, f.addr)
	msg := []byte("4" + bigMessage(8<<10))
	if err := c.writeFrame(t, 1, true, deflateMessage(t, msg)); err != nil {
		t.Fatal(err)
	}
	rsv1, op, p := c.readFrame(t)
	if !rsv1 || op != 1 || len(p) > len(msg)/2 {
		t.Fatalf("echo: rsv1 %v, opcode %d, %d bytes for %d", rsv1, op, len(p), len(msg))
	}
	if got := inflate(t, p); !bytes.Equal(got, msg) {
		t.Fatal("echo inflated differs")
	}
	if err := c.writeFrame(t, 1, false, []byte("4short")); err != nil {
		t.Fatal(err)
	}
	if rsv1, _, p := c.readFrame(t); rsv1 || string(p) != "4short" {
		t.Fatalf("short echo: rsv1 %v %q", rsv1, p)
	}
}

// TestWebSocketDeflateBomb checks that a small compressed message that
// inflates beyond MaxPayload is refused as one sent uncompressed is: the
// connection is closed with status 1009 after MaxPayload bytes, the
// session with ReasonTransportError, and the server never holds the
// inflated message.
func TestWebSocketDeflateBomb(t *testing.T) {
	t.Parallel()
	const limit = 100_000
	f := newFixture(t, Options{PerMessageDeflate: true, MaxPayload: limit})
	c := dialRawDeflate(t, f.addr)
	s := f.session()
	// 64 MiB of zeros in a few hundred KB: were it inflated whole, the
	// heap would show it.
	var b bytes.Buffer
	w, _ := flate.NewWriter(&b, flate.BestSpeed)
	zeros := make([]byte, 1<<20)
	zeros[0] = '4'
	_, _ = w.Write(zeros)
	zeros[0] = 0
	for range 63 {
		_, _ = w.Write(zeros)
	}
	_ = w.Flush()
	bomb := bytes.TrimSuffix(b.Bytes(), []byte{0, 0, 0xff, 0xff})
	before := heapInuse()
	// The server may close before it has read the whole frame.
	_ = c.writeFrame(t, 1, true, bomb)
	_, op, p := c.readFrame(t)
	if op != 8 || len(p) < 2 || websocket.StatusCode(binary.BigEndian.Uint16(p)) != websocket.StatusMessageTooBig {
		t.Fatalf("want a close frame with status 1009, got opcode %d %q", op, p)
	}
	f.waitClose(s.ID(), ReasonTransportError)
	if grown := int64(heapInuse()) - int64(before); grown > 16<<20 {
		t.Fatalf("heap grew by %d MiB", grown>>20)
	}
}

// BenchmarkPollCompression measures compressing one polling response
// body with the pooled writers (allocations per response) and, for
// comparison, with a gzip writer at the default level; out/in is the
// compressed size over the body's.
func BenchmarkPollCompression(b *testing.B) {
	for _, size := range []int{4 << 10, 64 << 10} {
		body := []byte("4" + bigMessage(size-1))
		for _, enc := range []httpEncoding{encodingGzip, encodingDeflate} {
			b.Run(fmt.Sprintf("%v/%dKiB", enc, size>>10), func(b *testing.B) {
				b.SetBytes(int64(len(body)))
				b.ReportAllocs()
				n := 0
				for b.Loop() {
					buf := compressBody(enc, body)
					n = buf.Len()
					releaseBuffer(buf)
				}
				b.ReportMetric(float64(n)/float64(len(body)), "out/in")
			})
		}
		b.Run(fmt.Sprintf("gzip-default-level/%dKiB", size>>10), func(b *testing.B) {
			b.SetBytes(int64(len(body)))
			b.ReportAllocs()
			var buf bytes.Buffer
			w, _ := gzip.NewWriterLevel(&buf, gzip.DefaultCompression)
			for b.Loop() {
				buf.Reset()
				w.Reset(&buf)
				_, _ = w.Write(body)
				_ = w.Close()
			}
			b.ReportMetric(float64(buf.Len())/float64(len(body)), "out/in")
		})
	}
}

// BenchmarkPollResponse measures a 4 KiB message's way through a polling
// session: Send, then a GET that takes it, answered plain or compressed,
// read and decoded by the client. The client's allocations count too:
// compare the encodings with each other.
func BenchmarkPollResponse(b *testing.B) {
	msg := []byte(bigMessage(4 << 10))
	for _, ae := range []string{"", "gzip", "deflate"} {
		name := ae
		if name == "" {
			name = "identity"
		}
		b.Run(name, func(b *testing.B) {
			sessions := make(chan *Session, 1)
			srv := New(Options{PingInterval: time.Hour, PingTimeout: time.Hour},
				openFunc(func(s *Session) Receiver { sessions <- s; return nopReceiver{} }))
			ts := httptest.NewServer(srv)
			defer func() {
				_ = srv.Shutdown(context.Background())
				ts.Close()
			}()
			url := ts.URL + DefaultPath + "?EIO=4&transport=polling"
			resp, err := rawClient.Get(url)
			if err != nil {
				b.Fatal(err)
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			s := <-sessions
			req, _ := http.NewRequest(http.MethodGet, url+"&sid="+s.ID(), nil)
			if ae != "" {
				req.Header.Set("Accept-Encoding", ae)
			}
			var zr *gzip.Reader
			var out bytes.Buffer
			b.ReportAllocs()
			for b.Loop() {
				if err := s.Send(Message{Data: msg}); err != nil {
					b.Fatal(err)
				}
				resp, err := rawClient.Do(req)
				if err != nil {
					b.Fatal(err)
				}
				out.Reset()
				switch ae {
				case "gzip":
					if zr == nil {
						zr, err = gzip.NewReader(resp.Body)
					} else {
						err = zr.Reset(resp.Body)
					}
					if err == nil {
						_, err = out.ReadFrom(zr)
					}
				case "deflate":
					var r io.ReadCloser
					if r, err = zlib.NewReader(resp.Body); err == nil {
						_, err = out.ReadFrom(r)
					}
				default:
					_, err = out.ReadFrom(resp.Body)
				}
				resp.Body.Close()
				if err != nil || out.Len() != len(msg)+1 {
					b.Fatalf("read %d bytes: %v", out.Len(), err)
				}
			}
		})
	}
}

// BenchmarkCompressedWebSocketMemory reports the memory a WebSocket
// session costs once its client has sent one 4 KiB message and read its
// echo, then gone idle (B/conn, server and bare client together), without
// permessage-deflate and with it, taking over the compression context
// across messages or not. Run it with -benchtime=1x.
func BenchmarkCompressedWebSocketMemory(b *testing.B) {
	msg := []byte("4" + bigMessage(4<<10))
	for _, m := range []struct {
		name  string
		mode  websocket.CompressionMode
		conns int // fewer where each holds a compressor
	}{
		{"off", websocket.CompressionDisabled, 1000},
		{"no-context-takeover", websocket.CompressionNoContextTakeover, 1000},
		{"context-takeover", websocket.CompressionContextTakeover, 100},
	} {
		mode, conns := m.mode, m.conns
		b.Run(m.name, func(b *testing.B) {
			srv := New(Options{PingInterval: time.Hour, PingTimeout: time.Hour, PerMessageDeflate: true},
				openFunc(func(s *Session) Receiver { return echoReceiver{s} }))
			srv.wsCompression = mode
			ts := httptest.NewServer(srv)
			defer func() {
				_ = srv.Shutdown(context.Background())
				ts.Close()
			}()
			addr := ts.Listener.Addr().String()
			deflate := mode != websocket.CompressionDisabled
			payload := msg
			if deflate {
				payload = deflateMessage(b, msg)
			}
			roundTrip := func(c *rawDeflateConn) {
				if err := c.writeFrame(b, 1, deflate, payload); err != nil {
					b.Fatal(err)
				}
				if rsv1, _, p := c.readFrame(b); rsv1 != deflate || (!rsv1 && len(p) != len(msg)) {
					b.Fatalf("echo: rsv1 %v, %d bytes", rsv1, len(p))
				}
			}
			// Two collections empty sync.Pool (its victim cache too), so
			// that what the pools of compressors hold is not counted.
			heap := func() uint64 {
				runtime.GC()
				return heapAndStacks()
			}
			roundTrip(dialRawOffering(b, addr, deflate)) // warm up
			for b.Loop() {
				before := heap()
				cs := make([]*rawDeflateConn, 0, conns)
				for range conns {
					c := dialRawOffering(b, addr, deflate)
					roundTrip(c)
					cs = append(cs, c)
				}
				after := heap()
				b.ReportMetric(float64(after-before)/float64(conns), "B/conn")
				for _, c := range cs {
					c.Close()
				}
			}
		})
	}
}

// BenchmarkWebSocketEchoDeflate is BenchmarkWebSocketEcho with a 4 KiB
// message of text, plain and with permessage-deflate both ways (the
// client's compression and inflation count too).
func BenchmarkWebSocketEchoDeflate(b *testing.B) {
	words := strings.Fields("the a to and of in is you that it for on are with this be have not at your we can room message hello world user online today time chat")
	var sb strings.Builder
	sb.WriteString(`42["echo","`)
	for i := uint32(1); sb.Len() < 4<<10; i = i*1103515245 + 12345 {
		sb.WriteString(words[(i>>16)%uint32(len(words))])
		sb.WriteByte(' ')
	}
	msg := []byte(sb.String()[:4<<10-2] + `"]`)
	for _, deflate := range []bool{false, true} {
		name := "plain"
		if deflate {
			name = "deflate"
		}
		b.Run(name, func(b *testing.B) {
			srv := New(Options{PingInterval: time.Hour, PingTimeout: time.Hour, PerMessageDeflate: deflate},
				openFunc(func(s *Session) Receiver { return echoReceiver{s} }))
			ts := httptest.NewServer(srv)
			defer func() {
				_ = srv.Shutdown(context.Background())
				ts.Close()
			}()
			ctx := context.Background()
			opts := &websocket.DialOptions{}
			if deflate {
				opts.CompressionMode = websocket.CompressionContextTakeover
				opts.CompressionThreshold = 1024
			}
			c, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(ts.URL, "http")+DefaultPath+"?EIO=4&transport=websocket", opts)
			if err != nil {
				b.Fatal(err)
			}
			defer c.CloseNow()
			if _, _, err := c.Read(ctx); err != nil {
				b.Fatal(err)
			}
			b.SetBytes(int64(len(msg)))
			b.ReportAllocs()
			for b.Loop() {
				if err := c.Write(ctx, websocket.MessageText, msg); err != nil {
					b.Fatal(err)
				}
				if _, _, err := c.Read(ctx); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
