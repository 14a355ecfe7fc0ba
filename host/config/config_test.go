package config

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestParseDefaults(t *testing.T) {
	c, err := Parse("/etc/sockwasm/server.toml", []byte(`
[[namespace]]
name = "/"
handler = "chat"
`))
	if err != nil {
		t.Fatal(err)
	}
	if c.Listen != DefaultListen || c.Path != DefaultPath {
		t.Errorf("listen/path = %q %q", c.Listen, c.Path)
	}
	if time.Duration(c.Engine.PingInterval) != DefaultPingInterval || time.Duration(c.Engine.PingTimeout) != DefaultPingTimeout {
		t.Errorf("ping = %v %v", c.Engine.PingInterval, c.Engine.PingTimeout)
	}
	if c.Engine.MaxPayload != DefaultMaxPayload || c.Engine.WriteQueue != DefaultWriteQueue {
		t.Errorf("max_payload/write_queue = %d %d", c.Engine.MaxPayload, c.Engine.WriteQueue)
	}
	if time.Duration(c.SocketIO.ConnectTimeout) != DefaultConnectTimeout {
		t.Errorf("connect_timeout = %v", c.SocketIO.ConnectTimeout)
	}
	if c.PluginsDir != "/etc/sockwasm/plugins" {
		t.Errorf("plugins_dir not resolved against the file's folder: %q", c.PluginsDir)
	}
}

func TestParseFull(t *testing.T) {
	c, err := Parse("cfg/server.toml", []byte(`
listen = "0.0.0.0:8080"
path = "/io/"
plugins_dir = "/opt/plugins"
static_dir = "web"
[engine]
ping_interval = "300ms"
ping_timeout = "200ms"
max_payload = 5000
[socketio]
connect_timeout = "1s"
[cors]
origins = ["https://example.com"]
credentials = true
[plugins]
call_timeout = "250ms"
memory_pages = 16
pool_size = 4
[[namespace]]
name = "/"
middleware = ["auth", "chat"]
handler = "chat"
[namespace.events]
echo = "echo"
"chat:say" = "chat"
[[engine_endpoint]]
path = "/engine.io/"
plugin = "engine-echo"
`))
	if err != nil {
		t.Fatal(err)
	}
	if c.Listen != "0.0.0.0:8080" || c.Path != "/io/" || c.PluginsDir != "/opt/plugins" || c.StaticDir != filepath.Join("cfg", "web") {
		t.Errorf("top level: %+v", c)
	}
	if time.Duration(c.Engine.PingInterval) != 300*time.Millisecond || c.Engine.MaxPayload != 5000 {
		t.Errorf("engine: %+v", c.Engine)
	}
	if !c.CORS.Credentials || len(c.CORS.Origins) != 1 {
		t.Errorf("cors: %+v", c.CORS)
	}
	if c.Limits.MemoryPages != 16 || c.Limits.PoolSize != 4 || time.Duration(c.Limits.CallTimeout) != 250*time.Millisecond {
		t.Errorf("limits: %+v", c.Limits)
	}
	n := c.Namespace[0]
	if n.Events["chat:say"] != "chat" || n.Events["echo"] != "echo" || len(n.Middleware) != 2 {
		t.Errorf("namespace: %+v", n)
	}
	if got := strings.Join(c.PluginNames(), ","); got != "auth,chat,echo,engine-echo" {
		t.Errorf("PluginNames = %s", got)
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name string
		toml string
		want []string // substrings of the error, in any order
	}{
		{"unknown top-level key", "lisen = \"x\"\n", []string{"server.toml:1: lisen: unknown key"}},
		{"unknown nested key", "[engine]\n\nping_intervall = \"1s\"\n", []string{"server.toml:3: engine.ping_intervall: unknown key"}},
		{"bad duration", "[engine]\nping_interval = \"soon\"\n", []string{"server.toml", "invalid duration \"soon\""}},
		{"wrong type", "[engine]\nmax_payload = \"big\"\n", []string{"server.toml", "max_payload"}},
		{"syntax", "listen = \n", []string{"server.toml:1"}},
		{"bad listen", "listen = \"nowhere\"\n", []string{"server.toml:1: listen: invalid address"}},
		{"bad path", "path = \"socket.io\"\n", []string{"path: invalid path"}},
		{"negative", "[engine]\nping_timeout = \"-1s\"\n", []string{"engine.ping_timeout: must not be negative"}},
		{"bad namespace", "[[namespace]]\nname = \"chat\"\nhandler = \"c\"\n", []string{"namespace[0].name: invalid namespace \"chat\""}},
		{"duplicate namespace", "[[namespace]]\nname = \"/\"\nhandler = \"c\"\n[[namespace]]\nname = \"/\"\nhandler = \"c\"\n", []string{"defined twice"}},
		{"empty namespace", "[[namespace]]\nname = \"/x\"\n", []string{"routes nothing"}},
		{"bad plugin name", "[[namespace]]\nname = \"/\"\nhandler = \"../evil\"\n", []string{"invalid plugin name \"../evil\""}},
		{"endpoint clash", "[[engine_endpoint]]\npath = \"/socket.io/\"\nplugin = \"e\"\n", []string{"already served"}},
		{"log level", "[log]\nlevel = \"loud\"\n", []string{"log.level: unknown level"}},
		{"several problems", "lisen = 1\n[engine]\nwrite_queue = -1\n", []string{"lisen: unknown key", "engine.write_queue"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse("server.toml", []byte(tt.toml))
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
			var es Errors
			if !errors.As(err, &es) || len(es) == 0 {
				t.Errorf("error is not config.Errors: %T", err)
			}
		})
	}
}

func TestLoadMissingFile(t *testing.T) {
	_, err := Load(filepath.Join(t.TempDir(), "nope.toml"))
	if err == nil || !strings.Contains(err.Error(), "nope.toml") {
		t.Fatalf("err = %v", err)
	}
}

// The configurations shipped in the repository must stay valid.
func TestShippedConfigs(t *testing.T) {
	for _, f := range []string{"../../server.toml", "../../examples/chat/server.toml", "../../examples/conformance/server.toml"} {
		if _, err := os.Stat(f); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		if _, err := Load(f); err != nil {
			t.Errorf("%s: %v", f, err)
		}
	}
}
