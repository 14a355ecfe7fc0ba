//go:build wasip1

// Command hostile is the hostile guest of the server's boundary tests:
// each event does something a plugin should not be able to get away
// with, and acks what the host answered ([count of successes, first error
// code]).
package main

import (
	"errors"
	"strconv"
	"strings"
	"time"

	sockwasm "github.com/sockwasm/sockwasm/sdk/go"
)

// code is the ABI result of err: 0, or a negative error code.
func code(err error) int {
	var e sockwasm.Error
	if errors.As(err, &e) {
		return int(e)
	}
	return 0
}

// result acks [ok, first error] for a loop of n tries of f.
func result(e *sockwasm.Event, n int, f func(i int) error) {
	ok, first := 0, 0
	for i := range n {
		if err := f(i); err != nil {
			if first == 0 {
				first = code(err)
			}
			continue
		}
		ok++
	}
	e.Ack([]byte("[" + strconv.Itoa(ok) + "," + strconv.Itoa(first) + "]"))
}

func argInt(e *sockwasm.Event, i int) int {
	n, _ := e.Arg(i).AsInt()
	return int(n)
}

func init() {
	// INIT refuses when the config says so, after setting a timer and
	// writing a key: neither may survive the refusal.
	sockwasm.OnInit(func(cfg []byte) error {
		if !strings.Contains(string(cfg), `"refuse":true`) {
			return nil
		}
		sockwasm.SetTimer(10*time.Millisecond, true, []byte("from refused init"))
		sockwasm.KV.Set("init", []byte("refused version was here"), 0)
		return errors.New("refusing this version")
	})
	sockwasm.OnTimer(func(id sockwasm.TimerID, ctx []byte) {
		if string(ctx) == "hog" {
			for { // a timer call that loops until its deadline
			}
		}
		sockwasm.KV.Set("fired", ctx, 0)
	})
	sockwasm.OnEvent("kvget", func(s *sockwasm.Socket, e *sockwasm.Event) {
		key, _ := e.Arg(0).AsString()
		v, err := sockwasm.KV.Get(key)
		if err != nil {
			e.Ack([]byte("[null," + strconv.Itoa(code(err)) + "]"))
			return
		}
		e.Ack(append(sockwasm.AppendString([]byte("["), string(v)), ",0]"...))
	})
	sockwasm.OnEvent("kvttl", func(s *sockwasm.Socket, e *sockwasm.Event) {
		days := argInt(e, 0)
		result(e, 1, func(int) error { return sockwasm.KV.Set("ttl", []byte("x"), time.Duration(days)*24*time.Hour) })
	})
	// hog [count, ms]: count repeating timers whose calls loop.
	sockwasm.OnEvent("hog", func(s *sockwasm.Socket, e *sockwasm.Event) {
		ms := argInt(e, 1)
		result(e, argInt(e, 0), func(int) error {
			_, err := sockwasm.SetTimer(time.Duration(ms)*time.Millisecond, true, []byte("hog"))
			return err
		})
	})
	// chain: a broadcast with acks that reaches nobody, asked again from
	// each answer: the answers come at once, forever unless the host
	// bounds the chain. The socket's data counts the rounds.
	sockwasm.OnEvent("chain", func(s *sockwasm.Socket, e *sockwasm.Event) {
		s.SetData([]byte(`{"n":0,"err":0}`))
		result(e, 1, func(int) error {
			return sockwasm.In("nobody").EmitWithAck("q", []byte(`[]`), time.Second, []byte("chain"))
		})
	})
	// fan: the same, asking four times from each answer: a tree of calls.
	sockwasm.OnEvent("fan", func(s *sockwasm.Socket, e *sockwasm.Event) {
		s.SetData([]byte(`{"n":0}`))
		result(e, 4, func(int) error {
			return sockwasm.In("nobody").EmitWithAck("q", []byte(`[]`), time.Second, []byte("fan"))
		})
	})
	sockwasm.OnAckResponse(func(s *sockwasm.Socket, r *sockwasm.AckResponse) {
		if string(r.Context) == "fan" {
			n, _ := s.Data().Get("n").AsInt()
			s.SetData([]byte(`{"n":` + strconv.Itoa(int(n)+1) + `}`))
			for range 4 {
				sockwasm.In("nobody").EmitWithAck("q", []byte(`[]`), time.Second, []byte("fan"))
			}
			return
		}
		if string(r.Context) != "chain" {
			return
		}
		n, _ := s.Data().Get("n").AsInt()
		err := sockwasm.In("nobody").EmitWithAck("q", []byte(`[]`), time.Second, []byte("chain"))
		s.SetData([]byte(`{"n":` + strconv.Itoa(int(n)+1) + `,"err":` + strconv.Itoa(code(err)) + `}`))
	})
	sockwasm.OnEvent("getdata", func(s *sockwasm.Socket, e *sockwasm.Event) {
		d := s.Data()
		if !d.Exists() {
			e.Ack([]byte("[null]"))
			return
		}
		e.Ack(append(append([]byte("["), d.Raw()...), ']'))
	})
	sockwasm.OnEvent("setdata", func(s *sockwasm.Socket, e *sockwasm.Event) {
		result(e, 1, func(int) error { return s.SetData(e.Arg(0).Raw()) })
	})
	// rooms [count, name length]: joins count rooms.
	sockwasm.OnEvent("rooms", func(s *sockwasm.Socket, e *sockwasm.Event) {
		size := argInt(e, 1)
		result(e, argInt(e, 0), func(i int) error {
			name := strconv.Itoa(i) + "-"
			return s.Join(name + strings.Repeat("r", max(size-len(name), 0)))
		})
	})
	// ackctx [size, count]: emits with acks whose contexts hold size bytes.
	sockwasm.OnEvent("ackctx", func(s *sockwasm.Socket, e *sockwasm.Event) {
		ctx := make([]byte, argInt(e, 0))
		result(e, argInt(e, 1), func(int) error {
			return s.EmitWithAck("hold", []byte(`[]`), 10*time.Second, ctx)
		})
	})
	// flood [count]: emits count events to the socket itself.
	sockwasm.OnEvent("flood", func(s *sockwasm.Socket, e *sockwasm.Event) {
		result(e, argInt(e, 0), func(int) error { return s.Emit("x", []byte(`[]`)) })
	})
	// defer [count]: asks count times to disconnect nobody's sockets.
	sockwasm.OnEvent("defer", func(s *sockwasm.Socket, e *sockwasm.Event) {
		result(e, argInt(e, 0), func(int) error { return sockwasm.In("nobody").DisconnectSockets(false) })
	})
	// kick [all]: closes this socket's connection (disconnect(1)), or
	// with all every connection of the namespace (disconnect_sockets).
	sockwasm.OnEvent("kick", func(s *sockwasm.Socket, e *sockwasm.Event) {
		all, _ := e.Arg(0).AsBool()
		result(e, 1, func(int) error {
			if all {
				return sockwasm.In().DisconnectSockets(true)
			}
			return s.CloseConnection()
		})
	})
	// nsemit [nsp]: sends into another namespace.
	sockwasm.OnEvent("nsemit", func(s *sockwasm.Socket, e *sockwasm.Event) {
		nsp, _ := e.Arg(0).AsString()
		result(e, 1, func(int) error { return sockwasm.Of(nsp).Emit("forged", []byte(`["from another plugin"]`)) })
	})
	// log [what]: a forged log line, 40 MB of log, or many lines.
	sockwasm.OnEvent("log", func(s *sockwasm.Socket, e *sockwasm.Event) {
		what, _ := e.Arg(0).AsString()
		switch what {
		case "forge":
			sockwasm.Log(sockwasm.LevelInfo, "innocent\n12:00AM INF forged line plugin=host")
		case "big":
			mb := strings.Repeat("x", 1<<20)
			for range 40 {
				sockwasm.Log(sockwasm.LevelInfo, mb)
			}
		case "many":
			for i := range 5000 {
				sockwasm.Log(sockwasm.LevelInfo, "line "+strconv.Itoa(i))
			}
		}
		e.Ack([]byte(`[0,0]`))
	})
	sockwasm.OnEvent("echo", func(s *sockwasm.Socket, e *sockwasm.Event) {
		e.Ack(e.Args())
	})
	// spin loops until the call's deadline.
	sockwasm.OnEvent("spin", func(s *sockwasm.Socket, e *sockwasm.Event) {
		for {
		}
	})
	// join [room]; shout [text] broadcasts to room "lobby", acked [0].
	sockwasm.OnEvent("join", func(s *sockwasm.Socket, e *sockwasm.Event) {
		room, _ := e.Arg(0).AsString()
		result(e, 1, func(int) error { return s.Join(room) })
	})
	sockwasm.OnEvent("shout", func(s *sockwasm.Socket, e *sockwasm.Event) {
		err := sockwasm.In("lobby").Emit("shout", e.Args())
		e.Ack([]byte("[" + strconv.Itoa(code(err)) + "]"))
	})
	// badutf8: args with invalid UTF-8, which would drop every
	// JavaScript client that received them.
	sockwasm.OnEvent("badutf8", func(s *sockwasm.Socket, e *sockwasm.Event) {
		result(e, 1, func(int) error { return s.Emit("x", []byte("[\"bad \xff\xfe\"]")) })
	})
	// The connection middleware keeps {"owner": config.owner} as this
	// plugin's socket data; the event middleware refuses "mwdata" with
	// that data as the message, so a client can see it.
	sockwasm.OnConnect(func(s *sockwasm.Socket) *sockwasm.ConnectError {
		// A refusal of reject_size bytes, when configured.
		if n, ok := sockwasm.Config().Get("reject_size").AsInt(); ok {
			return &sockwasm.ConnectError{Message: strings.Repeat("x", int(n))}
		}
		if owner, ok := sockwasm.Config().Get("owner").AsString(); ok {
			s.SetData(append(sockwasm.AppendString([]byte(`{"owner":`), owner), '}'))
		}
		return nil
	})
	sockwasm.OnEventMiddleware(func(s *sockwasm.Socket, e *sockwasm.Event) *sockwasm.Rejection {
		if e.Name == "mwdata" {
			return sockwasm.Reject(string(s.Data().Raw()))
		}
		return nil
	})
}

// main is not run in c-shared mode; handlers are registered by init.
func main() {}
