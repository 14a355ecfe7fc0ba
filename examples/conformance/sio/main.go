//go:build wasip1

package main

import sockwasm "github.com/sockwasm/sockwasm/sdk/go"

func init() {
	sockwasm.OnConnection(func(s *sockwasm.Socket) {
		auth := s.Auth().Raw()
		args := make([]byte, 0, len(auth)+2)
		args = append(append(append(args, '['), auth...), ']')
		s.Emit("auth", args)
	})
	sockwasm.OnEvent("message", func(s *sockwasm.Socket, e *sockwasm.Event) {
		if s.Namespace() == "/" {
			s.Emit("message-back", e.Args(), e.Attachments()...)
		}
	})
	sockwasm.OnEvent("message-with-ack", func(s *sockwasm.Socket, e *sockwasm.Event) {
		if s.Namespace() == "/" && e.HasAck() {
			e.Ack(e.Args(), e.Attachments()...)
		}
	})
}

// main is not run in c-shared mode; handlers are registered by init.
func main() {}
