//go:build wasip1

// Command hot is the test plugin of the hot-reload tests: it acks "echo"
// with ["VERSION",ARGS], VERSION set at build time with
// -ldflags "-X main.version=…", so a test tells two builds apart.
package main

import sockwasm "github.com/sockwasm/sockwasm/sdk/go"

// version is set at build time.
var version = "dev"

func init() {
	sockwasm.OnEvent("echo", func(s *sockwasm.Socket, e *sockwasm.Event) {
		if !e.HasAck() {
			return
		}
		args := e.Args()
		reply := make([]byte, 0, len(version)+len(args)+8)
		reply = append(reply, `["`...)
		reply = append(reply, version...)
		reply = append(reply, `",`...)
		reply = append(reply, args...)
		reply = append(reply, ']')
		e.Ack(reply)
	})
}

// main is not run in c-shared mode; handlers are registered by init.
func main() {}
