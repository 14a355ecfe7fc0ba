package plugin

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// missingTool skips the test, or fails it under CI=true (CI installs the
// toolchains).
func missingTool(t *testing.T) func(string, ...any) {
	if os.Getenv("CI") == "true" {
		return t.Fatalf
	}
	return t.Skipf
}

// examples/echo-c, built with clang against sdk/c/sockwasm.h.
func TestCExample(t *testing.T) {
	t.Parallel()
	missing := missingTool(t)
	clang, err := exec.LookPath("clang")
	if err != nil {
		missing("clang not installed (apt-get install clang lld)")
	}
	out := filepath.Join(t.TempDir(), "echo-c.wasm")
	cmd := exec.Command(clang, "--target=wasm32", "-nostdlib", "-Wl,--no-entry", "-O2", "-Wall", "-Wextra", "-Werror",
		"-I", "../../sdk/c", "-o", out, "../../examples/echo-c/echo.c")
	if b, err := cmd.CombinedOutput(); err != nil {
		missing("clang cannot build wasm32 here (apt-get install lld): %v\n%s", err, b)
	}
	echoExampleScenario(t, out)
}

// rustcWasm returns a rustc that can build for wasm32-wasi: $SOCKWASM_RUSTC,
// else the first of the rustc on PATH and Debian's /usr/bin/rustc whose
// sysroot has the wasm32-wasi standard library (rustup's may not).
func rustcWasm() (string, error) {
	cands := []string{os.Getenv("SOCKWASM_RUSTC")}
	if p, err := exec.LookPath("rustc"); err == nil {
		cands = append(cands, p)
	}
	cands = append(cands, "/usr/bin/rustc")
	for _, c := range cands {
		if c == "" {
			continue
		}
		root, err := exec.Command(c, "--print", "sysroot").Output()
		if err != nil {
			continue
		}
		if _, err := os.Stat(filepath.Join(strings.TrimSpace(string(root)), "lib", "rustlib", "wasm32-wasi")); err == nil {
			return c, nil
		}
	}
	return "", os.ErrNotExist
}

// examples/echo-rust, built with rustc against sdk/rust/sockwasm.rs: the
// same behaviour as echo-c.
func TestRustExample(t *testing.T) {
	t.Parallel()
	rustc, err := rustcWasm()
	if err != nil {
		missingTool(t)("no rustc with the wasm32-wasi standard library (apt-get install rustc libstd-rust-dev-wasm32)")
	}
	out := filepath.Join(t.TempDir(), "echo-rust.wasm")
	cmd := exec.Command(rustc, "--edition", "2021", "--target", "wasm32-wasi", "--crate-type", "cdylib", "-O",
		"-C", "strip=symbols", "-D", "warnings", "-o", out, "../../examples/echo-rust/echo.rs")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("rustc: %v\n%s", err, b)
	}
	echoExampleScenario(t, out)
}

// echoExampleScenario drives the echo-c / echo-rust examples: the
// greeting, echo with attachments forwarded, join, say, a bad join.
func echoExampleScenario(t *testing.T, wasm string) {
	t.Helper()
	p, err := LoadFile(context.Background(), wasm, Options{Logger: testLogger(t)}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close(context.Background())
	ns := newNS("/")
	a, b := ns.sock("A", ""), ns.sock("B", "")
	p.connect(a)
	if got := one(t, a.take()); got.kind != "emit" || got.name != "hello" || got.args != `["A"]` {
		t.Fatalf("on connect: %+v", got)
	}
	p.event(a, ev("echo", `[1,{"_placeholder":true,"num":0}]`, 7, []byte{1, 2, 3}))
	if got := one(t, a.take()); got.kind != "ack" || got.ackID != 7 || got.args != `[1,{"_placeholder":true,"num":0}]` ||
		len(got.atts) != 1 || string(got.atts[0]) != "\x01\x02\x03" {
		t.Fatalf("echo: %+v", got)
	}
	p.event(a, ev("join", `["lobby"]`, 8))
	p.event(b, ev("join", `["lobby"]`, 9))
	if got := one(t, b.take()); got.args != `[2]` {
		t.Fatalf("join: %+v", got)
	}
	a.take()
	p.event(a, ev("say", `["lobby","hi there"]`, 10))
	if got := one(t, a.take()); got.args != `["ok"]` {
		t.Fatalf("say ack: %+v", got)
	}
	if got := one(t, ns.take()); got.kind != "broadcast" || got.name != "said" || got.args != `["hi there"]` ||
		strings.Join(got.rooms, ",") != "lobby" || strings.Join(got.except, ",") != "A" {
		t.Fatalf("say broadcast: %+v", got)
	}
	p.event(a, ev("join", `[42]`, 11))
	if got := one(t, a.take()); got.args != `[{"error":"want [room]"}]` {
		t.Fatalf("bad join: %+v", got)
	}
}
