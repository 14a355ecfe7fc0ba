package server

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/sockwasm/sockwasm/host/config"
)

// pluginsDir holds the example plugins, built once for this test binary by
// the real Go toolchain.
var pluginsDir string

// hotV1 and hotV2 are two builds of testdata/hot whose "echo" acks differ
// ("v1" and "v2"), outside of pluginsDir.
var hotV1, hotV2 string

// gateWasm is testdata/gate, a per-event middleware.
var gateWasm string

// chatWasm is the chat example (examples/chat/plugin), ratelimitWasm the
// ratelimit example, authHTTPWasm and webhookWasm the auth-http and
// webhook examples.
var chatWasm, ratelimitWasm, authHTTPWasm, webhookWasm string

// sseWasm is testdata/sse: server-side events.
var sseWasm string

// nsbWasm is host/plugin/testdata/nsbcast: timers that broadcast to a
// namespace (ns_broadcast).
var nsbWasm string

// hostileWasm is host/plugin/testdata/hostile: one event per thing a
// plugin should not get away with. slowInitWasm is
// host/plugin/testdata/slowinit built to spin 700 ms in _initialize,
// slowInit3sWasm to spin 3 s.
var hostileWasm, slowInitWasm, slowInit3sWasm string

// cacheDir is the compilation cache shared by the tests' servers, so each
// plugin is compiled once.
var cacheDir string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "sockwasm-server-test")
	if err != nil {
		panic(err)
	}
	pluginsDir = filepath.Join(dir, "plugins")
	cacheDir = filepath.Join(dir, "cache")
	if err := os.Mkdir(pluginsDir, 0o755); err != nil {
		panic(err)
	}
	code := func() int {
		defer os.RemoveAll(dir)
		// Every test plugin is built at once, in parallel: each build is
		// a `go build` of its own.
		type build struct {
			out      string
			dir, pkg string
			flags    []string
			what     string
		}
		var builds []build
		add := func(out *string, path, dir, pkg, what string, flags ...string) {
			*out = path
			builds = append(builds, build{out: path, dir: dir, pkg: pkg, flags: flags, what: what})
		}
		var conformance, engineEcho string
		add(&conformance, filepath.Join(pluginsDir, "conformance.wasm"), "../..", "./examples/conformance/sio", "conformance")
		add(&engineEcho, filepath.Join(pluginsDir, "engine-echo.wasm"), "../..", "./examples/conformance/engine", "engine-echo")
		add(&hotV1, filepath.Join(dir, "hot-v1.wasm"), "testdata/hot", ".", "testdata/hot v1", "-ldflags", "-X main.version=v1")
		add(&hotV2, filepath.Join(dir, "hot-v2.wasm"), "testdata/hot", ".", "testdata/hot v2", "-ldflags", "-X main.version=v2")
		for _, ex := range []struct {
			out  *string
			name string
		}{{&chatWasm, "chat"}, {&ratelimitWasm, "ratelimit"}, {&authHTTPWasm, "auth-http"}, {&webhookWasm, "webhook"}} {
			add(ex.out, filepath.Join(dir, ex.name+".wasm"), "../..", "./examples/"+ex.name+"/plugin", "the "+ex.name+" example")
		}
		for _, g := range []struct {
			out  *string
			name string
		}{{&gateWasm, "gate"}, {&sseWasm, "sse"}, {&sharedWasm, "shared"}} {
			add(g.out, filepath.Join(dir, g.name+".wasm"), "testdata/"+g.name, ".", "testdata/"+g.name)
		}
		add(&nsbWasm, filepath.Join(dir, "nsbcast.wasm"), "../plugin/testdata/nsbcast", ".", "nsbcast")
		add(&hostileWasm, filepath.Join(dir, "hostile.wasm"), "../plugin/testdata/hostile", ".", "hostile")
		add(&slowInitWasm, filepath.Join(dir, "slowinit.wasm"), "../plugin/testdata/slowinit", ".", "slowinit", "-ldflags", "-X main.spinMs=700")
		add(&slowInit3sWasm, filepath.Join(dir, "slowinit3s.wasm"), "../plugin/testdata/slowinit", ".", "slowinit3s", "-ldflags", "-X main.spinMs=3000")
		errs := make([]string, len(builds))
		var wg sync.WaitGroup
		for i, b := range builds {
			wg.Add(1)
			go func() {
				defer wg.Done()
				args := append(append([]string{"build", "-buildmode=c-shared"}, b.flags...), "-o", b.out, b.pkg)
				cmd := exec.Command(goTool(), args...)
				cmd.Dir = b.dir
				cmd.Env = append(os.Environ(), "GOOS=wasip1", "GOARCH=wasm")
				if out, err := cmd.CombinedOutput(); err != nil {
					errs[i] = "building " + b.what + ": " + err.Error() + "\n" + string(out)
				}
			}()
		}
		wg.Wait()
		for _, e := range errs {
			if e != "" {
				os.Stderr.WriteString(e)
				return 1
			}
		}
		if err := warmCache(dir); err != nil {
			os.Stderr.WriteString(err.Error() + "\n")
			return 1
		}
		return m.Run()
	}()
	os.Exit(code)
}

// warmCache compiles every test plugin into cacheDir with the real
// `sockwasm check`, as a deploy checks a build before it moves it into
// place. A binary built without -race compiles several times faster than
// this test binary under -race. wazero keys its cache by its own version,
// which a test binary does not know ("dev"): the binary is told the same.
func warmCache(dir string) error {
	bin := filepath.Join(dir, "sockwasm")
	cmd := exec.Command(goTool(), "build", "-o", bin,
		"-ldflags", "-X github.com/tetratelabs/wazero/internal/version.version=dev", "./cmd/sockwasm")
	cmd.Dir = "../.."
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("building cmd/sockwasm: %v\n%s", err, out)
	}
	guests := filepath.Join(dir, "guests")
	if err := os.Mkdir(guests, 0o755); err != nil {
		return err
	}
	for _, f := range []*string{&hotV1, &hotV2, &gateWasm, &nsbWasm, &hostileWasm, &slowInitWasm, &chatWasm, &ratelimitWasm, &sseWasm, &sharedWasm,
		&authHTTPWasm, &webhookWasm} {
		moved := filepath.Join(guests, filepath.Base(*f))
		if err := os.Rename(*f, moved); err != nil {
			return err
		}
		*f = moved
	}
	for _, plugins := range []string{pluginsDir, guests} {
		file := filepath.Join(dir, "check.toml")
		toml := "plugins_dir = \"" + plugins + "\"\ncache_dir = \"" + cacheDir + "\"\n[log]\nlevel = \"warn\"\n"
		if plugins == guests {
			toml += "[plugin.nsbcast]\ngrants = [\"timers\"]\n[plugin.hostile]\ngrants = [\"kv\", \"timers\"]\n" +
				"[plugin.shared]\ngrants = [\"kv\", \"timers\"]\n[plugin.ratelimit]\ngrants = [\"kv\"]\n" +
				"[plugin.auth-http]\ngrants = [\"http\"]\nhttp_allow = [\"http://127.0.0.1/\"]\n[plugin.auth-http.config]\nurl = \"http://127.0.0.1/\"\n" +
				"[plugin.webhook]\ngrants = [\"http\"]\nhttp_allow = [\"http://127.0.0.1/\"]\n[plugin.webhook.config]\nurl = \"http://127.0.0.1/\"\n"
		}
		if err := os.WriteFile(file, []byte(toml), 0o644); err != nil {
			return err
		}
		if out, err := exec.Command(bin, "check", "--config", file).CombinedOutput(); err != nil {
			return fmt.Errorf("sockwasm check %s: %v\n%s", plugins, err, out)
		}
	}
	return nil
}

func goTool() string {
	return filepath.Join(runtime.GOROOT(), "bin", "go")
}

const conformanceTOML = `
[engine]
ping_interval = "300ms"
ping_timeout = "200ms"
[socketio]
connect_timeout = "1s"
[[namespace]]
name = "/"
handler = "conformance"
[[namespace]]
name = "/custom"
handler = "conformance"
[[engine_endpoint]]
path = "/engine.io/"
plugin = "engine-echo"
`

func newTestServer(t *testing.T, toml, plugins string) (*Server, error) {
	t.Helper()
	head := "plugins_dir = \"" + plugins + "\"\ncache_dir = \"" + cacheDir + "\"\n"
	cfg, err := config.Parse(filepath.Join(t.TempDir(), "server.toml"), []byte(head+toml))
	if err != nil {
		t.Fatal(err)
	}
	cfg.Watch = false
	return New(context.Background(), cfg, zerolog.Nop())
}

func startServer(t *testing.T) string {
	t.Helper()
	srv, err := newTestServer(t, conformanceTOML, pluginsDir)
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv.Handler())
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
		hs.Close()
	})
	return hs.URL
}

func get(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func post(t *testing.T, url, body string) (int, string) {
	t.Helper()
	resp, err := http.Post(url, "text/plain;charset=UTF-8", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// handshake opens a polling session on path and returns its polling URL.
func handshake(t *testing.T, base, path string) string {
	t.Helper()
	code, body := get(t, base+path+"?EIO=4&transport=polling")
	if code != 200 || !strings.HasPrefix(body, "0{") {
		t.Fatalf("handshake: %d %q", code, body)
	}
	var open struct {
		SID string `json:"sid"`
	}
	if err := json.Unmarshal([]byte(body[1:]), &open); err != nil || open.SID == "" {
		t.Fatalf("handshake body %q: %v", body, err)
	}
	return base + path + "?EIO=4&transport=polling&sid=" + open.SID
}

// connectSIO opens a polling session and connects it to namespace "/",
// consuming the CONNECT reply and the "auth" event.
func connectSIO(t *testing.T, base string) string {
	t.Helper()
	u := handshake(t, base, "/socket.io/")
	if code, body := post(t, u, "40"); code != 200 || body != "ok" {
		t.Fatalf("connect POST: %d %q", code, body)
	}
	_, body := get(t, u)
	if !strings.HasPrefix(body, `40{"sid":"`) || !strings.Contains(body, `42["auth",{}]`) {
		t.Fatalf("connect reply %q", body)
	}
	return u
}

func echo(t *testing.T, u, msg string) {
	t.Helper()
	if code, body := post(t, u, `42["message",`+msg+`]`); code != 200 || body != "ok" {
		t.Fatalf("event POST: %d %q", code, body)
	}
	want := `42["message-back",` + msg + `]`
	if _, body := get(t, u); body != want {
		t.Fatalf("got %q, want %q", body, want)
	}
}

func TestUnknownSID(t *testing.T) {
	base := startServer(t)
	code, body := get(t, base+"/socket.io/?EIO=4&transport=polling&sid=nope")
	if code != 400 || body != `{"code":1,"message":"Session ID unknown"}` {
		t.Errorf("unknown sid: %d %q", code, body)
	}
}

func TestUnknownNamespace(t *testing.T) {
	base := startServer(t)
	u := handshake(t, base, "/socket.io/")
	post(t, u, "40/random,")
	if _, body := get(t, u); body != `44/random,{"message":"Invalid namespace"}` {
		t.Errorf("got %q", body)
	}
	// The session stays usable for a valid namespace.
	post(t, u, "40")
	if _, body := get(t, u); !strings.HasPrefix(body, `40{"sid":"`) {
		t.Errorf("connect after refusal: %q", body)
	}
}

func TestMalformedPacketClosesOnlyThatSession(t *testing.T) {
	base := startServer(t)
	good := connectSIO(t, base)
	bad := connectSIO(t, base)
	post(t, bad, `42{"not":"an array"}`)
	// The bad session is gone: its next poll is answered with a close or 400.
	deadline := time.Now().Add(2 * time.Second)
	for {
		code, body := get(t, bad)
		if code == 400 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("malformed session still open: %d %q", code, body)
		}
	}
	echo(t, good, `1,"2",{"3":[true]}`)
}

func TestOversizedPost(t *testing.T) {
	base := startServer(t)
	good := connectSIO(t, base)
	bad := connectSIO(t, base)
	code, _ := post(t, bad, "4"+strings.Repeat("x", 1_000_001))
	if code != 413 {
		t.Errorf("oversized POST answered %d, want 413", code)
	}
	if code, _ := get(t, bad); code != 400 {
		t.Errorf("session after oversized POST: %d, want 400", code)
	}
	echo(t, good, `"still here"`)
}

func TestEngineEndpointEcho(t *testing.T) {
	base := startServer(t)
	u := handshake(t, base, "/engine.io/")
	post(t, u, "4hello\x1ebAQIDBA==")
	if _, body := get(t, u); body != "4hello\x1ebAQIDBA==" {
		t.Errorf("echo %q", body)
	}
}

func TestInvalidPluginRefused(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "broken.wasm"), []byte("\x00asm\x01\x00\x00\x00garbage"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := newTestServer(t, "[[namespace]]\nname = \"/\"\nhandler = \"broken\"\n", dir)
	if err == nil || !strings.Contains(err.Error(), "broken.wasm") {
		t.Fatalf("err = %v, want one naming broken.wasm", err)
	}
}

func TestRouteToMissingPlugin(t *testing.T) {
	_, err := newTestServer(t, "[[namespace]]\nname = \"/\"\nhandler = \"nothere\"\n", pluginsDir)
	if err == nil || !strings.Contains(err.Error(), "nothere") {
		t.Fatalf("err = %v, want one naming the plugin", err)
	}
}
