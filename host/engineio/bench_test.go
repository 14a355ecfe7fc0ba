package engineio

import (
	"bytes"
	"context"
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

type nopReceiver struct{}

func (nopReceiver) OnMessage([]byte, bool) {}
func (nopReceiver) OnClose(CloseReason)    {}

// dialRawWebSocket opens an Engine.IO WebSocket session with a bare TCP
// client (no client-side library state) and reads the open packet.
func dialRawWebSocket(addr string) (net.Conn, error) {
	c, err := net.Dial("tcp", addr)
	if err != nil {
		return nil, err
	}
	_, err = io.WriteString(c, "GET /engine.io/?EIO=4&transport=websocket HTTP/1.1\r\nHost: x\r\n"+
		"Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"+
		"Sec-WebSocket-Version: 13\r\n\r\n")
	if err != nil {
		c.Close()
		return nil, err
	}
	var buf [512]byte
	n := 0
	for !bytes.Contains(buf[:n], []byte(`"maxPayload"`)) || buf[n-1] != '}' {
		m, err := c.Read(buf[n:])
		if err != nil {
			c.Close()
			return nil, err
		}
		n += m
	}
	return c, nil
}

func heapAndStacks() uint64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapInuse + m.StackInuse
}

// BenchmarkIdleWebSocketMemory reports the memory one idle WebSocket
// session costs, server and bare client socket together (B/conn). Run it
// with -benchtime=1x.
func BenchmarkIdleWebSocketMemory(b *testing.B) {
	const conns = 2000
	srv := New(Options{PingInterval: time.Hour, PingTimeout: time.Hour}, openFunc(func(*Session) Receiver { return nopReceiver{} }))
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	hs := &http.Server{Handler: srv}
	go func() { _ = hs.Serve(ln) }()
	defer func() {
		_ = srv.Shutdown(context.Background())
		_ = hs.Close()
	}()
	// Warm up pools and the listener.
	if c, err := dialRawWebSocket(ln.Addr().String()); err == nil {
		c.Close()
	}
	for b.Loop() {
		before := heapAndStacks()
		cs := make([]net.Conn, 0, conns)
		for range conns {
			c, err := dialRawWebSocket(ln.Addr().String())
			if err != nil {
				b.Fatal(err)
			}
			cs = append(cs, c)
		}
		after := heapAndStacks()
		b.ReportMetric(float64(after-before)/conns, "B/conn")
		for _, c := range cs {
			c.Close()
		}
		for srv.Len() > 0 {
			time.Sleep(10 * time.Millisecond)
		}
	}
}

// BenchmarkWebSocketSend measures Send to one WebSocket session until its
// client has read the message, one message at a time (each Send starts the
// writer: the cost of arming and clearing the write deadline shows) and in
// batches of 64.
func BenchmarkWebSocketSend(b *testing.B) {
	for _, n := range []int{1, 64} {
		b.Run(fmt.Sprintf("batch=%d", n), func(b *testing.B) {
			sessions := make(chan *Session, 1)
			srv := New(Options{PingInterval: time.Hour, PingTimeout: time.Hour},
				openFunc(func(s *Session) Receiver { sessions <- s; return nopReceiver{} }))
			ts := httptest.NewServer(srv)
			defer func() {
				_ = srv.Shutdown(context.Background())
				ts.Close()
			}()
			ctx := context.Background()
			c, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(ts.URL, "http")+DefaultPath+"?EIO=4&transport=websocket", nil)
			if err != nil {
				b.Fatal(err)
			}
			defer c.CloseNow()
			if _, _, err := c.Read(ctx); err != nil {
				b.Fatal(err)
			}
			s := <-sessions
			msg := Message{Data: []byte(`2["message",{"text":"hello world"}]`)}
			msgs := make([]Message, n)
			for i := range msgs {
				msgs[i] = msg
			}
			b.ReportAllocs()
			for b.Loop() {
				if err := s.Send(msgs...); err != nil {
					b.Fatal(err)
				}
				for range n {
					if _, _, err := c.Read(ctx); err != nil {
						b.Fatal(err)
					}
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/msg")
		})
	}
}

// echoReceiver sends every message back on its session.
type echoReceiver struct{ s *Session }

func (r echoReceiver) OnMessage(data []byte, binary bool) {
	_ = r.s.Send(Message{Data: data, Binary: binary})
}
func (echoReceiver) OnClose(CloseReason) {}

// BenchmarkWebSocketEcho measures one message's round trip through a
// WebSocket session: the client writes it, the server receives it and
// sends it back, the client reads it (both directions of the message
// path, its counters included).
func BenchmarkWebSocketEcho(b *testing.B) {
	srv := New(Options{PingInterval: time.Hour, PingTimeout: time.Hour},
		openFunc(func(s *Session) Receiver { return echoReceiver{s} }))
	ts := httptest.NewServer(srv)
	defer func() {
		_ = srv.Shutdown(context.Background())
		ts.Close()
	}()
	ctx := context.Background()
	c, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(ts.URL, "http")+DefaultPath+"?EIO=4&transport=websocket", nil)
	if err != nil {
		b.Fatal(err)
	}
	defer c.CloseNow()
	if _, _, err := c.Read(ctx); err != nil {
		b.Fatal(err)
	}
	msg := []byte(`42["message",{"text":"hello world"}]`)
	b.ReportAllocs()
	for b.Loop() {
		if err := c.Write(ctx, websocket.MessageText, msg); err != nil {
			b.Fatal(err)
		}
		if _, _, err := c.Read(ctx); err != nil {
			b.Fatal(err)
		}
	}
}
