//go:build wasip1

// Command state is a test guest of the plugin-state host functions: it
// reports its version, reads its config, uses the key-value store and sets
// timers whose calls are recorded in the store.
package main

import (
	"errors"
	"time"

	sockwasm "github.com/sockwasm/sockwasm/sdk/go"
)

// version is set with -ldflags "-X main.version=…".
var version = "v1"

func str(v sockwasm.Value) string {
	s, _ := v.AsString()
	return s
}

// bytesOrNil maps JSON null to nil (absent) for CompareAndSwap.
func bytesOrNil(v sockwasm.Value) []byte {
	if v.IsNull() {
		return nil
	}
	return []byte(str(v))
}

func ackResult(e *sockwasm.Event, val []byte, err error) {
	out := []byte(`[`)
	if err != nil {
		out = sockwasm.AppendString(out, "error: "+err.Error())
	} else {
		out = sockwasm.AppendString(out, string(val))
	}
	e.Ack(append(out, ']'))
}

func init() {
	sockwasm.OnInit(func(cfg []byte) error {
		if b, _ := sockwasm.Value(cfg).Get("fail").AsBool(); b {
			return errors.New("config says fail")
		}
		if v, ok := sockwasm.Value(cfg).Get("init_key").AsString(); ok {
			sockwasm.KV.Set(v, []byte(version), 0)
		}
		return nil
	})
	sockwasm.OnEvent("version", func(s *sockwasm.Socket, e *sockwasm.Event) {
		ackResult(e, []byte(version), nil)
	})
	// slow busy-waits for arg 0 milliseconds, then acks the version.
	sockwasm.OnEvent("slow", func(s *sockwasm.Socket, e *sockwasm.Event) {
		ms, _ := e.Arg(0).AsInt()
		end := time.Now().Add(time.Duration(ms) * time.Millisecond)
		for time.Now().Before(end) {
		}
		ackResult(e, []byte(version), nil)
	})
	sockwasm.OnEvent("config", func(s *sockwasm.Socket, e *sockwasm.Event) {
		ackResult(e, sockwasm.Config(), nil)
	})
	sockwasm.OnEvent("kv", func(s *sockwasm.Socket, e *sockwasm.Event) {
		key := str(e.Arg(1))
		switch str(e.Arg(0)) {
		case "get":
			v, err := sockwasm.KV.Get(key)
			ackResult(e, v, err)
		case "set":
			ms, _ := e.Arg(3).AsInt()
			ackResult(e, []byte("ok"), sockwasm.KV.Set(key, []byte(str(e.Arg(2))), time.Duration(ms)*time.Millisecond))
		case "del":
			ok, err := sockwasm.KV.Delete(key)
			ackResult(e, sockwasm.AppendBool(nil, ok), err)
		case "incr":
			d, _ := e.Arg(2).AsInt()
			n, err := sockwasm.KV.Incr(key, d)
			ackResult(e, sockwasm.AppendInt(nil, n), err)
		case "cas":
			ok, err := sockwasm.KV.CompareAndSwap(key, bytesOrNil(e.Arg(2)), bytesOrNil(e.Arg(3)))
			ackResult(e, sockwasm.AppendBool(nil, ok), err)
		}
	})
	// timer [ms, repeat, ctx] acks the timer id.
	sockwasm.OnEvent("timer", func(s *sockwasm.Socket, e *sockwasm.Event) {
		ms, _ := e.Arg(0).AsInt()
		repeat, _ := e.Arg(1).AsBool()
		id, err := sockwasm.SetTimer(time.Duration(ms)*time.Millisecond, repeat, []byte(str(e.Arg(2))))
		ackResult(e, sockwasm.AppendInt(nil, int64(id)), err)
	})
	sockwasm.OnEvent("cancel", func(s *sockwasm.Socket, e *sockwasm.Event) {
		id, _ := e.Arg(0).AsInt()
		ackResult(e, []byte("ok"), sockwasm.CancelTimer(sockwasm.TimerID(id)))
	})
	// A timer counts its calls in fired:<ctx> and records the version that
	// ran it in ver:<ctx>; socket functions are not allowed there.
	sockwasm.OnTimer(func(id sockwasm.TimerID, ctx []byte) {
		c := string(ctx)
		sockwasm.KV.Incr("fired:"+c, 1)
		sockwasm.KV.Set("ver:"+c, []byte(version), 0)
		var s sockwasm.Socket
		if err := s.Join("x"); err != nil {
			sockwasm.KV.Set("join:"+c, []byte(err.Error()), 0)
		}
		sockwasm.Log(sockwasm.LevelInfo, "timer "+c)
	})
}

// main is not run in c-shared mode; handlers are registered by init.
func main() {}
