//go:build wasip1

// Command slowinit is a guest whose instances take long to create (its
// init, run by _initialize, spins for the time given at build time) and
// whose handler traps, so that every call needs a fresh instance.
package main

import (
	"strconv"
	"time"

	sockwasm "github.com/sockwasm/sockwasm/sdk/go"
)

// spinMs is set with -ldflags "-X main.spinMs=N".
var spinMs = "300"

func init() {
	ms, _ := strconv.Atoi(spinMs)
	for start := time.Now(); time.Since(start) < time.Duration(ms)*time.Millisecond; {
	}
	sockwasm.OnEvent("trap", func(s *sockwasm.Socket, e *sockwasm.Event) {
		panic("trap")
	})
}

// main is not run in c-shared mode; handlers are registered by init.
func main() {}
