package main

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// scaffoldDir returns a fresh folder inside the module (so that the SDK
// import of a Go plugin resolves), ignored by ./... patterns.
func scaffoldDir(t *testing.T) string {
	t.Helper()
	dir, err := os.MkdirTemp(".", "_scaffold-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	return dir
}

func goTool(t *testing.T, dir string, env []string, args ...string) {
	t.Helper()
	gobin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("go not in PATH")
	}
	cmd := exec.Command(gobin, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go %s: %v\n%s", strings.Join(args, " "), err, out)
	}
}

func TestNewGo(t *testing.T) {
	dir := scaffoldDir(t)
	code, stdout, stderr := runCmd(t, "new", "hello-go", "--dir", dir)
	if code != 0 {
		t.Fatalf("new: code %d, stderr %s", code, stderr)
	}
	target := filepath.Join(dir, "hello-go")
	if !strings.Contains(stdout, "created ") {
		t.Errorf("stdout %q", stdout)
	}
	for _, f := range []string{"main.go", "hello-go_test.go", "Makefile", "README.md", "server.toml", "server.toml.snippet", ".gitignore"} {
		if _, err := os.Stat(filepath.Join(target, f)); err != nil {
			t.Errorf("missing %s", f)
		}
	}
	snippet, _ := os.ReadFile(filepath.Join(target, "server.toml.snippet"))
	if !strings.Contains(string(snippet), `name = "/hello-go"`) || !strings.Contains(string(snippet), `handler = "hello-go"`) {
		t.Errorf("snippet:\n%s", snippet)
	}
	if _, err := os.Stat(filepath.Join(target, "go.mod")); err == nil {
		t.Error("a plugin inside the sockwasm module got a go.mod of its own")
	}
	goTool(t, target, nil, "vet", ".")
	goTool(t, target, nil, "test", "-count=1", ".")
	goTool(t, target, []string{"GOOS=wasip1", "GOARCH=wasm"}, "build", "-buildmode=c-shared", "-o", "build/hello-go.wasm", ".")
	if fi, err := os.Stat(filepath.Join(target, "build", "hello-go.wasm")); err != nil || fi.Size() == 0 {
		t.Fatalf("no module built: %v", err)
	}
	checkServes(t, target)

	// The same name again is refused.
	if code, _, stderr := runCmd(t, "new", "hello-go", "--dir", dir); code != 1 || !strings.Contains(stderr, "already exists") {
		t.Errorf("existing folder: code %d, stderr %q", code, stderr)
	}
}

// checkServes checks that the scaffold's server.toml is valid, with the
// module it builds.
func checkServes(t *testing.T, target string) {
	t.Helper()
	if code, _, stderr := runCmd(t, "check", "--config", filepath.Join(target, "server.toml")); code != 0 {
		t.Fatalf("check of the scaffold's server.toml: code %d\n%s", code, stderr)
	}
}

// Outside any module, the plugin gets a go.mod pointing at the SDK the
// binary carries, written into the cache: it tests and builds with the
// module proxy off.
func TestNewGoStandalone(t *testing.T) {
	dir, cache := t.TempDir(), t.TempDir()
	t.Setenv("SOCKWASM_SDK_CACHE", cache)
	if code, _, stderr := runCmd(t, "new", "solo", "--dir", dir); code != 0 {
		t.Fatalf("new: code %d, stderr %s", code, stderr)
	}
	target := filepath.Join(dir, "solo")
	mod, err := os.ReadFile(filepath.Join(target, "go.mod"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(mod), "module solo\n") || !strings.Contains(string(mod), "replace github.com/sockwasm/sockwasm => "+cache) {
		t.Fatalf("go.mod:\n%s", mod)
	}
	offline := []string{"GOPROXY=off", "GOFLAGS=-mod=mod", "GOWORK=off"}
	goTool(t, target, offline, "vet", "./...")
	goTool(t, target, offline, "test", "-count=1", "./...")
	goTool(t, target, append(offline, "GOOS=wasip1", "GOARCH=wasm"), "build", "-buildmode=c-shared", "-o", "build/solo.wasm", ".")
	checkServes(t, target)
	// A second plugin reuses the SDK written for the first.
	if code, _, stderr := runCmd(t, "new", "duo", "--dir", dir); code != 0 {
		t.Fatalf("new: code %d, stderr %s", code, stderr)
	}
	if ents, _ := os.ReadDir(cache); len(ents) != 1 {
		t.Fatalf("SDK cache holds %d versions, want 1", len(ents))
	}
}

func TestNewRefuses(t *testing.T) {
	dir := scaffoldDir(t)
	for _, c := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"new", "Bad_Name", "--dir", dir}, 1, `invalid plugin name "Bad_Name"`},
		{[]string{"new", "../x", "--dir", dir}, 1, "invalid plugin name"},
		{[]string{"new", "ok", "--lang", "cobol", "--dir", dir}, 1, `unknown language "cobol"`},
		{[]string{"new", "--dir", dir}, 2, "usage: sockwasm new"},
		{[]string{"new", "a", "b"}, 2, "usage: sockwasm new"},
		{[]string{"new", "ok", "--lang", "as", "--sdk", t.TempDir(), "--dir", dir}, 1, "no sdk/assemblyscript in"},
	} {
		if code, _, stderr := runCmd(t, c.args...); code != c.code || !strings.Contains(stderr, c.want) {
			t.Errorf("%v: code %d, stderr %q; want %d, %q", c.args, code, stderr, c.code, c.want)
		}
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("refused scaffolds left %v", entries)
	}
}

// TestASVersion keeps the compiler a scaffolded AssemblyScript plugin pins
// in step with the SDK's.
func TestASVersion(t *testing.T) {
	b, err := os.ReadFile("../../sdk/assemblyscript/package.json")
	if err != nil {
		t.Fatal(err)
	}
	var pkg struct {
		DevDependencies map[string]string `json:"devDependencies"`
	}
	if err := json.Unmarshal(b, &pkg); err != nil {
		t.Fatal(err)
	}
	if v := pkg.DevDependencies["assemblyscript"]; v != asVersion {
		t.Fatalf("sdk/assemblyscript pins assemblyscript %s, sockwasm new %s", v, asVersion)
	}
}

func TestNewAS(t *testing.T) {
	npm, err := exec.LookPath("npm")
	if err == nil {
		_, err = exec.LookPath("node")
	}
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("node and npm are needed to test the AssemblyScript scaffold")
		}
		t.Skip("node or npm not in PATH")
	}
	dir := scaffoldDir(t)
	if code, _, stderr := runCmd(t, "new", "hello-as", "--lang", "as", "--dir", dir); code != 0 {
		t.Fatalf("new: code %d, stderr %s", code, stderr)
	}
	target := filepath.Join(dir, "hello-as")
	b, err := os.ReadFile(filepath.Join(target, "package.json"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), `"@sockwasm/sdk": "file:../../../../sdk/assemblyscript"`) {
		t.Fatalf("package.json:\n%s", b)
	}
	for _, args := range [][]string{{"install", "--no-audit", "--no-fund", "--prefer-offline"}, {"test"}} {
		cmd := exec.Command(npm, args...)
		cmd.Dir = target
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("npm %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
	if fi, err := os.Stat(filepath.Join(target, "build", "hello-as.wasm")); err != nil || fi.Size() == 0 {
		t.Fatalf("no module built: %v", err)
	}
}

// A C scaffold builds with clang, and `sockwasm test` plays its script
// against the real server: every step passes; a script whose
// expectations are wrong fails, saying what came instead.
func TestNewCAndScriptTest(t *testing.T) {
	clang, err := exec.LookPath("clang")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("clang is needed (apt-get install clang lld)")
		}
		t.Skip("clang not installed")
	}
	dir := t.TempDir()
	if code, _, stderr := runCmd(t, "new", "cplug", "--lang", "c", "--dir", dir); code != 0 {
		t.Fatalf("new: code %d, stderr %s", code, stderr)
	}
	target := filepath.Join(dir, "cplug")
	cmd := exec.Command(clang, "--target=wasm32", "-nostdlib", "-Wl,--no-entry", "-O2", "-Wall", "-Wextra", "-Werror",
		"-o", "build/cplug.wasm", "plugin.c")
	cmd.Dir = target
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("clang: %v\n%s", err, out)
	}
	t.Chdir(target)
	code, stdout, stderr := runCmd(t, "test", "plugin.test")
	if code != 0 || !strings.HasSuffix(stdout, "PASS\n") || strings.Count(stdout, "ok   ") != 8 {
		t.Fatalf("sockwasm test: code %d\n%s\n%s", code, stdout, stderr)
	}
	bad := "connect a /cplug\ncall a greet [{\"name\":\"Bo\"}] => [\"bye, Bo\"]\ncall a echo [1] => [1]\n"
	if err := os.WriteFile("bad.test", []byte(bad), 0o644); err != nil {
		t.Fatal(err)
	}
	code, stdout, _ = runCmd(t, "test", "bad.test")
	if code != 1 || !strings.Contains(stdout, "FAIL bad.test:2:") || !strings.Contains(stdout, `got  ["hello, Bo"]`) ||
		strings.Contains(stdout, "bad.test:3") {
		t.Fatalf("a failing script: code %d\n%s", code, stdout)
	}
	code, stdout, _ = runCmd(t, "test", "--timeout", "300ms", "-")
	if code != 1 || !strings.Contains(stdout, "FAIL -:") {
		t.Fatalf("a missing script: code %d\n%s", code, stdout)
	}
	if code, _, stderr := runCmd(t, "test"); code != 2 || !strings.Contains(stderr, "usage: sockwasm test") {
		t.Fatalf("no script: code %d\n%s", code, stderr)
	}
}
