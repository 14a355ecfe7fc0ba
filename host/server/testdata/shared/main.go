//go:build wasip1

// Command shared is the test guest of the plugin state a cluster shares
// (the key-value store and the timers in Redis). As the handler of its
// namespace it exposes the store and the timers to clients; its TIMER
// calls count their firings in the store and tell every socket of the
// namespace, on every node.
//
// Config: fail (INIT writes a key and sets a timer,
// then refuses); ticker_ms (the INIT idiom of sdk/ABI.md: one repeating
// timer "tick" per cluster, however many nodes load the plugin).
package main

import (
	"errors"
	"time"

	sockwasm "github.com/sockwasm/sockwasm/sdk/go"
)

// code is the ABI result of err: 0, or a negative error code.
func code(err error) int64 {
	var e sockwasm.Error
	if errors.As(err, &e) {
		return int64(e)
	}
	return 0
}

func str(v sockwasm.Value) string {
	s, _ := v.AsString()
	return s
}

func num(v sockwasm.Value) int64 {
	n, _ := v.AsInt()
	return n
}

// ack answers e with one integer.
func ack(e *sockwasm.Event, n int64) {
	e.Ack(append(sockwasm.AppendInt([]byte(`[`), n), ']'))
}

func init() {
	sockwasm.OnInit(func(cfg []byte) error {
		c := sockwasm.Value(cfg)
		if fail, _ := c.Get("fail").AsBool(); fail {
			sockwasm.KV.Set("refused", []byte("1"), 0)
			sockwasm.SetTimer(time.Millisecond, false, []byte("refused"))
			return errors.New("config says fail")
		}
		// One repeating timer per cluster: INIT runs on every node, at
		// every load; a one-shot "boot" timer per INIT, whose TIMER call
		// (atomic in the shared store, unlike INIT's staged writes) starts
		// the ticker only if no one has.
		if ms := num(c.Get("ticker_ms")); ms > 0 {
			sockwasm.SetTimer(time.Millisecond, false, []byte("boot"))
		}
		return nil
	})
	sockwasm.OnEvent("kv:set", func(s *sockwasm.Socket, e *sockwasm.Event) {
		ack(e, code(sockwasm.KV.Set(str(e.Arg(0)), []byte(str(e.Arg(1))), time.Duration(num(e.Arg(2)))*time.Millisecond)))
	})
	sockwasm.OnEvent("kv:get", func(s *sockwasm.Socket, e *sockwasm.Event) {
		v, err := sockwasm.KV.Get(str(e.Arg(0)))
		if err != nil {
			ack(e, code(err))
			return
		}
		e.Ack(append(sockwasm.AppendString([]byte(`[`), string(v)), ']'))
	})
	sockwasm.OnEvent("kv:incr", func(s *sockwasm.Socket, e *sockwasm.Event) {
		n, err := sockwasm.KV.Incr(str(e.Arg(0)), num(e.Arg(1)))
		if err != nil {
			n = code(err)
		}
		ack(e, n)
	})
	// timer [ms, repeat, ctx] acks the id (or the error code).
	sockwasm.OnEvent("timer", func(s *sockwasm.Socket, e *sockwasm.Event) {
		repeat, _ := e.Arg(1).AsBool()
		id, err := sockwasm.SetTimer(time.Duration(num(e.Arg(0)))*time.Millisecond, repeat, []byte(str(e.Arg(2))))
		if err != nil {
			ack(e, code(err))
			return
		}
		ack(e, int64(id))
	})
	sockwasm.OnEvent("cancel", func(s *sockwasm.Socket, e *sockwasm.Event) {
		ack(e, code(sockwasm.CancelTimer(sockwasm.TimerID(num(e.Arg(0))))))
	})
	sockwasm.OnTimer(func(id sockwasm.TimerID, ctx []byte) {
		c := string(ctx)
		if c == "boot" {
			every := time.Duration(num(sockwasm.Config().Get("ticker_ms"))) * time.Millisecond
			if ok, err := sockwasm.KV.CompareAndSwap("ticker", nil, []byte("starting")); err == nil && ok {
				if _, err := sockwasm.SetTimer(every, true, []byte("tick")); err != nil {
					sockwasm.KV.Delete("ticker") // the next boot tries again
				}
			}
			return
		}
		n, _ := sockwasm.KV.Incr("fired:"+c, 1)
		args := sockwasm.AppendString([]byte(`[`), c)
		args = append(sockwasm.AppendInt(append(args, ','), n), ']')
		// To the whole namespace, on every node.
		sockwasm.Of("/s").Emit("fired", args)
	})
}

// main is not run in c-shared mode; handlers are registered by init.
func main() {}
