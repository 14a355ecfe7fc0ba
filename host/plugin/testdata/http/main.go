//go:build wasip1

// Command http is a test guest of outbound HTTP: it starts requests when
// asked and reports every HTTP_RESPONSE call, to the socket it is about
// (event "http-response") or, about none, in the key-value store
// (resp:<ctx>).
package main

import (
	"time"

	sockwasm "github.com/sockwasm/sockwasm/sdk/go"
)

// version is set with -ldflags "-X main.version=…".
var version = "v1"

func str(v sockwasm.Value) string {
	s, _ := v.AsString()
	return s
}

// request builds a request from {method, url, headers, body}.
func request(v sockwasm.Value) *sockwasm.HTTPRequest {
	r := &sockwasm.HTTPRequest{Method: str(v.Get("method")), URL: str(v.Get("url")), Body: []byte(str(v.Get("body")))}
	if h := v.Get("headers"); h.Exists() {
		r.Header = map[string]string{}
		for _, k := range []string{"Content-Type", "X-Test", "Host", "Bad Name"} {
			if s, ok := h.Get(k).AsString(); ok {
				r.Header[k] = s
			}
		}
	}
	return r
}

func ackID(e *sockwasm.Event, id sockwasm.HTTPRequestID, err error) {
	b := []byte("[")
	if err != nil {
		b = sockwasm.AppendString(b, err.Error())
	} else {
		b = sockwasm.AppendInt(b, int64(id))
	}
	e.Ack(append(b, ']'))
}

func init() {
	sockwasm.OnInit(func(cfg []byte) error {
		if url, ok := sockwasm.Value(cfg).Get("init_url").AsString(); ok {
			_, err := sockwasm.StartHTTP(&sockwasm.HTTPRequest{URL: url}, nil)
			msg := "ok"
			if err != nil {
				msg = err.Error()
			}
			sockwasm.KV.Set("init", []byte(msg), 0)
		}
		return nil
	})
	sockwasm.OnConnect(func(s *sockwasm.Socket) *sockwasm.ConnectError {
		if url, ok := s.Auth().Get("url").AsString(); ok {
			_, err := sockwasm.StartHTTP(&sockwasm.HTTPRequest{URL: url}, nil)
			msg := "ok"
			if err != nil {
				msg = err.Error()
			}
			s.SetData(sockwasm.AppendString(nil, msg))
		}
		return nil
	})
	// http [{method, url, headers, body}, ctx] acks the request id or the
	// error.
	sockwasm.OnEvent("http", func(s *sockwasm.Socket, e *sockwasm.Event) {
		id, err := sockwasm.StartHTTP(request(e.Arg(0)), []byte(str(e.Arg(1))))
		ackID(e, id, err)
	})
	// flood [url, n] starts n requests and acks how many started and the
	// first error.
	sockwasm.OnEvent("flood", func(s *sockwasm.Socket, e *sockwasm.Event) {
		n, _ := e.Arg(1).AsInt()
		started, first := 0, ""
		for range n {
			if _, err := sockwasm.StartHTTP(&sockwasm.HTTPRequest{URL: str(e.Arg(0))}, []byte("flood")); err != nil {
				if first == "" {
					first = err.Error()
				}
				continue
			}
			started++
		}
		b := sockwasm.AppendInt([]byte("["), int64(started))
		b = append(b, ',')
		b = sockwasm.AppendString(b, first)
		e.Ack(append(b, ']'))
	})
	// timer [url, ctx] starts the request from a timer call: its response
	// is about no socket.
	sockwasm.OnEvent("timer", func(s *sockwasm.Socket, e *sockwasm.Event) {
		ctx := append(append([]byte(str(e.Arg(1))), 0), str(e.Arg(0))...)
		_, err := sockwasm.SetTimer(time.Millisecond, false, ctx)
		ackID(e, 0, err)
	})
	sockwasm.OnTimer(func(id sockwasm.TimerID, ctx []byte) {
		for i, c := range ctx {
			if c == 0 {
				if _, err := sockwasm.StartHTTP(&sockwasm.HTTPRequest{URL: string(ctx[i+1:])}, ctx[:i]); err != nil {
					sockwasm.KV.Set("resp:"+string(ctx[:i]), []byte(err.Error()), 0)
				}
				return
			}
		}
	})
	sockwasm.OnHTTPResponse(func(r *sockwasm.HTTPResponse) {
		b := []byte(`{"version":`)
		b = sockwasm.AppendString(b, version)
		b = append(b, `,"id":`...)
		b = sockwasm.AppendInt(b, int64(r.ID))
		b = append(b, `,"status":`...)
		b = sockwasm.AppendInt(b, int64(r.Status))
		b = append(b, `,"failure":`...)
		b = sockwasm.AppendString(b, string(r.Failure))
		b = append(b, `,"detail":`...)
		b = sockwasm.AppendString(b, r.Detail)
		b = append(b, `,"body":`...)
		b = sockwasm.AppendString(b, string(r.Body()))
		b = append(b, `,"x":`...)
		b = sockwasm.AppendString(b, r.Header("x-reply"))
		b = append(b, `,"ctx":`...)
		b = sockwasm.AppendString(b, string(r.Context))
		b = append(b, '}')
		if r.Socket == nil {
			sockwasm.KV.Set("resp:"+string(r.Context), b, 0)
			return
		}
		if err := r.Socket.Emit("http-response", append(append([]byte("["), b...), ']')); err != nil {
			sockwasm.KV.Set("emit:"+string(r.Context), []byte(err.Error()), 0)
		}
		if string(r.Context) == "chain" {
			sockwasm.StartHTTP(&sockwasm.HTTPRequest{URL: r.Header("x-next")}, []byte("chained"))
		}
	})
}

// main is not run in c-shared mode; handlers are registered by init.
func main() {}
