//go:build wasip1

package main

import sockwasm "github.com/sockwasm/sockwasm/sdk/go"

func init() {
	sockwasm.OnEngineMessage(func(c *sockwasm.Conn, data []byte, binary bool) {
		c.Send(data, binary)
	})
}

// main is not run in c-shared mode; handlers are registered by init.
func main() {}
