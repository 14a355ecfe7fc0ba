package plugintest_test

import (
	"errors"
	"testing"
	"time"

	sockwasm "github.com/sockwasm/sockwasm/sdk/go"
	"github.com/sockwasm/sockwasm/sdk/go/plugintest"
)

// A small plugin exercising the state, middleware and room functions.
func init() {
	sockwasm.OnInit(func(cfg []byte) error {
		if _, ok := sockwasm.Value(cfg).Get("limit").AsInt(); !ok {
			return errors.New("limit missing")
		}
		return nil
	})
	sockwasm.OnEventMiddleware(func(s *sockwasm.Socket, e *sockwasm.Event) *sockwasm.Rejection {
		if e.Name == "forbidden" {
			return &sockwasm.Rejection{Message: "no", Data: []byte(`{"code":1}`)}
		}
		if err := s.Emit("x", []byte("[]")); err != sockwasm.ErrNotAllowed {
			sockwasm.Log(sockwasm.LevelError, "emit in middleware: unexpected result")
		}
		if err := sockwasm.Of("/").Emit("x", []byte("[]")); err != sockwasm.ErrNotAllowed {
			sockwasm.Log(sockwasm.LevelError, "ns broadcast in middleware: unexpected result")
		}
		s.SetData([]byte(`{"seen":true}`))
		return nil
	})
	sockwasm.OnEvent("count", func(s *sockwasm.Socket, e *sockwasm.Event) {
		n, err := sockwasm.KV.Incr("count", 1)
		if err != nil {
			e.Ack([]byte(`["error"]`))
			return
		}
		e.Ack(append(append([]byte("["), sockwasm.AppendInt(nil, n)...), ']'))
	})
	sockwasm.OnEvent("later", func(s *sockwasm.Socket, e *sockwasm.Event) {
		id, err := sockwasm.SetTimer(time.Second, false, []byte("ctx"))
		if err != nil {
			return
		}
		limit, _ := sockwasm.Config().Get("limit").AsInt()
		sockwasm.Log(sockwasm.LevelInfo, "timer set")
		e.Ack(append(append(sockwasm.AppendInt([]byte("["), int64(id)), ','), append(sockwasm.AppendInt(nil, limit), ']')...))
	})
	sockwasm.OnTimer(func(id sockwasm.TimerID, ctx []byte) {
		sockwasm.KV.Set("fired", ctx, 0)
		sockwasm.In("lobby").Emit("tick", []byte(`[1]`))
		// A namespace broadcast needs no socket.
		sockwasm.Of("/").To("lobby").Except("quiet").Volatile().Emit("ns-tick", []byte(`[2]`))
		sockwasm.Of("nope").Emit("ns-tick", []byte(`[3]`))
	})
	sockwasm.OnEvent("lease", func(s *sockwasm.Socket, e *sockwasm.Event) {
		ok, err := sockwasm.KV.CompareAndSwapTTL("lease", nil, []byte(s.ID()), time.Minute)
		if err != nil {
			e.Ack([]byte(`["error"]`))
		} else if ok {
			e.Ack([]byte(`[true]`))
		} else {
			e.Ack([]byte(`[false]`))
		}
	})
	sockwasm.OnEvent("gather", func(s *sockwasm.Socket, e *sockwasm.Event) {
		socks, _ := sockwasm.In("lobby").FetchSockets()
		sockwasm.In("lobby").SocketsJoin("all")
		s.Broadcast().Except("quiet").Volatile().Emit("hey", []byte(`[]`))
		b := []byte("[")
		for i, rs := range socks {
			if i > 0 {
				b = append(b, ',')
			}
			b = sockwasm.AppendString(b, rs.ID)
		}
		e.Ack(append(b, ']'))
	})
}

func TestStateAndTimers(t *testing.T) {
	h := plugintest.New(t)
	if _, err := h.Init(`{}`); err == nil {
		t.Fatal("init accepted a config without limit")
	}
	if _, err := h.Init(`{"limit":5}`); err != nil {
		t.Fatal(err)
	}
	s := h.Socket(plugintest.SocketOptions{Rooms: []string{"lobby"}})
	for want := range []string{"[1]", "[2]"} {
		if a := s.EmitWithAck("count", `[]`).Ack(); a == nil || a.Args != []string{"[1]", "[2]"}[want] {
			t.Fatalf("count = %+v", a)
		}
	}
	if v, ok := h.KV("count"); !ok || v != "2" || len(h.KVOps()) != 2 || h.KVOps()[1].Result != 2 {
		t.Fatalf("kv count %q %v, ops %+v", v, ok, h.KVOps())
	}
	c := s.EmitWithAck("later", `[]`)
	if c.Ack().Args != "[1,5]" || len(c.TimersSet) != 1 || c.TimersSet[0].Delay != time.Second || len(c.Logs) != 1 {
		t.Fatalf("later: %+v", c)
	}
	if len(h.Timers()) != 1 {
		t.Fatalf("timers %+v", h.Timers())
	}
	c = h.FireTimer(1)
	// A TIMER call is not about a socket: broadcasting is not allowed,
	// broadcasting to a namespace is (ERR_NOT_FOUND for a bad name).
	if v, _ := h.KV("fired"); v != "ctx" || len(h.Timers()) != 0 || c.Emitted("tick") != nil || len(c.Errors) != 2 || c.Errors[0].Func != "broadcast" ||
		c.Errors[1].Func != "ns_broadcast" || c.Errors[1].Err != sockwasm.ErrNotFound {
		t.Fatalf("fired %q, timers %v, call %+v", v, h.Timers(), c)
	}
	e := c.Emitted("ns-tick")
	if e == nil || e.Namespace != "/" || e.From != "" || !e.Broadcast || !e.Volatile || e.Args != "[2]" ||
		len(e.Rooms) != 1 || e.Rooms[0] != "lobby" || len(e.Except) != 1 || e.Except[0] != "quiet" ||
		len(e.Receivers) != 1 || e.Receivers[0] != s.ID() || len(c.Emits) != 1 {
		t.Fatalf("ns-tick = %+v, emits %+v", e, c.Emits)
	}
	if got := s.Received(); len(got) != 1 || got[0].Name != "ns-tick" {
		t.Fatalf("received %+v", got)
	}
}

func TestEventMiddleware(t *testing.T) {
	h := plugintest.New(t)
	s := h.Socket(plugintest.SocketOptions{})
	c := s.EventMiddleware("forbidden", `[]`, true)
	if c.Rejection == nil || c.Rejection.Message != "no" || string(c.Rejection.Data) != `{"code":1}` {
		t.Fatalf("rejection = %+v", c.Rejection)
	}
	c = s.EventMiddleware("ok", `[]`, false)
	if c.Rejection != nil || s.Data() != `{"seen":true}` || len(c.Logs) != 0 {
		t.Fatalf("pass: %+v", c)
	}
	if len(c.Errors) != 2 || c.Errors[0].Func != "emit" || c.Errors[0].Err != sockwasm.ErrNotAllowed ||
		c.Errors[1].Func != "ns_broadcast" || c.Errors[1].Err != sockwasm.ErrNotAllowed {
		t.Fatalf("errors = %+v", c.Errors)
	}
}

func TestRoomOps(t *testing.T) {
	h := plugintest.New(t)
	a := h.Socket(plugintest.SocketOptions{ID: "a", Rooms: []string{"lobby"}})
	b := h.Socket(plugintest.SocketOptions{ID: "b", Rooms: []string{"lobby", "quiet"}})
	c := h.Socket(plugintest.SocketOptions{ID: "c"})
	h.Socket(plugintest.SocketOptions{ID: "other", Namespace: "/admin"})
	call := a.EmitWithAck("gather", `[]`)
	if got := call.Ack().Args; got != `["a","b"]` {
		t.Fatalf("fetched %s", got)
	}
	if !a.In("all") || !b.In("all") || c.In("all") {
		t.Fatalf("rooms: %v %v %v", a.Rooms(), b.Rooms(), c.Rooms())
	}
	hey := call.Emitted("hey")
	if !hey.Volatile || len(hey.Receivers) != 1 || hey.Receivers[0] != "c" {
		t.Fatalf("hey = %+v", hey)
	}
	if a.Ack(call.AckID) == nil || a.Ack(99) != nil {
		t.Fatal("Socket.Ack")
	}
}

func TestKVExpiryAndCAS(t *testing.T) {
	h := plugintest.New(t)
	now := time.Unix(1000, 0)
	h.SetClock(func() time.Time { return now })
	a := h.Socket(plugintest.SocketOptions{ID: "a"})
	b := h.Socket(plugintest.SocketOptions{ID: "b"})
	lease := func(s *plugintest.Socket) string { return s.EmitWithAck("lease", `[]`).Ack().Args }
	if got := lease(a); got != "[true]" {
		t.Fatalf("a: %s", got)
	}
	if got := lease(b); got != "[false]" {
		t.Fatalf("b while a holds the lease: %s", got)
	}
	now = now.Add(2 * time.Minute) // the lease expired
	if got := lease(b); got != "[true]" {
		t.Fatalf("b after expiry: %s", got)
	}
	if v, _ := h.KV("lease"); v != "b" {
		t.Fatalf("lease holder %q", v)
	}
	ops := h.KVOps()
	if len(ops) != 3 || ops[0].Op != "cas" || !ops[0].OldAbsent || ops[0].TTL != time.Minute || ops[1].Result != 0 {
		t.Fatalf("ops %+v", ops)
	}
	// No handler for "nothing": the call records nothing.
	if c := a.EmitWithAck("nothing", `[]`); c.Ack() != nil || len(c.Emits) != 0 || c.Result != 0 {
		t.Fatalf("unhandled: %+v", c)
	}
}
