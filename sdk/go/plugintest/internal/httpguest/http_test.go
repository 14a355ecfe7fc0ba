// Package httpguest tests the harness's outbound HTTP with handlers of
// its own (the SDK's handlers are process-wide: one set per test binary).
package httpguest

import (
	"io"
	"net/http"
	"strconv"
	"testing"
	"time"

	sockwasm "github.com/sockwasm/sockwasm/sdk/go"
	"github.com/sockwasm/sockwasm/sdk/go/plugintest"
)

// Outbound HTTP: "fetch" starts a request whose response is acked to the
// client later (its ack id in the context); a timer starts one about no
// socket.
func init() {
	sockwasm.OnEvent("fetch", func(s *sockwasm.Socket, e *sockwasm.Event) {
		url, _ := e.Arg(0).AsString()
		_, err := sockwasm.StartHTTP(&sockwasm.HTTPRequest{Method: "POST", URL: url,
			Header: map[string]string{"Content-Type": "text/plain"}, Body: []byte("hello")},
			strconv.AppendUint(nil, e.AckID(), 10))
		if err != nil {
			e.Ack(append(sockwasm.AppendString([]byte("["), err.Error()), ']'))
		}
	})
	sockwasm.OnEvent("poll", func(s *sockwasm.Socket, e *sockwasm.Event) {
		sockwasm.SetTimer(time.Second, false, []byte("poll"))
	})
	sockwasm.OnTimer(func(id sockwasm.TimerID, ctx []byte) {
		if string(ctx) == "poll" {
			sockwasm.StartHTTP(&sockwasm.HTTPRequest{URL: "https://status.example.com/"}, []byte("poll"))
		}
	})
	sockwasm.OnHTTPResponse(func(r *sockwasm.HTTPResponse) {
		if r.Socket == nil {
			sockwasm.KV.Set("poll", []byte(string(r.Failure)+" "+r.Detail), 0)
			return
		}
		id, _ := strconv.ParseUint(string(r.Context), 10, 64)
		if err := r.Err(); err != nil {
			r.Socket.Ack(id, append(sockwasm.AppendString([]byte("["), err.Error()), ']'))
			return
		}
		b := append([]byte("["), sockwasm.AppendInt(nil, int64(r.Status))...)
		b = append(b, ',')
		b = sockwasm.AppendString(b, string(r.Body()))
		b = append(b, ',')
		b = sockwasm.AppendString(b, r.Header("x-seen"))
		r.Socket.Ack(id, append(b, ']'))
	})
}

func TestHTTP(t *testing.T) {
	h := plugintest.New(t)
	h.SetHTTPAllow("https://api.example.com/v1/")
	s := h.Socket(plugintest.SocketOptions{})
	c := s.EmitWithAck("fetch", `["https://api.example.com/v1/echo"]`)
	if len(c.HTTPRequests) != 1 || c.Ack() != nil {
		t.Fatalf("fetch: %+v", c)
	}
	req := c.HTTPRequests[0]
	if req.Method != "POST" || req.URL != "https://api.example.com/v1/echo" || string(req.Body) != "hello" ||
		req.Header["Content-Type"][0] != "text/plain" || req.Socket != s.ID() || req.ID != 1 {
		t.Fatalf("request: %+v", req)
	}
	// The fake transport: an http.Handler answers.
	r := h.RoundTrip(req, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		w.Header().Set("X-Seen", r.Method+" "+string(b))
		w.WriteHeader(202)
		io.WriteString(w, "done")
	}))
	if r.Kind != plugintest.KindHTTPResponse || r.Socket != s.ID() {
		t.Fatalf("response call: %+v", r)
	}
	if a := s.Ack(c.AckID); a == nil || a.Args != `[202,"done","POST hello"]` {
		t.Fatalf("ack: %+v", a)
	}

	// Outside the allowlist: refused at once.
	c = s.EmitWithAck("fetch", `["https://api.example.com/v2/echo"]`)
	if a := c.Ack(); a == nil || a.Args != `["sockwasm: not allowed in this call"]` || len(c.Errors) != 1 {
		t.Fatalf("outside: %+v", c)
	}
	// A failure.
	c = s.EmitWithAck("fetch", `["https://api.example.com/v1/slow"]`)
	h.FailHTTP(c.HTTPRequests[0], sockwasm.HTTPTimeout, "no complete response within http_timeout = 10s")
	if a := s.Ack(c.AckID); a == nil || a.Args != `["sockwasm: http timeout: no complete response within http_timeout = 10s"]` {
		t.Fatalf("timeout: %+v", a)
	}
	// The concurrency bound.
	h.SetMaxHTTPConcurrent(1)
	s.EmitWithAck("fetch", `["https://api.example.com/v1/a"]`)
	if c = s.EmitWithAck("fetch", `["https://api.example.com/v1/b"]`); c.Ack() == nil || c.Ack().Args != `["sockwasm: limit exceeded"]` {
		t.Fatalf("over the bound: %+v", c)
	}
	if p := h.PendingHTTP(); len(p) != 1 || p[0].URL != "https://api.example.com/v1/a" {
		t.Fatalf("pending: %+v", p)
	}
	h.RespondHTTP(h.PendingHTTP()[0], plugintest.HTTPResult{Status: 500})

	// About no socket: a timer's request.
	h.SetHTTPAllow()
	h.SetMaxHTTPConcurrent(16)
	s.Emit("poll", `[]`)
	ti := h.FireTimer(h.Timers()[0].ID)
	if len(ti.Errors) != 1 || ti.Errors[0].Err != sockwasm.ErrNotAllowed {
		t.Fatalf("empty allowlist: %+v", ti)
	}
	h.SetHTTPAllow("https://status.example.com")
	s.Emit("poll", `[]`)
	ti = h.FireTimer(h.Timers()[0].ID)
	if len(ti.HTTPRequests) != 1 || ti.HTTPRequests[0].Socket != "" {
		t.Fatalf("timer: %+v", ti)
	}
	if rc := h.FailHTTP(ti.HTTPRequests[0], sockwasm.HTTPFailed, "connection refused"); rc.Socket != "" || rc.Result != 0 {
		t.Fatalf("response call: %+v", rc)
	}
	if v, _ := h.KV("poll"); v != "failed connection refused" {
		t.Fatalf("poll = %q", v)
	}
}
