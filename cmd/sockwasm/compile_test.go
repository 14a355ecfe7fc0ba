package main

import (
	"bufio"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// bombModule is a module of a few kilobytes whose one function nests
// depth loops (or, with seq, runs them one after the other) and reads its
// locals locals inside them: compiling it takes memory (nested: about 2 GB
// for 30 000 × 1000) or time (sequential: about 18 s for 30 000 × 1000)
// that grow with depth × locals, and wazero cannot stop inside a function.
func bombModule(depth, locals int, seq bool) []byte {
	leb := func(n int) []byte {
		var b []byte
		for {
			c := byte(n & 0x7f)
			n >>= 7
			if n != 0 {
				b = append(b, c|0x80)
				continue
			}
			return append(b, c)
		}
	}
	section := func(id byte, body []byte) []byte { return append(append([]byte{id}, leb(len(body))...), body...) }
	var body []byte
	body = append(body, 1)
	body = append(body, leb(locals)...)
	body = append(body, 0x7f)
	if seq {
		for i := range depth { // loop; local.get i; drop; end
			body = append(append(append(append(body, 0x03, 0x40, 0x20), leb(i%locals)...), 0x1a), 0x0b)
		}
	} else {
		for range depth {
			body = append(body, 0x03, 0x40) // loop
		}
		for i := range locals {
			body = append(append(append(body, 0x20), leb(i)...), 0x1a) // local.get i; drop
		}
		for range depth {
			body = append(body, 0x0b)
		}
	}
	body = append(body, 0x0b)
	out := []byte{0, 'a', 's', 'm', 1, 0, 0, 0}
	out = append(out, section(1, []byte{1, 0x60, 0, 0})...)
	out = append(out, section(3, []byte{1, 0})...)
	return append(out, section(10, append(append([]byte{1}, leb(len(body))...), body...))...)
}

// rssKiB reads a process's resident set from /proc.
func rssKiB(t *testing.T, pid int) int {
	t.Helper()
	f, err := os.Open("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "VmRSS:"); ok {
			n, _ := strconv.Atoi(strings.TrimSuffix(strings.TrimSpace(rest), " kB"))
			return n
		}
	}
	return -1
}

// A running server compiles a dropped-in module in a process of its own:
// a module that would need gigabytes and many seconds to compile is
// refused at the compile memory cap or deadline, with the file and the
// limit named, while the server keeps serving in its own small memory.
func TestCompileIsolatedFromTheServer(t *testing.T) {
	dir := t.TempDir()
	plugins := filepath.Join(dir, "plugins")
	if err := os.Mkdir(plugins, 0o755); err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(dir, "sockwasm")
	goTool(t, ".", nil, "build", "-o", bin, ".")
	goTool(t, "../..", []string{"GOOS=wasip1", "GOARCH=wasm"}, "build", "-buildmode=c-shared",
		"-o", filepath.Join(plugins, "conformance.wasm"), "./examples/conformance/sio")
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	cfgFile := filepath.Join(dir, "server.toml")
	cfg := "cache_dir = \"off\"\n[plugins]\ncompile_timeout = \"3s\"\nmax_compile_memory = 2147483648\n[log]\nformat = \"json\"\n" +
		"[[namespace]]\nname = \"/\"\nhandler = \"conformance\"\n"
	if err := os.WriteFile(cfgFile, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	var out syncBuffer
	cmd := exec.Command(bin, "serve", "--config", cfgFile, "--listen", addr)
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill() })
	waitLog(t, &out, `"message":"serving"`)
	before := rssKiB(t, cmd.Process.Pid)

	// Dropped in as a deploy would: written aside, renamed into place.
	tmp := filepath.Join(dir, "bomb.wasm")
	if err := os.WriteFile(tmp, bombModule(30000, 1000, false), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, filepath.Join(plugins, "bomb.wasm")); err != nil {
		t.Fatal(err)
	}
	waitLog(t, &out, `"message":"plugin reload refused"`, "bomb.wasm", "compiling the module failed")
	if !strings.Contains(out.String(), "max_compile_memory") && !strings.Contains(out.String(), "compile_timeout") {
		t.Fatalf("the refusal names no limit:\n%s", out.String())
	}
	after := rssKiB(t, cmd.Process.Pid)
	t.Logf("server RSS %d KiB before the module, %d KiB after", before, after)
	if after > before+100<<10 {
		t.Fatalf("the server's RSS grew from %d to %d KiB while the module was compiled", before, after)
	}
	if got := connectReply(t, "http://"+addr, "/"); !strings.HasPrefix(got, `40{"sid":"`) {
		t.Fatalf("after the refusal: %q", got)
	}

	// SIGTERM while a module compiles: the compiler process is killed,
	// the server stops within its shutdown timeout (the compile alone
	// would take about 18 s).
	if err := os.WriteFile(tmp, bombModule(30000, 1000, true), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, filepath.Join(plugins, "slow.wasm")); err != nil {
		t.Fatal(err)
	}
	time.Sleep(500 * time.Millisecond) // the watcher's debounce, then the compile starts
	start := time.Now()
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		t.Logf("stopped %v after SIGTERM, during a compile", time.Since(start))
		if err != nil {
			t.Fatalf("exit: %v\n%s", err, out.String())
		}
	case <-time.After(12 * time.Second):
		t.Fatalf("SIGTERM during a compile: still running after 12 s (shutdown_timeout 10 s)")
	}
}

// TestMain lets this test binary stand in for sockwasm as the compiler
// process: tests that run the commands in process (runCmd) compile their
// plugins by starting it, as the real binary starts itself.
func TestMain(m *testing.M) {
	if len(os.Args) > 1 && os.Args[1] == compileCommand {
		os.Exit(compileModule(os.Args[2:], os.Stderr))
	}
	os.Exit(m.Run())
}
