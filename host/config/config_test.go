package config

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
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
	for _, f := range []string{"../../server.toml", "../../examples/chat/server.toml", "../../examples/conformance/server.toml",
		"../../examples/auth-http/server.toml", "../../examples/webhook/server.toml"} {
		if _, err := os.Stat(f); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		if _, err := Load(f); err != nil {
			t.Errorf("%s: %v", f, err)
		}
	}
}

func TestPluginTables(t *testing.T) {
	c, err := Parse("server.toml", []byte(`
[plugins]
call_timeout = "2s"
memory_pages = 64
max_kv_value = 4096
[plugin.ratelimit]
grants = ["timers", "kv"]
call_timeout = "50ms"
pool_size = 2
max_socket_data = 128
[plugin.ratelimit.config]
rate = 5
burst = 10.5
name = "bucket"
nested = { list = [1, "two"], on = true }
[plugin.auth.config]
secret = "s3"
[[namespace]]
name = "/"
handler = "ratelimit"
`))
	if err != nil {
		t.Fatal(err)
	}
	rl := c.PluginSettings("ratelimit")
	if l := rl.Limits; strings.Join(rl.Grants, ",") != "kv,timers" || time.Duration(l.CallTimeout) != 50*time.Millisecond || l.PoolSize != 2 ||
		l.MemoryPages != 64 || l.MaxSocketData != 128 || l.MaxKVValue != 4096 {
		t.Errorf("ratelimit settings %+v", rl)
	}
	if got, want := string(rl.Config), `{"burst":10.5,"name":"bucket","nested":{"list":[1,"two"],"on":true},"rate":5}`; got != want {
		t.Errorf("config JSON %s, want %s", got, want)
	}
	other := c.PluginSettings("other")
	// Left out: the [plugins] value, else zero (the plugin host's default).
	if other.Grants != nil || other.Config != nil || time.Duration(other.Limits.CallTimeout) != 2*time.Second || other.Limits.MaxSocketData != 0 {
		t.Errorf("defaults %+v", other)
	}
	if string(c.PluginSettings("auth").Config) != `{"secret":"s3"}` {
		t.Errorf("auth config %s", c.PluginSettings("auth").Config)
	}
	if !c.Watch {
		t.Error("watch defaults to true")
	}
}

func TestRoutesAndPatterns(t *testing.T) {
	c, err := Parse("server.toml", []byte(`
watch = false
[[namespace]]
name = "/tenant-*"
middleware = ["auth"]
event_middleware = ["ratelimit", "audit"]
handler = "chat"
[namespace.events]
"chat:*" = "chat"
"chat:admin:*" = "admin"
ping = "echo"
`))
	if err != nil {
		t.Fatal(err)
	}
	if c.Watch {
		t.Error("watch = false ignored")
	}
	n := c.Namespace[0]
	if !IsPattern(n.Name) || strings.Join(n.EventMiddleware, ",") != "ratelimit,audit" || n.Events["chat:admin:*"] != "admin" {
		t.Errorf("namespace %+v", n)
	}
	if got := strings.Join(c.PluginNames(), ","); got != "admin,audit,auth,chat,echo,ratelimit" {
		t.Errorf("PluginNames = %s", got)
	}
}

// Every plugin limit is a key of [plugins] and of [plugin.NAME]; the
// plugin's own table wins, keys left out inherit.
func TestPluginLimitKeys(t *testing.T) {
	c, err := Parse("server.toml", []byte(`
[plugins]
max_concurrency = 3
max_sends_per_call = 10
compile_timeout = "5s"
max_table_elements = 500
[plugin.p]
max_sends_per_call = 20
log_lines_per_second = 7
`))
	if err != nil {
		t.Fatal(err)
	}
	l := c.PluginSettings("p").Limits
	if l.MaxConcurrency != 3 || l.MaxSendsPerCall != 20 || l.LogLinesPerSecond != 7 || time.Duration(l.CompileTimeout) != 5*time.Second || l.MaxTableElements != 500 {
		t.Fatalf("limits of p: %+v", l)
	}
	if o := c.PluginSettings("other").Limits; o.MaxSendsPerCall != 10 || o.LogLinesPerSecond != 0 {
		t.Fatalf("limits of other: %+v", o)
	}
}

// [plugin.NAME] http_allow with the "http" grant, and the outbound HTTP
// limits in [plugins] and [plugin.NAME].
func TestPluginHTTP(t *testing.T) {
	c, err := Parse("server.toml", []byte(`
[plugins]
http_timeout = "3s"
max_http_concurrent = 4
[plugin.hook]
grants = ["http"]
http_allow = ["https://hooks.example.com/in/", "http://127.0.0.1:8080"]
max_http_response_bytes = 1000
max_http_request_bytes = 2000
`))
	if err != nil {
		t.Fatal(err)
	}
	s := c.PluginSettings("hook")
	l := s.Limits
	if strings.Join(s.HTTPAllow, " ") != "https://hooks.example.com/in/ http://127.0.0.1:8080" || strings.Join(s.Grants, ",") != "http" ||
		time.Duration(l.HTTPTimeout) != 3*time.Second || l.MaxHTTPConcurrent != 4 || l.MaxHTTPResponseBytes != 1000 || l.MaxHTTPRequestBytes != 2000 {
		t.Fatalf("settings of hook: %+v", s)
	}
	if o := c.PluginSettings("other"); o.HTTPAllow != nil || time.Duration(o.Limits.HTTPTimeout) != 3*time.Second {
		t.Fatalf("settings of other: %+v", o)
	}
	next, err := Parse("server.toml", []byte("[plugin.hook]\ngrants = [\"http\"]\nhttp_allow = [\"https://hooks.example.com/\"]\n"))
	if err != nil {
		t.Fatal(err)
	}
	if ch := Compare(c, next); strings.Join(ch.SettingsChanged, ",") != "hook" || len(ch.Restart) != 0 {
		t.Fatalf("Compare = %+v", ch)
	}
}

func TestPluginTableErrors(t *testing.T) {
	tests := []struct {
		name, toml string
		want       []string
	}{
		{"unknown grant", "[plugin.p]\n\ngrants = [\"fs\"]\n", []string{`server.toml:3: plugin.p.grants: unknown capability "fs"`}},
		{"http_allow without grant", "[plugin.p]\ngrants = [\"kv\"]\nhttp_allow = [\"https://auth.example.com/\"]\n",
			[]string{`server.toml:3: plugin.p.http_allow: is set but the plugin is not granted "http": add it to grants`}},
		{"http grant without http_allow", "[plugin.p]\ngrants = [\"http\"]\n",
			[]string{`server.toml:2: plugin.p.grants: "http" is granted but http_allow is empty, so every request would be refused`}},
		{"bad http_allow", "[plugin.p]\ngrants = [\"http\"]\nhttp_allow = [\"https://ok.example/\", \"auth.example.com\", \"https://u@x.example/\", \"ftp://x.example/\"]\n",
			[]string{`server.toml:3: plugin.p.http_allow: "auth.example.com": scheme "" is not http or https: want an absolute http:// or https:// URL prefix`,
				`plugin.p.http_allow: "https://u@x.example/": want an absolute`, `plugin.p.http_allow: "ftp://x.example/"`}},
		{"http_allow in [plugins]", "[plugins]\nhttp_allow = [\"https://a.example/\"]\n", []string{"server.toml:2: plugins.http_allow: unknown key"}},
		{"http limits", "[plugins]\nmax_http_concurrent = 5000\nhttp_timeout = \"-1s\"\n[plugin.p]\nmax_http_response_bytes = -1\n",
			[]string{"server.toml:2: plugins.max_http_concurrent: must be at most 1024, got 5000", "server.toml:3: plugins.http_timeout: must not be negative",
				"server.toml:5: plugin.p.max_http_response_bytes: must not be negative"}},
		{"duplicate grant", "[plugin.p]\ngrants = [\"kv\", \"kv\"]\n", []string{"server.toml:2: plugin.p.grants: capability \"kv\" is granted twice"}},
		{"bad emit grant", "[plugin.p]\ngrants = [\"emit:/ok\", \"emit:/t-*\", \"emit:nope\"]\n", []string{`server.toml:2: plugin.p.grants: grant "emit:nope": want "emit:" and a namespace`}},
		{"negative limit", "[plugins]\nmax_sends_per_call = -1\ncompile_timeout = \"-1s\"\n", []string{"server.toml:2: plugins.max_sends_per_call: must not be negative", "server.toml:3: plugins.compile_timeout: must not be negative, got -1s"}},
		{"unknown plugin key", "[plugin.p]\ngrant = [\"kv\"]\n", []string{"server.toml:2: plugin.p.grant: unknown key"}},
		{"bad limit", "[plugin.a]\npool_size = 1\n[plugin.p]\npool_size = -1\n", []string{"server.toml:4: plugin.p.pool_size: must not be negative"}},
		{"bad memory", "[plugin.p]\nmemory_pages = 70000\n", []string{"server.toml:2: plugin.p.memory_pages"}},
		{"bad name", "[plugin.\"../x\"]\npool_size = 1\n", []string{`plugin.../x: invalid plugin name`}},
		{"nan config", "[plugin.p.config]\nx = nan\n", []string{"server.toml:1: plugin.p.config: cannot be handed to the plugin as JSON"}},
		{"bad default", "[plugins]\nmax_kv_value = -5\n", []string{"plugins.max_kv_value: must not be negative"}},
		{"star inside namespace", "[[namespace]]\nname = \"/a*b\"\nhandler = \"c\"\n", []string{"server.toml:2: namespace[0].name: invalid namespace \"/a*b\""}},
		{"second namespace line", "[[namespace]]\nname = \"/\"\nhandler = \"c\"\n[[namespace]]\nname = \"x\"\nhandler = \"c\"\n", []string{"server.toml:5: namespace[1].name"}},
		{"star inside event", "[[namespace]]\nname = \"/\"\n[namespace.events]\n\"a*b\" = \"c\"\n", []string{"server.toml:4: namespace[0].events.a*b: invalid event pattern"}},
		{"bad event middleware", "[[namespace]]\nname = \"/\"\nhandler = \"c\"\nevent_middleware = [\"../x\"]\n", []string{"server.toml:4: namespace[0].event_middleware: invalid plugin name"}},
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
		})
	}
}

func TestFixedChanges(t *testing.T) {
	base := "[[namespace]]\nname = \"/\"\nhandler = \"c\"\n"
	old, err := Parse("server.toml", []byte(base))
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct{ toml, want string }{
		{base + "[[namespace]]\nname = \"/x\"\nhandler = \"d\"\n[plugin.c]\ngrants = [\"kv\"]\n[plugins]\ncall_timeout = \"3s\"\n", ""},
		{"listen = \"127.0.0.1:4000\"\n" + base, "listen"},
		{"path = \"/io/\"\n[engine]\nping_interval = \"1s\"\n[cors]\norigins = [\"*\"]\n" + base, "path,engine.ping_interval,cors.origins"},
		{"watch = false\n" + base, "watch"},
		{"[socketio]\nparser = \"msgpack\"\n" + base, "socketio.parser"},
		{"[socketio]\nparser = \"json\"\n" + base, ""},
	} {
		next, err := Parse("server.toml", []byte(tt.toml))
		if err != nil {
			t.Fatal(err)
		}
		if got := strings.Join(FixedChanges(old, next), ","); got != tt.want {
			t.Errorf("FixedChanges = %q, want %q", got, tt.want)
		}
	}
	// A --listen override survives reloads, whatever the file says.
	o := *old
	o.ListenOverride = "127.0.0.1:9"
	n := *old
	n.Listen = "127.0.0.1:8"
	n.ListenOverride = "127.0.0.1:9"
	if got := FixedChanges(&o, &n); len(got) != 0 {
		t.Errorf("override: %v", got)
	}
}

func TestClientLimits(t *testing.T) {
	c, err := Parse("server.toml", []byte("[[namespace]]\nname = \"/\"\nhandler = \"c\"\n"))
	if err != nil {
		t.Fatal(err)
	}
	if c.Engine.WriteQueueBytes != DefaultWriteQueueBytes || time.Duration(c.Engine.WriteTimeout) != DefaultWriteTimeout {
		t.Errorf("engine defaults: %+v", c.Engine)
	}
	if c.HTTP.MaxHeaderBytes != DefaultMaxHeaderBytes || time.Duration(c.HTTP.IdleTimeout) != DefaultIdleTimeout ||
		time.Duration(c.HTTP.ReadTimeout) != DefaultReadTimeout || time.Duration(c.HTTP.ReadHeaderTimeout) != DefaultReadHeaderTimeout {
		t.Errorf("http defaults: %+v", c.HTTP)
	}
	c, err = Parse("server.toml", []byte(`
[engine]
max_payload = 1000
write_queue_bytes = 4096
write_timeout = "2s"
[http]
max_header_bytes = 8192
idle_timeout = "1s"
read_timeout = "3s"
read_header_timeout = "4s"
`))
	if err != nil {
		t.Fatal(err)
	}
	if c.Engine.WriteQueueBytes != 4096 || time.Duration(c.Engine.WriteTimeout) != 2*time.Second {
		t.Errorf("engine: %+v", c.Engine)
	}
	if c.HTTP != (HTTP{MaxHeaderBytes: 8192, IdleTimeout: Duration(time.Second), ReadTimeout: Duration(3 * time.Second),
		ReadHeaderTimeout: Duration(4 * time.Second)}) {
		t.Errorf("http: %+v", c.HTTP)
	}
}

func TestClientLimitErrors(t *testing.T) {
	tests := []struct {
		name, toml string
		want       []string
	}{
		{"queue below payload", "[engine]\nmax_payload = 5000\nwrite_queue_bytes = 4000\n",
			[]string{"server.toml:3: engine.write_queue_bytes: must be at least engine.max_payload (5000), got 4000"}},
		{"queue below default payload", "[engine]\nwrite_queue_bytes = 4000\n",
			[]string{"server.toml:2: engine.write_queue_bytes: must be at least engine.max_payload (1000000)"}},
		{"negative queue", "[engine]\nwrite_queue_bytes = -1\n", []string{"server.toml:2: engine.write_queue_bytes: must be positive"}},
		{"negative write timeout", "[engine]\nwrite_timeout = \"-1s\"\n", []string{"server.toml:2: engine.write_timeout: must not be negative"}},
		{"negative header bytes", "[http]\nmax_header_bytes = -5\n", []string{"server.toml:2: http.max_header_bytes: must be positive"}},
		{"negative idle", "[http]\n\nidle_timeout = \"-2s\"\n", []string{"server.toml:3: http.idle_timeout: must not be negative"}},
		{"negative read", "[http]\nread_timeout = \"-2s\"\n", []string{"http.read_timeout: must not be negative"}},
		{"negative read header", "[http]\nread_header_timeout = \"-2s\"\n", []string{"http.read_header_timeout: must not be negative"}},
		{"unknown http key", "[http]\nwrite_timeout = \"1s\"\n", []string{"server.toml:2: http.write_timeout: unknown key"}},
		{"wildcard with credentials", "[cors]\norigins = [\"https://a.example\", \"*\"]\ncredentials = true\n",
			[]string{`server.toml:3: cors.credentials: cannot be true while cors.origins allows "*": any site could then make credentialed requests`}},
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
		})
	}
	// Credentials for origins listed by name are fine.
	if _, err := Parse("server.toml", []byte("[cors]\norigins = [\"https://a.example\"]\ncredentials = true\n")); err != nil {
		t.Fatal(err)
	}
}

func TestFixedChangesClientLimits(t *testing.T) {
	old, err := Parse("server.toml", nil)
	if err != nil {
		t.Fatal(err)
	}
	next, err := Parse("server.toml", []byte(`
[engine]
write_queue_bytes = 2000000
write_timeout = "1s"
[http]
max_header_bytes = 1024
idle_timeout = "1s"
read_timeout = "1s"
read_header_timeout = "1s"
`))
	if err != nil {
		t.Fatal(err)
	}
	want := "engine.write_queue_bytes,engine.write_timeout,http.max_header_bytes,http.idle_timeout,http.read_timeout,http.read_header_timeout"
	if got := strings.Join(FixedChanges(old, next), ","); got != want {
		t.Errorf("FixedChanges = %q, want %q", got, want)
	}
}

// [socketio]'s bounds parse, are checked and cannot change live.
func TestSocketIOLimits(t *testing.T) {
	c, err := Parse("server.toml", []byte("[socketio]\nmax_rooms_per_socket = 10\nmax_room_name = 20\nkeep_empty_namespaces = true\n"))
	if err != nil {
		t.Fatal(err)
	}
	if c.SocketIO.MaxRoomsPerSocket != 10 || c.SocketIO.MaxRoomName != 20 || !c.SocketIO.KeepEmptyNamespaces {
		t.Fatalf("%+v", c.SocketIO)
	}
	_, err = Parse("server.toml", []byte("[socketio]\nmax_dynamic_namespaces = -1\n"))
	if err == nil || !strings.Contains(err.Error(), "server.toml:2: socketio.max_dynamic_namespaces: must not be negative") {
		t.Fatalf("err = %v", err)
	}
	next := *c
	next.SocketIO.MaxRoomName = 30
	if got := FixedChanges(c, &next); len(got) != 1 || got[0] != "socketio.max_room_name" {
		t.Fatalf("FixedChanges = %v", got)
	}
}

func TestParser(t *testing.T) {
	c, err := Parse("server.toml", []byte(""))
	if err != nil || c.SocketIO.Parser != ParserJSON {
		t.Fatalf("default: %q, %v", c.SocketIO.Parser, err)
	}
	c, err = Parse("server.toml", []byte("[socketio]\nparser = \"msgpack\"\n"))
	if err != nil || c.SocketIO.Parser != ParserMsgpack {
		t.Fatalf("msgpack: %q, %v", c.SocketIO.Parser, err)
	}
	for _, tt := range []struct{ toml, want string }{
		{"[socketio]\nmax_attachments = 3\nparser = \"cbor\"\n", `server.toml:3: socketio.parser: unknown parser "cbor": want "json" or "msgpack"`},
		{"[socketio]\nparser = \"MsgPack\"\n", `server.toml:2: socketio.parser: unknown parser "MsgPack"`},
		{"[socketio]\nparser = 1\n", `server.toml`},
	} {
		if _, err := Parse("server.toml", []byte(tt.toml)); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%q: %v, want %q", tt.toml, err, tt.want)
		}
	}
}

func TestAdapterTable(t *testing.T) {
	c, err := Parse("server.toml", []byte(""))
	if err != nil || c.Adapter.Kind != AdapterMemory || c.Adapter.Key != "socket.io" || time.Duration(c.Adapter.RequestTimeout) != 5*time.Second {
		t.Fatalf("defaults: %+v, %v", c.Adapter, err)
	}
	c, err = Parse("server.toml", []byte("[adapter]\nkind = \"redis\"\nurl = \"rediss://u:p@r.example:6380/2\"\nkey = \"app\"\nrequest_timeout = \"2s\"\n"))
	if err != nil || c.Adapter.Kind != AdapterRedis || c.Adapter.Key != "app" || time.Duration(c.Adapter.RequestTimeout) != 2*time.Second {
		t.Fatalf("redis: %+v, %v", c.Adapter, err)
	}
	for _, tt := range []struct{ toml, want string }{
		{"[adapter]\nkind = \"etcd\"\n", `server.toml:2: adapter.kind: unknown adapter "etcd"`},
		{"[adapter]\nkind = \"redis-sharded\"\nurl = \"redis://r:6379\"\nsubscription_mode = \"lazy\"\n", `server.toml:4: adapter.subscription_mode: unknown mode "lazy"`},
		{"[adapter]\nkind = \"redis\"\n", `server.toml:1: adapter.url: want redis://`},
		{"[adapter]\nkind = \"redis\"\nurl = \"http://localhost:6379\"\n", `server.toml:3: adapter.url: want redis://`},
		{"[adapter]\nkey = \"a#b\"\n", `server.toml:2: adapter.key: "a#b": the channel prefix cannot hold`},
		{"[adapter]\nrequest_timeout = \"-1s\"\n", `server.toml:2: adapter.request_timeout: must not be negative`},
	} {
		if _, err := Parse("server.toml", []byte(tt.toml)); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%q: %v, want %q", tt.toml, err, tt.want)
		}
	}
}

// Errors name the line of the value at fault even when its key appears in
// several tables, in arrays of tables, in inline tables or in a
// multi-line string that looks like TOML.
func TestErrorLines(t *testing.T) {
	for _, tt := range []struct{ doc, want string }{
		{"[plugin.chat]\ncall_timeout = \"2s\"\n\n[plugins]\ncall_timeout = \"-1s\"\n",
			`server.toml:5: plugins.call_timeout: must not be negative`},
		{"[plugins]\ncall_timeout = \"2s\"\n[plugin.chat]\ncall_timeout = \"-1s\"\n",
			`server.toml:4: plugin.chat.call_timeout: must not be negative`},
		{"[plugin.chat]\ns = \"\"\"\ncall_timeout = \"-1s\"\n\"\"\"\n[plugin.chat.config]\n[plugin.echo]\ncall_timeout = \"-1s\"\n",
			`server.toml:2: plugin.chat.s: unknown key`},
		{"plugin.chat = { grants = [\"kv\"], call_timeout = \"-5s\" }\n",
			`server.toml:1: plugin.chat.call_timeout: must not be negative`},
		{"[[namespace]]\nname = \"/\"\nhandler = \"chat\"\n[[namespace]]\nname = \"/b\"\nhandler = \"bad name!\"\n",
			`server.toml:6: namespace[1].handler: invalid plugin name`},
		{"[[namespace]]\nname = \"/\"\nhandler = \"chat\"\n[[namespace]]\nname = \"/\"\nhandler = \"chat\"\n",
			`server.toml:5: namespace[1].name: namespace "/" is defined twice`},
		{"[[namespace]]\nname = \"/\"\nevents = { \"a**\" = \"chat\" }\n[[namespace]]\nname = \"/b\"\n[namespace.events]\n\"c**\" = \"chat\"\n",
			`server.toml:3: namespace[0].events.a**: invalid event pattern`},
		{"[[namespace]]\nname = \"/\"\nhandler = \"chat\"\n[[namespace]]\nname = \"/b\"\n[namespace.events]\n\"c**\" = \"chat\"\n",
			`server.toml:7: namespace[1].events.c**: invalid event pattern`},
		{"[[namespace]]\nname = \"/\"\nhandler = \"chat\"\nbogus = 1\n[[namespace]]\nname = \"/b\"\nhandler = \"chat\"\nbogus = 2\n",
			"server.toml:4: namespace.bogus: unknown key\nserver.toml:8: namespace.bogus: unknown key"},
		{"[engine]\nmax_payload = 20000000\n",
			`server.toml:2: engine.write_queue_bytes: must be at least engine.max_payload`},
		{"[[namespace]]\nname = \"/x\"\n",
			`server.toml:1: namespace[0]: namespace "/x" routes nothing`},
		{"listen = 5\n", `server.toml:1: listen: `},
		{"[metrics]\nlisten = \"nope\"\n", `server.toml:2: metrics.listen: invalid address "nope"`},
		{"[metrics]\npprof = true\n", `server.toml:2: metrics.pprof: needs metrics.listen`},
		{"[admin]\nenabled = true\n", `server.toml:1: admin.username: required`},
		{"[admin]\nenabled = true\nusername = \"a\"\npassword_hash = \"secret\"\n", `server.toml:4: admin.password_hash: is not a bcrypt hash`},
		{"[admin]\nenabled = true\nauth = false\nusername = \"a\"\n", `server.toml:3: admin.auth: is false while username`},
		{"[admin]\nmode = \"debug\"\n", `server.toml:2: admin.mode: unknown mode "debug"`},
		{"[admin]\nenabled = true\nauth = false\n[[namespace]]\nname = \"/admin\"\nhandler = \"chat\"\n",
			`server.toml:5: namespace[0].name: namespace "/admin" is the admin namespace`},
	} {
		_, err := Parse("server.toml", []byte(tt.doc))
		if err == nil || !strings.HasPrefix(err.Error(), tt.want) {
			t.Errorf("%q:\n got %v\nwant %s…", tt.doc, err, tt.want)
		}
	}
}

// Compare lists what a reload would change, and what needs a restart.
func TestCompare(t *testing.T) {
	parse := func(doc string) *Config {
		t.Helper()
		c, err := Parse("server.toml", []byte(doc))
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	old := parse(`
[plugins]
call_timeout = "1s"
[plugin.chat]
grants = ["kv"]
[[namespace]]
name = "/"
handler = "chat"
[[namespace]]
name = "/gone"
handler = "old"
[[namespace]]
name = "/same"
handler = "chat"
`)
	next := parse(`
listen = "127.0.0.1:4000"
[log]
level = "debug"
[plugins]
call_timeout = "2s"
[plugin.chat]
grants = ["kv"]
[[namespace]]
name = "/"
handler = "chat"
event_middleware = ["limit"]
[[namespace]]
name = "/new"
handler = "chat"
[[namespace]]
name = "/same"
handler = "chat"
`)
	c := Compare(old, next)
	want := []string{
		"namespaces added: /new",
		"namespaces removed (they refuse new connections; connected sockets stay): /gone",
		"routes changed: /",
		"plugins routed that were not: limit",
		"plugins no longer routed: old",
		"plugins rebuilt with new settings: chat, limit, old", // the [plugins] default changed
		"[log] changes (applied live)",
		"needs a restart (a reload is refused): listen",
	}
	if got := c.Lines(); !slices.Equal(got, want) {
		t.Errorf("Lines:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if c.Empty() || !Compare(old, old).Empty() {
		t.Error("Empty is wrong")
	}
}

// [engine]'s compression keys: defaults as the reference server's, values
// checked, and only a restart applies them.
func TestCompression(t *testing.T) {
	c, err := Parse("server.toml", nil)
	if err != nil {
		t.Fatal(err)
	}
	e := c.Engine
	if !e.HTTPCompression || e.HTTPCompressionThreshold != 1024 || e.PerMessageDeflate || e.PerMessageDeflateThreshold != 1024 {
		t.Fatalf("defaults: %+v", e)
	}
	if d := Default().Engine; d.HTTPCompression != e.HTTPCompression || d.HTTPCompressionThreshold != e.HTTPCompressionThreshold {
		t.Fatalf("Default(): %+v", d)
	}
	next, err := Parse("server.toml", []byte(`
[engine]
http_compression = false
http_compression_threshold = 1
per_message_deflate = true
per_message_deflate_threshold = 4096
`))
	if err != nil {
		t.Fatal(err)
	}
	e = next.Engine
	if e.HTTPCompression || e.HTTPCompressionThreshold != 1 || !e.PerMessageDeflate || e.PerMessageDeflateThreshold != 4096 {
		t.Fatalf("set: %+v", e)
	}
	want := "engine.http_compression,engine.http_compression_threshold,engine.per_message_deflate,engine.per_message_deflate_threshold"
	if got := strings.Join(FixedChanges(c, next), ","); got != want {
		t.Errorf("FixedChanges = %q, want %q", got, want)
	}
	for _, tt := range []struct{ toml, want string }{
		{"[engine]\n\nhttp_compression_threshold = -1\n", "server.toml:3: engine.http_compression_threshold: must not be negative, got -1"},
		{"[engine]\nper_message_deflate_threshold = -5\n", "server.toml:2: engine.per_message_deflate_threshold: must not be negative, got -5"},
		{"[engine]\nper_message_deflate = \"yes\"\n", "server.toml:2: engine.per_message_deflate"},
		{"[engine]\nhttp_compresion = true\n", "server.toml:2: engine.http_compresion: unknown key"},
	} {
		_, err := Parse("server.toml", []byte(tt.toml))
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%q: error %v, want %q", tt.toml, err, tt.want)
		}
	}
}
