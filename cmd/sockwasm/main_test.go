package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func runCmd(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := run(args, &out, &errb)
	return code, out.String(), errb.String()
}

func TestUsage(t *testing.T) {
	if code, _, stderr := runCmd(t); code != 2 || !strings.Contains(stderr, "usage: sockwasm") {
		t.Errorf("no args: code %d, stderr %q", code, stderr)
	}
	if code, _, stderr := runCmd(t, "frobnicate"); code != 2 || !strings.Contains(stderr, `unknown command "frobnicate"`) {
		t.Errorf("unknown command: code %d, stderr %q", code, stderr)
	}
	if code, stdout, _ := runCmd(t, "version"); code != 0 || !strings.HasPrefix(stdout, "sockwasm ") {
		t.Errorf("version: code %d, stdout %q", code, stdout)
	}
}

func TestCheckRejectsInvalidConfig(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "server.toml")
	if err := os.WriteFile(file, []byte("listen = \"127.0.0.1:3000\"\n[engine]\nping_intervall = \"1s\"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	code, _, stderr := runCmd(t, "check", "--config", file)
	if code != 1 {
		t.Fatalf("code = %d, want 1", code)
	}
	if want := file + ":3: engine.ping_intervall: unknown key"; !strings.Contains(stderr, want) {
		t.Errorf("stderr %q does not name %q", stderr, want)
	}
}

func TestCheckRejectsMissingPluginsDir(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "server.toml")
	if err := os.WriteFile(file, []byte("plugins_dir = \"nowhere\"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	code, _, stderr := runCmd(t, "check", "--config", file)
	if code != 1 || !strings.Contains(stderr, file) || !strings.Contains(stderr, "nowhere") {
		t.Errorf("code %d, stderr %q", code, stderr)
	}
}

func TestServeRejectsBadListen(t *testing.T) {
	code, _, stderr := runCmd(t, "serve", "--config", "../../server.toml", "--listen", "nohost")
	if code != 2 || !strings.Contains(stderr, "--listen") {
		t.Errorf("code %d, stderr %q", code, stderr)
	}
}
