package main

import (
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/sockwasm/sockwasm/host/plugin"
	"github.com/sockwasm/sockwasm/host/server"
)

// compileCommand is the hidden command the server runs to compile a
// plugin in a process of its own (plugin.ProcessCompiler): capped in
// memory, killed at the compile deadline, so that no module can make the
// server itself run out of memory or time while compiling.
const compileCommand = "__compile-module"

// compiler returns the server option that compiles plugins with this
// binary's compile command; none when the binary cannot find itself.
func compiler() server.Option {
	exe, err := os.Executable()
	if err != nil {
		return server.WithCompiler(nil) // compile in process
	}
	return server.WithCompiler(plugin.ProcessCompiler(exe, compileCommand))
}

// compileModule is the compile command: a module on stdin, compiled into
// the cache folder --cache under the address-space cap --memory.
func compileModule(args []string, stderr io.Writer) int {
	fs := flag.NewFlagSet(compileCommand, flag.ContinueOnError)
	fs.SetOutput(stderr)
	dir := fs.String("cache", "", "compilation cache folder")
	memory := fs.Int64("memory", 0, "address-space cap, bytes")
	if err := fs.Parse(args); err != nil || *dir == "" {
		return 2
	}
	if err := plugin.CompileChild(os.Stdin, *dir, *memory); err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}
	return 0
}
