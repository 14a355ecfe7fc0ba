package socketio

import (
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/sockwasm/sockwasm/host/engineio"
)

// captureOpen is the engineio.Handler of a Server that hands over the
// client it makes.
type captureOpen struct {
	srv *Server
	c   chan *client
}

func (h captureOpen) Open(es *engineio.Session) engineio.Receiver {
	r := h.srv.Open(es)
	h.c <- r.(*client)
	return r
}

// BenchmarkEventAck is one acked event of a client on a named namespace,
// from the client's message as the Engine.IO session hands it over to
// the Socket.IO layer, through the decoder, the socket and its handler,
// to the ack encoded and queued on the session: the Socket.IO layer's
// share of an acked event, without the transport's reads and writes
// (the session is a long-polling one, drained between rounds outside the
// measurement).
func BenchmarkEventAck(b *testing.B) {
	h := newHandler()
	h.onConnect = func(*Socket) {}
	h.onEvent = func(s *Socket, ev *Event) {
		if err := s.Ack(ev.AckID, ev.Args, nil); err != nil {
			b.Error(err)
		}
	}
	srv := New(Options{})
	srv.Handle("/chat", h)
	opened := make(chan *client, 1)
	eng := engineio.New(engineio.Options{Path: "/socket.io/", PingInterval: time.Minute, PingTimeout: time.Minute}, captureOpen{srv, opened})
	defer eng.Shutdown(b.Context())
	defer srv.Shutdown(b.Context())
	rec := httptest.NewRecorder()
	eng.ServeHTTP(rec, httptest.NewRequest("GET", "/socket.io/?EIO=4&transport=polling", nil))
	c := <-opened
	sid := c.es.ID()
	poll := func() string {
		rec := httptest.NewRecorder()
		eng.ServeHTTP(rec, httptest.NewRequest("GET", "/socket.io/?EIO=4&transport=polling&sid="+sid, nil))
		return rec.Body.String()
	}
	c.OnMessage([]byte("0/chat,"), false)
	if got := poll(); !strings.HasPrefix(got, `40/chat,{"sid":`) {
		b.Fatalf("CONNECT reply %q", got)
	}
	msg := []byte(`2/chat,17["message",{"user":"alice","text":"hello, world","ts":1700000000000,"tags":["a","b"]},42,true]`)
	buf := make([]byte, len(msg))
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		copy(buf, msg)
		c.OnMessage(buf, false)
		if i%64 == 63 || i == b.N-1 {
			b.StopTimer()
			if got := poll(); !strings.HasPrefix(got, `43/chat,17[{"user":"alice"`) {
				b.Fatalf("poll %q", got)
			}
			b.StartTimer()
		}
	}
}
