package main

import (
	"bufio"
	"bytes"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// syncBuffer collects a process's output for concurrent reads.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// waitLog waits until the output holds every part, or fails.
func waitLog(t *testing.T, out *syncBuffer, parts ...string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		s := out.String()
		sc := bufio.NewScanner(strings.NewReader(s))
		for sc.Scan() {
			ok := true
			for _, p := range parts {
				ok = ok && strings.Contains(sc.Text(), p)
			}
			if ok {
				return
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("no log line with %q in:\n%s", parts, out.String())
}

// connectReply opens a polling session, asks to join nsp and returns the
// server's answer to that CONNECT.
func connectReply(t *testing.T, base, nsp string) string {
	t.Helper()
	read := func(resp *http.Response, err error) string {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return string(b)
	}
	open := read(http.Get(base + "/socket.io/?EIO=4&transport=polling"))
	i := strings.Index(open, `"sid":"`)
	if i < 0 {
		t.Fatalf("handshake %q", open)
	}
	sid := open[i+7:]
	sid = sid[:strings.IndexByte(sid, '"')]
	u := base + "/socket.io/?EIO=4&transport=polling&sid=" + sid
	if got := read(http.Post(u, "text/plain", strings.NewReader("40"+nsp+","))); got != "ok" {
		t.Fatalf("CONNECT POST: %q", got)
	}
	return read(http.Get(u))
}

// SIGHUP makes a running sockwasm read its configuration again: a
// namespace added to the file (with watching off) is served afterwards,
// and the [log] level and format change live.
func TestSIGHUPReloadsConfig(t *testing.T) {
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
	mln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	metrics := mln.Addr().String()
	mln.Close()
	cfgFile := filepath.Join(dir, "server.toml")
	base := "watch = false\ncache_dir = \"off\"\n[metrics]\nlisten = \"" + metrics + "\"\n[log]\nformat = \"json\"\n[[namespace]]\nname = \"/\"\nhandler = \"conformance\"\n"
	if err := os.WriteFile(cfgFile, []byte(base), 0o644); err != nil {
		t.Fatal(err)
	}
	var out syncBuffer
	cmd := exec.Command(bin, "serve", "--config", cfgFile, "--listen", addr)
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		_ = cmd.Wait()
	})
	waitLog(t, &out, `"message":"serving"`)
	url := "http://" + addr

	// The operator's listener, and `sockwasm status` through it.
	if resp, err := http.Get("http://" + metrics + "/readyz"); err != nil || resp.StatusCode != 200 {
		t.Fatalf("/readyz: %v, %v", resp, err)
	}
	code, stdout, stderr := runCmd(t, "status", "--config", cfgFile)
	if code != 0 || !strings.Contains(stdout, cfgFile+": ready (adapter memory), 0 sessions") ||
		!strings.Contains(stdout, "conformance") || !strings.Contains(stdout, "/ ") {
		t.Fatalf("status: code %d\n%s%s", code, stdout, stderr)
	}
	if got := connectReply(t, url, "/late"); got != `44/late,{"message":"Invalid namespace"}` {
		t.Fatalf("before SIGHUP: %q", got)
	}

	if strings.Contains(out.String(), `"level":"debug"`) {
		t.Fatal("debug lines at level info")
	}
	// The reload adds a namespace and turns [log] to debug, in console
	// format: both apply live.
	added := strings.Replace(base, "format = \"json\"\n", "format = \"console\"\nlevel = \"debug\"\n", 1) +
		"[[namespace]]\nname = \"/late\"\nhandler = \"conformance\"\n"
	if err := os.WriteFile(cfgFile, []byte(added), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	waitLog(t, &out, "SIGHUP")
	waitLog(t, &out, "INF", "log settings changed", "log_level=debug")
	waitLog(t, &out, "INF", "configuration reloaded")
	if got := connectReply(t, url, "/late"); !strings.HasPrefix(got, `40/late,{"sid":"`) {
		t.Fatalf("after SIGHUP: %q\nlog:\n%s", got, out.String())
	}
	waitLog(t, &out, "DBG", "session opened")
}
