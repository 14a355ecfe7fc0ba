package main

import (
	"bytes"
	"os"
	"os/exec"
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

func TestPluginsListsHashExportsImportsGrants(t *testing.T) {
	// A plugin built here, so that the test does not depend on `make
	// plugins` (which `make test` runs after the unit tests): the C
	// example, which clang builds in milliseconds.
	clang, err := exec.LookPath("clang")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("clang is needed (apt-get install clang lld)")
		}
		t.Skip("clang not installed")
	}
	name := "echo-c"
	dir := t.TempDir()
	plugins := filepath.Join(dir, "plugins")
	if err := os.Mkdir(plugins, 0o755); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(clang, "--target=wasm32", "-nostdlib", "-Wl,--no-entry", "-O2", "-I", "../../sdk/c",
		"-o", filepath.Join(plugins, name+".wasm"), "../../examples/echo-c/echo.c")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("clang: %v\n%s", err, out)
	}
	file := filepath.Join(dir, "server.toml")
	toml := "plugins_dir = \"plugins\"\ncache_dir = \"off\"\n[plugin." + name + "]\ngrants = [\"kv\"]\n"
	if err := os.WriteFile(file, []byte(toml), 0o644); err != nil {
		t.Fatal(err)
	}
	code, stdout, stderr := runCmd(t, "plugins", "--config", file)
	if code != 0 {
		t.Fatalf("code %d, stderr %q", code, stderr)
	}
	for _, want := range []string{name + "\n", "hash ", "sockwasm_abi_v1", "sockwasm_v1.", "granted       kv\n"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("output does not contain %q:\n%s", want, stdout)
		}
	}
}

// check --against prints what a reload from a running configuration to
// the checked one would change, or that it would change nothing.
func TestCheckAgainst(t *testing.T) {
	dir := t.TempDir()
	if err := os.Mkdir(filepath.Join(dir, "plugins"), 0o755); err != nil {
		t.Fatal(err)
	}
	write := func(name, doc string) string {
		t.Helper()
		f := filepath.Join(dir, name)
		if err := os.WriteFile(f, []byte("plugins_dir = \"plugins\"\ncache_dir = \"off\"\n"+doc), 0o644); err != nil {
			t.Fatal(err)
		}
		return f
	}
	old := write("old.toml", "[plugin.x]\ngrants = [\"kv\"]\n")
	next := write("server.toml", "listen = \"127.0.0.1:4001\"\n[log]\nformat = \"json\"\n[plugin.x]\ngrants = [\"kv\", \"timers\"]\n")
	code, stdout, stderr := runCmd(t, "check", "--config", next, "--against", old)
	if code != 0 {
		t.Fatalf("code %d, stderr %q", code, stderr)
	}
	for _, want := range []string{
		"against " + old + ", a reload would change:",
		"  plugins rebuilt with new settings: x\n",
		"  [log] changes (applied live)\n",
		"  needs a restart (a reload is refused): listen\n",
	} {
		if !strings.Contains(stdout, want) {
			t.Errorf("stdout %q lacks %q", stdout, want)
		}
	}
	if code, stdout, _ := runCmd(t, "check", "--config", old, "--against", old); code != 0 || !strings.Contains(stdout, "a reload would change nothing") {
		t.Errorf("same file: code %d, stdout %q", code, stdout)
	}
	bad := write("bad.toml", "[engine]\nping = 1\n")
	if code, _, stderr := runCmd(t, "check", "--config", old, "--against", bad); code != 1 || !strings.Contains(stderr, bad+":4: engine.ping: unknown key") {
		t.Errorf("invalid --against: code %d, stderr %q", code, stderr)
	}
}

// status needs the configuration's [metrics] listener, and says so when
// nothing answers there.
func TestStatusWithoutServer(t *testing.T) {
	dir := t.TempDir()
	write := func(name, doc string) string {
		t.Helper()
		f := filepath.Join(dir, name)
		if err := os.WriteFile(f, []byte("plugins_dir = \".\"\n"+doc), 0o644); err != nil {
			t.Fatal(err)
		}
		return f
	}
	if code, _, stderr := runCmd(t, "status", "--config", write("a.toml", "")); code != 1 || !strings.Contains(stderr, "has no [metrics] listen") {
		t.Errorf("no listener: code %d, %q", code, stderr)
	}
	if code, _, stderr := runCmd(t, "status", "--config", write("b.toml", "[metrics]\nlisten = \"127.0.0.1:1\"\n")); code != 1 || !strings.Contains(stderr, "no server answers on 127.0.0.1:1") {
		t.Errorf("nobody there: code %d, %q", code, stderr)
	}
}
