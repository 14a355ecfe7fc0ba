// Package wasmtest runs a built plugin (.wasm) in a real sockwasm server
// inside `go test`, and talks to it as a Socket.IO client over WebSocket:
// the end-to-end counterpart of sdk/go/plugintest, which runs a Go
// plugin's handlers natively.
//
//	func TestChat(t *testing.T) {
//		h := wasmtest.LoadWasm(t, "../../plugins/chat.wasm", "")
//		c := h.Connect(t, "/", `{"token":"t"}`)
//		ack, err := c.EmitWithAck(ctx, "echo", `[1]`)
//		…
//	}
//
// The server is the real one (host/server, with its plugin manager, limits,
// routes and middleware), served by an httptest.Server; its log goes to
// the test log at warn level and above.
package wasmtest

import (
	"context"
	"fmt"
	"io"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/sockwasm/sockwasm/host/config"
	"github.com/sockwasm/sockwasm/host/server"
	"github.com/sockwasm/sockwasm/host/sioclient"
)

// Host is a sockwasm server serving one plugin to the test.
type Host struct {
	// Name is the plugin's name: its file name without .wasm.
	Name string
	// URL is the server's base URL, http://127.0.0.1:PORT.
	URL string
	// Server is the running server (Plugins, SocketIO, Reload…).
	Server *server.Server
	http   *httptest.Server
}

// LoadWasm starts a server with the plugin at path, named after its file
// (chat.wasm is "chat"), until the end of the test. config is server.toml
// text: its namespaces, routes and [plugin.NAME] grants, limits and
// config; it must not set plugins_dir, cache_dir, listen or watch, which
// the helper sets. An empty config serves namespace "/" with the plugin as
// connection middleware and handler. Compiled modules are cached in the
// temporary folder (sockwasm-wasmtest-cache) across runs. A plugin or a
// configuration the server refuses fails the test.
func LoadWasm(t testing.TB, path, config string) *Host {
	t.Helper()
	h, err := load(t, path, config)
	if err != nil {
		t.Fatalf("wasmtest: %v", err)
	}
	return h
}

func load(t testing.TB, path, toml string) (*Host, error) {
	name := strings.TrimSuffix(filepath.Base(path), ".wasm")
	if name == "" || !strings.HasSuffix(path, ".wasm") {
		return nil, fmt.Errorf("%s: want a .wasm file", path)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	dir := t.TempDir()
	plugins := filepath.Join(dir, "plugins")
	if err := os.Mkdir(plugins, 0o755); err != nil {
		return nil, err
	}
	if err := os.WriteFile(filepath.Join(plugins, name+".wasm"), b, 0o644); err != nil {
		return nil, err
	}
	if strings.TrimSpace(toml) == "" {
		toml = fmt.Sprintf("[[namespace]]\nname = \"/\"\nmiddleware = [%q]\nhandler = %q\n", name, name)
	}
	cache := filepath.Join(os.TempDir(), "sockwasm-wasmtest-cache")
	head := fmt.Sprintf("plugins_dir = %q\ncache_dir = %q\nwatch = false\n", plugins, cache)
	cfg, err := config.Parse(filepath.Join(dir, "server.toml"), []byte(head+toml))
	if err != nil {
		return nil, err
	}
	lw := &testWriter{t: t}
	log := zerolog.New(zerolog.ConsoleWriter{Out: lw, NoColor: true, TimeFormat: time.TimeOnly}).Level(zerolog.WarnLevel).
		With().Timestamp().Logger()
	srv, err := server.New(context.Background(), cfg, log)
	if err != nil {
		return nil, err
	}
	ts := httptest.NewServer(srv.Handler())
	h := &Host{Name: name, URL: ts.URL, Server: srv, http: ts}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
		ts.CloseClientConnections()
		ts.Close()
		lw.close()
	})
	return h, nil
}

// testWriter writes log lines to the test log until closed.
type testWriter struct {
	mu     sync.Mutex
	t      testing.TB
	closed bool
}

var _ io.Writer = (*testWriter)(nil)

func (w *testWriter) Write(b []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if !w.closed {
		w.t.Log(strings.TrimRight(string(b), "\n"))
	}
	return len(b), nil
}

func (w *testWriter) close() {
	w.mu.Lock()
	w.closed = true
	w.mu.Unlock()
}

// Connect opens a client connection (Engine.IO over WebSocket) and joins
// namespace nsp with auth (raw JSON, "" for none). A refusal or an error
// fails the test; use Dial to test refusals. The client is closed at the
// end of the test.
func (h *Host) Connect(t testing.TB, nsp, auth string) *Client {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := h.Dial(ctx, nsp, auth)
	if err != nil {
		t.Fatalf("wasmtest: connect %s: %v", nsp, err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// Client is a Socket.IO client joined to one namespace (sioclient.Client).
type Client = sioclient.Client

// Message is an event or an ack from the server (sioclient.Message).
type Message = sioclient.Message

// ConnectError is the server's refusal of a connection
// (sioclient.ConnectError).
type ConnectError = sioclient.ConnectError

// ErrDisconnected is returned by a Client whose namespace or connection
// was closed.
var ErrDisconnected = sioclient.ErrDisconnected

// Dial opens a connection to the host and joins namespace nsp (default
// "/") with auth (raw JSON, "" for none). A refusal returns a
// *ConnectError.
func (h *Host) Dial(ctx context.Context, nsp, auth string) (*Client, error) {
	return sioclient.Dial(ctx, h.URL, h.Server.Config().Path, nsp, auth)
}
