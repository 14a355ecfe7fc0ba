// Command sockwasm-bench benchmarks Socket.IO v4 servers side by side:
// sockwasm with plugins built from the Go SDK, the AssemblyScript SDK and
// C, the Node.js socket.io 4.8 reference, and a transport-only server.
//
//	sockwasm-bench load  the load generator (any Socket.IO v4 server)
//	sockwasm-bench bare  the transport-only server (coder/websocket, WebSocket only)
//	sockwasm-bench run   the runner: fresh servers, rounds, pinning, tables
//
// See README.md next to this file, and `sockwasm-bench CMD -help`.
package main

import (
	"fmt"
	"io"
	"os"
)

const usage = `usage: sockwasm-bench COMMAND [flags]

Side-by-side benchmark of Socket.IO v4 servers (make bench runs it).

Commands:
  load   generate load against any Socket.IO v4 server and verify every
         answer: connect, echo (WebSocket or long-polling), binary, broadcast;
         prints one JSON line
  bare   the transport-only reference server (coder/websocket + minimal
         Engine.IO/Socket.IO framing, WebSocket only)
  run    start each server fresh per measurement (sockwasm with the Go,
         AssemblyScript and C chat plugins, Node.js socket.io, bare), run
         every scenario in alternating rounds, pinned and unpinned, sample
         server CPU and RSS from /proc, print tables with ratios

"sockwasm-bench COMMAND -help" describes each command's flags.
`

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 1
	}
	switch args[0] {
	case "load":
		return loadMain(args[1:], stdout, stderr)
	case "bare":
		return bareMain(args[1:], stdout, stderr)
	case "run":
		return runMain(args[1:], stdout, stderr)
	case "help", "-h", "-help", "--help":
		fmt.Fprint(stdout, usage)
		return 0
	}
	fmt.Fprintf(stderr, "sockwasm-bench: unknown command %q\n\n%s", args[0], usage)
	return 1
}
