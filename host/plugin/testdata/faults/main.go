//go:build wasip1

// Command faults is a test guest whose events misbehave on purpose.
package main

import (
	"os"

	sockwasm "github.com/sockwasm/sockwasm/sdk/go"
)

var sink []byte

func init() {
	sockwasm.OnConnect(func(s *sockwasm.Socket) *sockwasm.ConnectError {
		if s.Namespace() == "/panic" {
			panic("middleware panic")
		}
		return nil
	})
	sockwasm.OnEvent("ok", func(s *sockwasm.Socket, e *sockwasm.Event) { e.Ack(e.Args()) })
	sockwasm.OnEvent("loop", func(s *sockwasm.Socket, e *sockwasm.Event) {
		for {
		}
	})
	sockwasm.OnEvent("panic", func(s *sockwasm.Socket, e *sockwasm.Event) { panic("boom") })
	sockwasm.OnEvent("nil", func(s *sockwasm.Socket, e *sockwasm.Event) {
		var p *struct{ x int }
		p.x = 1
	})
	sockwasm.OnEvent("oom", func(s *sockwasm.Socket, e *sockwasm.Event) {
		for {
			sink = append(sink, make([]byte, 16<<20)...)
		}
	})
	sockwasm.OnEvent("ack-then-panic", func(s *sockwasm.Socket, e *sockwasm.Event) {
		e.Ack([]byte(`["done"]`))
		panic("after ack")
	})
	sockwasm.OnEvent("print", func(s *sockwasm.Socket, e *sockwasm.Event) {
		os.Stdout.WriteString("hello from guest\n")
		sockwasm.Log(sockwasm.LevelWarn, "logged")
	})
}

// main is not run in c-shared mode; handlers are registered by init.
func main() {}
