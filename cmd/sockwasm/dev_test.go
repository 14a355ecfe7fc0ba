package main

import (
	"context"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/sockwasm/sockwasm/host/sioclient"
)

// sockwasm dev in a folder sockwasm new made (C, for a quick build):
// it builds the plugin and serves it; an edit is rebuilt and answers the
// next call; a build error prints the compiler's message and the running
// version keeps answering.
func TestDevRebuildsAndReloads(t *testing.T) {
	if _, err := exec.LookPath("clang"); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("clang is needed (apt-get install clang lld)")
		}
		t.Skip("clang not installed")
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "sockwasm")
	goTool(t, ".", nil, "build", "-o", bin, ".")
	if code, _, stderr := runCmd(t, "new", "live", "--lang", "c", "--dir", dir); code != 0 {
		t.Fatalf("new: %d %s", code, stderr)
	}
	target := filepath.Join(dir, "live")
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	var out syncBuffer
	cmd := exec.Command(bin, "dev", "--listen", addr)
	cmd.Dir = target
	cmd.Env = append(os.Environ(), "XDG_CACHE_HOME="+filepath.Join(dir, "cache"))
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		_ = cmd.Wait()
	})
	waitLog(t, &out, "serving")
	greet := func() string {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		c, err := sioclient.Dial(ctx, "http://"+addr, "/socket.io/", "/live", "")
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		m, err := c.EmitWithAck(ctx, "greet", `[{"name":"Ada"}]`)
		if err != nil {
			t.Fatal(err)
		}
		return m.Args
	}
	if got := greet(); got != `["hello, Ada"]` {
		t.Fatalf("first build answers %s", got)
	}
	src := filepath.Join(target, "plugin.c")
	b, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	edited := strings.Replace(string(b), `put(&n, "[\"hello, ", 9);`, `put(&n, "[\"hi, ", 6);`, 1)
	if edited == string(b) {
		t.Fatal("the scaffold's greeting changed: update this test")
	}
	if err := os.WriteFile(src, []byte(edited), 0o644); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for greet() != `["hi, Ada"]` {
		if time.Now().After(deadline) {
			t.Fatalf("the edit was not served:\n%s", out.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	if err := os.WriteFile(src, []byte(edited+"\nint broken = ;\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	waitLog(t, &out, "build failed; the running version keeps serving")
	waitLog(t, &out, "plugin.c:", "error:")
	if got := greet(); got != `["hi, Ada"]` {
		t.Fatalf("after a failed build: %s", got)
	}
}
