// Command nsbcast is a test guest of ns_broadcast (sockwasm.Of): timers,
// which have no socket, broadcast to a namespace named in their context.
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

func init() {
	// INIT reports what ns_broadcast into the namespaces "/" and "/chat"
	// returns, in the log: at start as on a reload, the namespaces of the
	// configuration being loaded exist and are the plugin's.
	sockwasm.OnInit(func([]byte) error {
		res := "[" + strconv.Itoa(code(sockwasm.Of("/").Emit("init", []byte(`[]`)))) + "," +
			strconv.Itoa(code(sockwasm.Of("/chat").Emit("init", []byte(`[]`)))) + "]"
		sockwasm.Log(sockwasm.LevelInfo, "nsbcast init "+res)
		return nil
	})
	// The middleware may not emit: its ns_broadcast result becomes the
	// socket's data.
	sockwasm.OnConnect(func(s *sockwasm.Socket) *sockwasm.ConnectError {
		err := sockwasm.Of("/").Emit("never", []byte(`[]`))
		s.SetData([]byte(strconv.Itoa(code(err))))
		return nil
	})
	sockwasm.OnEvent("join", func(s *sockwasm.Socket, e *sockwasm.Event) {
		room, _ := e.Arg(0).AsString()
		s.Join(room)
		e.Ack([]byte(`[0]`))
	})
	// go [nsp, room, ms] starts a one-shot timer with ctx "nsp room".
	sockwasm.OnEvent("go", func(s *sockwasm.Socket, e *sockwasm.Event) {
		nsp, _ := e.Arg(0).AsString()
		room, _ := e.Arg(1).AsString()
		ms, _ := e.Arg(2).AsInt()
		_, err := sockwasm.SetTimer(time.Duration(ms)*time.Millisecond, false, []byte(nsp+" "+room))
		e.Ack([]byte("[" + strconv.Itoa(code(err)) + "]"))
	})
	// A timer sends "tick" to the room of its namespace, tries a namespace
	// that does not exist, and reports both results to the whole "/"
	// namespace; it logs them too (for a host without namespaces).
	sockwasm.OnTimer(func(id sockwasm.TimerID, ctx []byte) {
		nsp, room, _ := strings.Cut(string(ctx), " ")
		sent := code(sockwasm.Of(nsp).To(room).Emit("tick", []byte(`["from timer",{"_placeholder":true,"num":0}]`), sockwasm.Bytes([]byte{1, 2, 3})))
		missing := code(sockwasm.Of("/nope").Emit("tick", []byte(`[]`)))
		res := "[" + strconv.Itoa(sent) + "," + strconv.Itoa(missing) + "]"
		sockwasm.Log(sockwasm.LevelInfo, "nsbcast "+res)
		sockwasm.Of("/").Except(room).Emit("result", []byte(res))
	})
}

// main is not run in c-shared mode; handlers are registered by init.
func main() {}
