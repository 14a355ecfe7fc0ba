//go:build wasip1

// Command sse is the server-side events guest of the cluster tests: it
// reports every server-side event it receives to the sockets in room
// "watchers" (and answers "sockwasm-ack" when asked), asks the other
// nodes on request, and reports their answers the same way.
package main

import (
	"strconv"
	"strings"
	"time"

	sockwasm "github.com/sockwasm/sockwasm/sdk/go"
)

func code(err error) string {
	if e, ok := err.(sockwasm.Error); ok {
		return strconv.Itoa(int(e))
	}
	return "0"
}

func init() {
	sockwasm.OnEvent("watch", func(s *sockwasm.Socket, e *sockwasm.Event) {
		s.Join("watchers")
		e.Ack([]byte(`["ok"]`))
	})
	// ask [event, args, timeout ms, ctx]: a server-side emit, with answers
	// when the timeout is not 0.
	sockwasm.OnEvent("ask", func(s *sockwasm.Socket, e *sockwasm.Event) {
		name, _ := e.Arg(0).AsString()
		ms, _ := e.Arg(2).AsInt()
		ctx, _ := e.Arg(3).AsString()
		var err error
		if ms == 0 {
			err = sockwasm.Of(s.Namespace()).ServerSideEmit(name, e.Arg(1).Raw())
		} else {
			err = sockwasm.Of(s.Namespace()).ServerSideEmitWithAck(name, e.Arg(1).Raw(), time.Duration(ms)*time.Millisecond, []byte(ctx))
		}
		e.Ack([]byte("[" + code(err) + "]"))
	})
	sockwasm.OnServerEvent(func(e *sockwasm.ServerEvent) {
		msg := append(sockwasm.AppendString([]byte("["), e.Name), ',')
		msg = append(append(msg, e.Args().Raw()...), ']')
		sockwasm.Of(e.Namespace).To("watchers").Emit("server-event", msg)
		if e.HasAck() {
			e.Ack([]byte(`["sockwasm-ack"]`))
		}
	})
	// The answers go to the watchers; a context "loop:N" asks again at
	// once, so that a node alone makes a chain of answers.
	sockwasm.OnServerAck(func(r *sockwasm.ServerAckResponse) {
		ctx := string(r.Context)
		msg := append([]byte("["), r.Answers.Raw()...)
		msg = append(append(msg, ","+strconv.FormatBool(r.TimedOut)+","...), sockwasm.AppendString(nil, ctx)...)
		sockwasm.Of(r.Namespace).To("watchers").Emit("answers", append(msg, ']'))
		if n, ok := strings.CutPrefix(ctx, "loop:"); ok {
			i, _ := strconv.Atoi(n)
			err := sockwasm.Of(r.Namespace).ServerSideEmitWithAck("again", []byte(`[]`), time.Second, []byte("loop:"+strconv.Itoa(i+1)))
			if err != nil {
				sockwasm.Of(r.Namespace).To("watchers").Emit("loop-refused", []byte("["+code(err)+"]"))
			}
		}
	})
}

// main is not run in c-shared mode; handlers are registered by init.
func main() {}
