package config

import (
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/BurntSushi/toml"
	"golang.org/x/crypto/bcrypt"

	"github.com/sockwasm/sockwasm/sdk/abi"
)

// Defaults of every setting a server.toml may leave out. They match the
// reference Socket.IO server's defaults where it has one.
const (
	DefaultListen         = "127.0.0.1:3000"
	DefaultPath           = "/socket.io/"
	DefaultPluginsDir     = "plugins"
	DefaultPingInterval   = 25 * time.Second
	DefaultPingTimeout    = 20 * time.Second
	DefaultMaxPayload     = 1_000_000
	DefaultUpgradeTimeout = 10 * time.Second
	DefaultWriteQueue     = 1024
	// DefaultCompressionThreshold is the smallest polling response and
	// WebSocket message compressed, the reference server's threshold.
	DefaultCompressionThreshold = 1024
	DefaultConnectTimeout       = 45 * time.Second
	DefaultShutdown             = 10 * time.Second
	// DefaultAdapterKey is the channel prefix of the Redis adapter, the
	// reference adapter's default.
	DefaultAdapterKey = "socket.io"
	// DefaultRequestTimeout bounds a request to the other nodes.
	DefaultRequestTimeout = 5 * time.Second
)

// Adapter kinds.
const (
	AdapterMemory       = "memory"
	AdapterRedis        = "redis"
	AdapterRedisSharded = "redis-sharded"
)

// Subscription modes of the sharded Redis adapter ([adapter]
// subscription_mode), the reference's subscriptionMode.
const (
	SubscriptionDynamic        = "dynamic"
	SubscriptionStatic         = "static"
	SubscriptionDynamicPrivate = "dynamic-private"
)

// Defaults of the limits that bound what one client can make the server
// hold: [engine] write_queue_bytes and write_timeout, and the [http] table.
const (
	// DefaultWriteQueueBytes bounds the bytes held for one client.
	DefaultWriteQueueBytes = 8 << 20
	// DefaultWriteTimeout bounds each write to a client.
	DefaultWriteTimeout = 10 * time.Second
	// DefaultMaxHeaderBytes bounds a request's target and headers, like
	// the reference server's 16 KB.
	DefaultMaxHeaderBytes = 16 << 10
	// DefaultIdleTimeout closes idle keep-alive connections, like Node's
	// keepAliveTimeout.
	DefaultIdleTimeout = 5 * time.Second
	// DefaultReadTimeout bounds reading a polling POST body.
	DefaultReadTimeout = 30 * time.Second
	// DefaultReadHeaderTimeout bounds reading a request's headers.
	DefaultReadHeaderTimeout = 10 * time.Second
)

// Grants a [plugin.NAME] table may list: the host capabilities a plugin
// must be granted before it may import them. A grant "emit:/nsp" (or
// "emit:/prefix-*") lets a plugin send into a namespace it does not serve.
const (
	// GrantKV is the per-plugin key-value store.
	GrantKV = "kv"
	// GrantTimers are one-shot and repeating timers.
	GrantTimers = "timers"
	// GrantHTTP is outbound HTTP to the URL prefixes of the plugin's
	// http_allow.
	GrantHTTP = "http"
)

// KnownGrants lists every capability a plugin can be granted.
func KnownGrants() []string { return []string{GrantHTTP, GrantKV, GrantTimers} }

// MaxRoomNameLen and friends bound what a configuration may ask for.
const (
	maxMemoryPages = 65536
	maxPoolSize    = 4096
	maxWriteQueue  = 1 << 20
	// maxHTTPConcurrent is the host's own bound (plugin.MaxHTTPConcurrent).
	maxHTTPConcurrent = 1024
)

// Duration is a time.Duration written as a Go duration string ("25s",
// "300ms") in server.toml.
type Duration time.Duration

// UnmarshalText implements encoding.TextUnmarshaler.
func (d *Duration) UnmarshalText(b []byte) error {
	v, err := time.ParseDuration(string(b))
	if err != nil {
		return fmt.Errorf("invalid duration %q (want e.g. \"25s\" or \"300ms\")", b)
	}
	*d = Duration(v)
	return nil
}

// MarshalText implements encoding.TextMarshaler.
func (d Duration) MarshalText() ([]byte, error) { return []byte(time.Duration(d).String()), nil }

// Config is a whole server.toml, with defaults applied and paths resolved.
type Config struct {
	// File is the path the configuration was read from ("" when built in).
	File string `toml:"-"`

	// Listen is the TCP address to serve on.
	Listen string `toml:"listen"`
	// Path is the Socket.IO endpoint path.
	Path string `toml:"path"`
	// PluginsDir holds the .wasm plugins; relative paths are relative to
	// the configuration file's folder.
	PluginsDir string `toml:"plugins_dir"`
	// StaticDir, when set, is served at "/" (a web page for the demo).
	// Relative paths are relative to the configuration file's folder.
	StaticDir string `toml:"static_dir"`
	// CacheDir holds the compiled-plugin cache, so a restart does not
	// compile unchanged plugins again. Default: the user's cache folder
	// ($XDG_CACHE_HOME/sockwasm); "off" disables it. After loading, ""
	// means disabled.
	CacheDir string `toml:"cache_dir"`
	// ShutdownTimeout bounds the drain on SIGTERM.
	ShutdownTimeout Duration `toml:"shutdown_timeout"`
	// Watch makes a running server watch the plugins folder and this file
	// and apply their changes live. Default true.
	Watch bool `toml:"watch"`
	// ReleaseIdleMemory returns the memory of a burst (a reconnect storm,
	// say) to the operating system once the server goes quiet, as V8's
	// memory reducer does for Node.js (package memreduce): one garbage
	// collection per burst, none while busy. Default true.
	ReleaseIdleMemory bool `toml:"release_idle_memory"`
	// ListenOverride is the listen address set on the command line, which
	// wins over Listen, also after a reload ("" for none).
	ListenOverride string `toml:"-"`

	Engine    Engine            `toml:"engine"`
	HTTP      HTTP              `toml:"http"`
	SocketIO  SocketIO          `toml:"socketio"`
	CORS      CORS              `toml:"cors"`
	Limits    PluginLimits      `toml:"plugins"`
	Plugins   map[string]Plugin `toml:"plugin"`
	Namespace []Namespace       `toml:"namespace"`
	Endpoints []EngineEndpoint  `toml:"engine_endpoint"`
	Log       Log               `toml:"log"`
	Adapter   Adapter           `toml:"adapter"`
	Metrics   Metrics           `toml:"metrics"`
	Admin     Admin             `toml:"admin"`
}

// Admin, the [admin] table, serves the official Socket.IO Admin UI
// (@socket.io/admin-ui 0.5.1) its namespace, as that package's
// instrument() does for a Node server (docs/OPERATIONS.md).
type Admin struct {
	// Enabled turns the admin namespace on. Default false.
	Enabled bool `toml:"enabled"`
	// Namespace is the admin namespace. Default "/admin".
	Namespace string `toml:"namespace"`
	// Auth set to false lets anyone who reaches the server connect to
	// the admin namespace: for a server on a developer's machine only.
	// Otherwise (the default) Username and PasswordHash are required.
	Auth *bool `toml:"auth"`
	// Username is the login the UI sends.
	Username string `toml:"username"`
	// PasswordHash is the bcrypt hash of the password ("$2a$", "$2b$" or
	// "$2y$", as `htpasswd -nbBC 10 "" PASSWORD` or bcryptjs make it).
	PasswordHash string `toml:"password_hash"`
	// ReadOnly refuses the UI's actions (emit, join, leave, disconnect):
	// it only watches.
	ReadOnly bool `toml:"readonly"`
	// Mode "development" (the default) sends the UI every socket and its
	// events as they happen; "production" sends only the aggregated
	// statistics, for large servers.
	Mode string `toml:"mode"`
	// ServerID names this node in the UI. Default: the host name.
	ServerID string `toml:"server_id"`
	// UIDir, when set, is a folder served at /admin/ on the server's
	// listener: the UI's built files (node_modules/@socket.io/admin-ui/ui/dist),
	// so the UI is on the server's own origin. Relative paths are
	// relative to the configuration file's folder.
	UIDir string `toml:"ui_dir"`
}

// Parsers (SocketIO.Parser).
const (
	ParserJSON    = "json"
	ParserMsgpack = "msgpack"
)

// Admin modes (Admin.Mode).
const (
	AdminDevelopment = "development"
	AdminProduction  = "production"
)

// AuthRequired reports whether the admin namespace asks for credentials
// (auth not set to false).
func (a Admin) AuthRequired() bool { return a.Auth == nil || *a.Auth }

// Metrics, the [metrics] table, is the operator's listener: Prometheus
// metrics at /metrics, and /healthz and /readyz for a load balancer.
type Metrics struct {
	// Listen is its address, host:port; empty (the default) turns it off.
	// It should not be reachable from the internet.
	Listen string `toml:"listen"`
	// Pprof also serves Go's profiler (net/http/pprof) at /debug/pprof/ on
	// that listener: CPU, heap, goroutine and other profiles of the live
	// process (docs/PERFORMANCE.md). Default false. A CPU profile costs
	// the server a few percent while it runs; the listener must stay
	// private.
	Pprof bool `toml:"pprof"`
}

// Adapter, the [adapter] table, says where rooms and broadcasts live: in
// this process (memory, the default), or shared with other nodes through
// Redis, wire-compatible with @socket.io/redis-adapter (docs/CLUSTER.md).
type Adapter struct {
	// Kind is "memory", "redis" (classic pub/sub, the reference's
	// createAdapter) or "redis-sharded" (Redis 7 sharded pub/sub, its
	// createShardedAdapter). Default "memory".
	Kind string `toml:"kind"`
	// URL locates Redis: redis://[user:password@]host:port/db, or
	// rediss:// for TLS. Required unless Kind is memory.
	URL string `toml:"url"`
	// Key is the channel prefix, the same on every node. Default
	// "socket.io".
	Key string `toml:"key"`
	// RequestTimeout bounds a request to the other nodes (fetchSockets,
	// server-side emits with acks, broadcasts with acks). Default 5s.
	RequestTimeout Duration `toml:"request_timeout"`
	// SubscriptionMode, for "redis-sharded": which rooms get a channel of
	// their own — "dynamic" (every room but the sockets' own; the
	// default), "static" (none: every message on the namespace's
	// channel) or "dynamic-private" (every room). The same on every node.
	SubscriptionMode string `toml:"subscription_mode"`
}

// Clustered reports whether the adapter shares rooms through Redis.
func (a Adapter) Clustered() bool { return a.Kind == AdapterRedis || a.Kind == AdapterRedisSharded }

// Engine holds the Engine.IO settings shared by every endpoint.
type Engine struct {
	PingInterval   Duration `toml:"ping_interval"`
	PingTimeout    Duration `toml:"ping_timeout"`
	MaxPayload     int64    `toml:"max_payload"`
	UpgradeTimeout Duration `toml:"upgrade_timeout"`
	WriteQueue     int      `toml:"write_queue"`
	// MaxSessions bounds the sessions open at once on each endpoint; a
	// handshake beyond it is answered 503. Default 100 000.
	MaxSessions int `toml:"max_sessions"`
	// WriteQueueBytes bounds the bytes held for one client: packets
	// queued plus those taken by its transport and not yet written. A
	// client that does not keep up is disconnected ("write queue full").
	// At least max_payload. Default 8 MiB.
	WriteQueueBytes int64 `toml:"write_queue_bytes"`
	// WriteTimeout bounds each write to a client (a WebSocket batch, an
	// HTTP response) and the flush of a graceful close. Default 10s.
	WriteTimeout Duration `toml:"write_timeout"`
	// HTTPCompression compresses polling responses of at least
	// HTTPCompressionThreshold bytes with gzip or deflate, whichever the
	// request's Accept-Encoding prefers, as the reference server's
	// httpCompression. Default true.
	HTTPCompression bool `toml:"http_compression"`
	// HTTPCompressionThreshold is the smallest polling response compressed,
	// in bytes; 0 takes the default, 1024.
	HTTPCompressionThreshold int `toml:"http_compression_threshold"`
	// PerMessageDeflate accepts the WebSocket permessage-deflate extension
	// from clients that offer it (browsers, the ws package), as the
	// reference server's perMessageDeflate: the messages it sends of at
	// least PerMessageDeflateThreshold bytes are compressed, and those
	// clients compressed inflated, each on its own (no
	// context takeover: an idle connection holds no compressor). Default
	// false, as in the reference server: it costs CPU on every large
	// message.
	PerMessageDeflate bool `toml:"per_message_deflate"`
	// PerMessageDeflateThreshold is the smallest WebSocket message the
	// server compresses, in bytes; 0 takes the default, 1024.
	PerMessageDeflateThreshold int `toml:"per_message_deflate_threshold"`
}

// HTTP, the [http] table, holds the limits of the HTTP server every
// endpoint shares.
type HTTP struct {
	// MaxHeaderBytes bounds a request's target and headers; larger
	// requests get 431. Default 16384.
	MaxHeaderBytes int `toml:"max_header_bytes"`
	// IdleTimeout closes a keep-alive connection idle this long. Default 5s.
	IdleTimeout Duration `toml:"idle_timeout"`
	// ReadTimeout bounds reading a polling POST body. Default 30s.
	ReadTimeout Duration `toml:"read_timeout"`
	// ReadHeaderTimeout bounds reading a request's headers. Default 10s.
	ReadHeaderTimeout Duration `toml:"read_header_timeout"`
}

// SocketIO holds the Socket.IO settings.
type SocketIO struct {
	// Parser is the packet format of every client: "json"
	// (socket.io-parser, the default) or "msgpack"
	// (socket.io-msgpack-parser 3.0.2, whose clients set parser:
	// require("socket.io-msgpack-parser")). It cannot change on reload.
	Parser string `toml:"parser"`
	// ConnectTimeout closes a session that joins no namespace in time.
	// Default 45s.
	ConnectTimeout Duration `toml:"connect_timeout"`
	// MaxAttachments bounds the binary attachments of one packet, both
	// ways. Default 10 (socket.io-parser's own bound).
	MaxAttachments int `toml:"max_attachments"`
	// MaxPendingAcks bounds, per socket, the acks and broadcasts with acks
	// awaiting answers. Default 1024.
	MaxPendingAcks int `toml:"max_pending_acks"`
	// MaxRoomsPerSocket bounds the rooms of one socket, its own id room
	// included. Default 256.
	MaxRoomsPerSocket int `toml:"max_rooms_per_socket"`
	// MaxRoomName bounds a room name in bytes. Default 256.
	MaxRoomName int `toml:"max_room_name"`
	// MaxNamespaceName bounds a namespace name in bytes. Default 256.
	MaxNamespaceName int `toml:"max_namespace_name"`
	// MaxDynamicNamespaces bounds the namespaces made from patterns that
	// exist at once. Default 10000.
	MaxDynamicNamespaces int `toml:"max_dynamic_namespaces"`
	// MaxSocketsPerSession bounds the namespaces one connection has
	// joined at once. Default 256.
	MaxSocketsPerSession int `toml:"max_sockets_per_session"`
	// MaxAuthBytes bounds the auth payloads of one connection's sockets
	// together. Default 1 MiB.
	MaxAuthBytes int `toml:"max_auth_bytes"`
	// MaxBroadcastAckBytes bounds the answers one broadcast with acks
	// holds until its last; answers beyond are dropped. Default 8 MiB.
	MaxBroadcastAckBytes int `toml:"max_broadcast_ack_bytes"`
	// KeepEmptyNamespaces keeps a namespace made from a pattern once its
	// last socket has left; by default it is removed with its rooms
	// (the reference server's cleanupEmptyChildNamespaces).
	KeepEmptyNamespaces bool `toml:"keep_empty_namespaces"`
}

// CORS configures cross-origin access to the polling transport.
type CORS struct {
	Origins     []string `toml:"origins"`
	Credentials bool     `toml:"credentials"`
}

// PluginLimits, the [plugins] table, are the limits of every plugin; a
// [plugin.NAME] table overrides them for one plugin with the same keys.
// Zero (left out) means the plugin host's default (host/plugin.Limits,
// where each is described; docs/SECURITY.md lists them all).
type PluginLimits struct {
	CallTimeout        Duration `toml:"call_timeout"`           // 1s
	MemoryPages        uint32   `toml:"memory_pages"`           // 1024 (64 MiB)
	MaxConcurrency     int      `toml:"max_concurrency"`        // the number of CPUs
	PoolSize           int      `toml:"pool_size"`              // max_concurrency+1
	MaxSocketData      int      `toml:"max_socket_data"`        // 65536
	MaxKVValue         int      `toml:"max_kv_value"`           // 65536
	MaxKVEntries       int      `toml:"max_kv_entries"`         // 100000
	MaxKVBytes         int      `toml:"max_kv_bytes"`           // 64 MiB
	MaxTimers          int      `toml:"max_timers"`             // 1000
	MaxSendsPerCall    int      `toml:"max_sends_per_call"`     // 1024
	MaxEmitBytes       int      `toml:"max_emit_bytes"`         // 8 MiB
	MaxDeferredPerCall int      `toml:"max_deferred_per_call"`  // 64
	MaxCallChain       int      `toml:"max_call_chain"`         // 16
	MaxAckContext      int      `toml:"max_ack_context"`        // 65536
	MaxPendingAckBytes int      `toml:"max_pending_ack_bytes"`  // 16 MiB
	MaxLogBytesPerCall int      `toml:"max_log_bytes_per_call"` // 65536
	LogLinesPerSecond  int      `toml:"log_lines_per_second"`   // 100
	MaxModuleBytes     int      `toml:"max_module_bytes"`       // 32 MiB
	MaxFunctions       int      `toml:"max_functions"`          // 100000
	MaxGlobals         int      `toml:"max_globals"`            // 100000
	MaxLocals          int      `toml:"max_locals"`             // 1000000
	MaxFunctionBytes   int      `toml:"max_function_bytes"`     // 1 MiB
	MaxTableElements   int      `toml:"max_table_elements"`     // 100000
	CompileTimeout     Duration `toml:"compile_timeout"`        // 30s
	MaxCompileMemory   int64    `toml:"max_compile_memory"`     // 4 GiB of address space

	MaxHTTPConcurrent    int      `toml:"max_http_concurrent"`     // 16 outbound requests in flight
	HTTPTimeout          Duration `toml:"http_timeout"`            // 10s per outbound request
	MaxHTTPResponseBytes int      `toml:"max_http_response_bytes"` // 1 MiB of response body
	MaxHTTPRequestBytes  int      `toml:"max_http_request_bytes"`  // 1 MiB of request body
}

// over returns l with the non-zero values of o.
func (l PluginLimits) over(o PluginLimits) PluginLimits {
	lv, ov := reflect.ValueOf(&l).Elem(), reflect.ValueOf(o)
	for i := range lv.NumField() {
		if f := ov.Field(i); !f.IsZero() {
			lv.Field(i).Set(f)
		}
	}
	return l
}

// Plugin is a [plugin.NAME] table: the grants, limits and configuration
// of one plugin. Limits left out (zero) take the [plugins] value.
type Plugin struct {
	// Grants lists the capabilities the plugin may import (KnownGrants),
	// and "emit:/nsp" grants to send into namespaces it does not serve.
	Grants []string `toml:"grants"`
	// PluginLimits override [plugins] for this plugin.
	PluginLimits
	// Config is the [plugin.NAME.config] table, handed to the plugin as
	// JSON by its init export.
	Config map[string]any `toml:"config"`
	// Source is the plugin's source folder, which `sockwasm dev` builds
	// into plugins_dir/NAME.wasm when it changes (Go, AssemblyScript, C
	// or Rust). Relative paths are relative to the configuration file's
	// folder. The server itself never reads it.
	Source string `toml:"source"`
	// HTTPAllow are the URL prefixes the plugin may request with the
	// "http" grant: absolute http:// or https:// URLs, matched by scheme,
	// host, port and path prefix (sdk/ABI.md, section 4.6).
	HTTPAllow []string `toml:"http_allow"`
}

// PluginSettings are the settings one plugin runs with: its [plugin.NAME]
// table completed from [plugins].
type PluginSettings struct {
	Grants []string
	Config []byte // the [plugin.NAME.config] table as a JSON object; nil when absent
	// Limits are [plugins] overridden by [plugin.NAME]; zero fields take
	// the plugin host's defaults.
	Limits PluginLimits
	// HTTPAllow is the plugin's http_allow, as written.
	HTTPAllow []string
}

// PluginSettings returns the settings of plugin name. A plugin without a
// [plugin.NAME] table gets the [plugins] limits and no grants.
func (c *Config) PluginSettings(name string) PluginSettings {
	p := c.Plugins[name]
	s := PluginSettings{Limits: c.Limits.over(p.PluginLimits)}
	if len(p.Grants) > 0 {
		s.Grants = append([]string(nil), p.Grants...)
		sort.Strings(s.Grants)
	}
	if p.Config != nil {
		s.Config, _ = json.Marshal(p.Config) // validated by Parse
	}
	if len(p.HTTPAllow) > 0 {
		s.HTTPAllow = append([]string(nil), p.HTTPAllow...)
	}
	return s
}

// Namespace routes one Socket.IO namespace to plugins.
type Namespace struct {
	// Name is the namespace, e.g. "/" or "/chat". A name ending in "*"
	// (e.g. "/tenant-*") is a dynamic namespace: it serves every namespace
	// that starts with the part before the "*", each with its own rooms.
	// An exact name wins over a pattern, a longer pattern over a shorter.
	Name string `toml:"name"`
	// Middleware lists connection middleware plugins, run in order.
	Middleware []string `toml:"middleware"`
	// EventMiddleware lists event middleware plugins, run in order on every
	// event before its handler (the reference server's socket.use).
	EventMiddleware []string `toml:"event_middleware"`
	// Handler receives events without a route of their own, and the
	// connect and disconnect of every socket.
	Handler string `toml:"handler"`
	// Events maps an event name, or a prefix pattern ending in "*"
	// ("chat:*"), to the plugin that handles it. An exact name wins over a
	// pattern, a longer pattern over a shorter.
	Events map[string]string `toml:"events"`
}

// IsPattern reports whether a namespace or event name is a prefix pattern
// (ends in "*").
func IsPattern(name string) bool { return strings.HasSuffix(name, "*") }

// EngineEndpoint serves a bare Engine.IO endpoint (no Socket.IO layer)
// with a plugin.
type EngineEndpoint struct {
	Path   string `toml:"path"`
	Plugin string `toml:"plugin"`
}

// Log configures logging.
type Log struct {
	// Level is one of trace, debug, info, warn, error.
	Level string `toml:"level"`
	// Format is "console" or "json".
	Format string `toml:"format"`
	// Levels of one component each (LogComponents), like DEBUG=engine* for
	// the reference server; "" (the default) is Level. The environment
	// variable SOCKWASM_DEBUG=engine,plugin (or *) sets components to
	// debug without editing the file.
	Engine  string `toml:"engine"`
	Socket  string `toml:"socket"`
	Plugin  string `toml:"plugin"`
	Router  string `toml:"router"`
	Adapter string `toml:"adapter"`
	Reload  string `toml:"reload"`
}

// LogComponents are the components whose lines carry
// "component":NAME and whose level [log] can set: Engine.IO sessions and
// transports, Socket.IO sockets and namespaces, the plugin host and the
// plugins' own lines, the routing of events, the cluster adapter, reloads
// and the watcher.
var LogComponents = []string{"engine", "socket", "plugin", "router", "adapter", "reload"}

// ComponentLevel returns the level set for component name ("" when it
// follows Level).
func (l Log) ComponentLevel(name string) string {
	switch name {
	case "engine":
		return l.Engine
	case "socket":
		return l.Socket
	case "plugin":
		return l.Plugin
	case "router":
		return l.Router
	case "adapter":
		return l.Adapter
	case "reload":
		return l.Reload
	}
	return ""
}

// Error is one problem in a configuration, with its place.
type Error struct {
	File string
	Line int // 0 when unknown
	Key  string
	Msg  string
}

// Error formats the problem as file:line: key: message.
func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.File)
	if e.Line > 0 {
		fmt.Fprintf(&b, ":%d", e.Line)
	}
	b.WriteString(": ")
	if e.Key != "" {
		b.WriteString(e.Key)
		b.WriteString(": ")
	}
	b.WriteString(e.Msg)
	return b.String()
}

// Errors is every problem found in one configuration.
type Errors []*Error

// Error lists every problem, one a line.
func (es Errors) Error() string {
	s := make([]string, len(es))
	for i, e := range es {
		s[i] = e.Error()
	}
	return strings.Join(s, "\n")
}

// decodeError is how BurntSushi/toml words a value that does not fit its
// field.
var decodeError = regexp.MustCompile(`^toml: line (\d+) \(last key "(.*)"\): (.*)$`)

// Load reads, validates and completes the configuration in file.
func Load(file string) (*Config, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	return Parse(file, data)
}

// Parse validates and completes a configuration read from file.
func Parse(file string, data []byte) (*Config, error) {
	var c Config
	md, err := toml.Decode(string(data), &c)
	ps := newPositions(data)
	if err != nil {
		var pe toml.ParseError
		if errors.As(err, &pe) {
			return nil, Errors{{File: file, Line: min(max(pe.Position.Line, 1), ps.lines()), Key: pe.LastKey, Msg: pe.Message}}
		}
		// A value of the wrong type: "toml: line N (last key "k"): …".
		e := &Error{File: file, Line: 1, Msg: strings.TrimPrefix(err.Error(), "toml: ")}
		if m := decodeError.FindStringSubmatch(err.Error()); m != nil {
			n, _ := strconv.Atoi(m[1])
			e.Line, e.Key, e.Msg = min(max(n, 1), ps.lines()), m[2], m[3]
		}
		return nil, Errors{e}
	}
	c.File = file
	if !md.IsDefined("watch") {
		c.Watch = true
	}
	if !md.IsDefined("release_idle_memory") {
		c.ReleaseIdleMemory = true
	}
	if !md.IsDefined("engine", "http_compression") {
		c.Engine.HTTPCompression = true
	}
	var errs Errors
	nth := map[string]int{} // occurrences of each undecoded key so far
	for _, k := range md.Undecoded() {
		if len(k) > 3 && k[0] == "plugin" && k[2] == "config" {
			continue // inside a plugin's own configuration: any key goes
		}
		// Undecoded keys come without array indices, in document order:
		// the nth one of a name is its nth place.
		plain := strings.Join(k, sep)
		line := 0
		if lines := ps.plain[plain]; nth[plain] < len(lines) {
			line = lines[nth[plain]]
		}
		nth[plain]++
		errs = append(errs, &Error{File: file, Line: line, Key: k.String(), Msg: "unknown key"})
	}
	c.applyDefaults()
	errs = append(errs, c.validate(ps)...)
	for _, e := range errs {
		if e.Line < 1 { // a place the index could not find: the document's start
			e.Line = 1
		}
	}
	if len(errs) > 0 {
		return nil, errs
	}
	return &c, nil
}

// Default returns the built-in configuration: every default, no
// namespaces beyond what the caller adds.
func Default() *Config {
	c := &Config{Watch: true, ReleaseIdleMemory: true, Engine: Engine{HTTPCompression: true}}
	c.applyDefaults()
	return c
}

func (c *Config) applyDefaults() {
	setStr := func(p *string, v string) {
		if *p == "" {
			*p = v
		}
	}
	setDur := func(p *Duration, v time.Duration) {
		if *p == 0 {
			*p = Duration(v)
		}
	}
	setStr(&c.Listen, DefaultListen)
	setStr(&c.Path, DefaultPath)
	setStr(&c.PluginsDir, DefaultPluginsDir)
	setStr(&c.Log.Level, "info")
	setStr(&c.Log.Format, "console")
	setDur(&c.ShutdownTimeout, DefaultShutdown)
	setDur(&c.Engine.PingInterval, DefaultPingInterval)
	setDur(&c.Engine.PingTimeout, DefaultPingTimeout)
	setDur(&c.Engine.UpgradeTimeout, DefaultUpgradeTimeout)
	setDur(&c.Engine.WriteTimeout, DefaultWriteTimeout)
	setDur(&c.HTTP.IdleTimeout, DefaultIdleTimeout)
	setDur(&c.HTTP.ReadTimeout, DefaultReadTimeout)
	setDur(&c.HTTP.ReadHeaderTimeout, DefaultReadHeaderTimeout)
	if c.Engine.WriteQueueBytes == 0 {
		c.Engine.WriteQueueBytes = DefaultWriteQueueBytes
	}
	if c.HTTP.MaxHeaderBytes == 0 {
		c.HTTP.MaxHeaderBytes = DefaultMaxHeaderBytes
	}
	setDur(&c.SocketIO.ConnectTimeout, DefaultConnectTimeout)
	setStr(&c.SocketIO.Parser, ParserJSON)
	setStr(&c.Adapter.Kind, AdapterMemory)
	setStr(&c.Adapter.Key, DefaultAdapterKey)
	setStr(&c.Adapter.SubscriptionMode, SubscriptionDynamic)
	setDur(&c.Adapter.RequestTimeout, DefaultRequestTimeout)
	setStr(&c.Admin.Namespace, "/admin")
	setStr(&c.Admin.Mode, AdminDevelopment)
	if c.Engine.MaxPayload == 0 {
		c.Engine.MaxPayload = DefaultMaxPayload
	}
	if c.Engine.WriteQueue == 0 {
		c.Engine.WriteQueue = DefaultWriteQueue
	}
	if c.Engine.HTTPCompressionThreshold == 0 {
		c.Engine.HTTPCompressionThreshold = DefaultCompressionThreshold
	}
	if c.Engine.PerMessageDeflateThreshold == 0 {
		c.Engine.PerMessageDeflateThreshold = DefaultCompressionThreshold
	}
	dir := "."
	if c.File != "" {
		dir = filepath.Dir(c.File)
	}
	c.PluginsDir = resolve(dir, c.PluginsDir)
	if c.StaticDir != "" {
		c.StaticDir = resolve(dir, c.StaticDir)
	}
	if c.Admin.UIDir != "" {
		c.Admin.UIDir = resolve(dir, c.Admin.UIDir)
	}
	for n, p := range c.Plugins {
		if p.Source != "" {
			p.Source = resolve(dir, p.Source)
			c.Plugins[n] = p
		}
	}
	switch c.CacheDir {
	case "off":
		c.CacheDir = ""
	case "":
		if d, err := os.UserCacheDir(); err == nil {
			c.CacheDir = filepath.Join(d, "sockwasm")
		}
	default:
		c.CacheDir = resolve(dir, c.CacheDir)
	}
}

// validateAdmin checks [admin]: an enabled admin namespace must say how
// it is protected, with a valid bcrypt hash, as @socket.io/admin-ui
// insists.
func (c *Config) validateAdmin(bad func(key, format string, args ...any)) {
	a := c.Admin
	if a.Namespace == "" || a.Namespace[0] != '/' || strings.ContainsAny(a.Namespace, ",* ") {
		bad("admin.namespace", "invalid namespace %q: want e.g. \"/admin\"", a.Namespace)
	}
	if a.Mode != AdminDevelopment && a.Mode != AdminProduction {
		bad("admin.mode", "unknown mode %q: want %q or %q", a.Mode, AdminDevelopment, AdminProduction)
	}
	if !a.Enabled {
		return
	}
	if !a.AuthRequired() {
		if a.Username != "" || a.PasswordHash != "" {
			bad("admin.auth", "is false while username or password_hash is set: remove them, or remove auth = false")
		}
		return
	}
	if a.Username == "" {
		bad("admin.username", "required: set username and password_hash, or auth = false for a server only you can reach")
	}
	if a.PasswordHash == "" {
		bad("admin.password_hash", "required: the bcrypt hash of the password (htpasswd -nbBC 10 \"\" PASSWORD | cut -c2-), or auth = false")
	} else if _, err := bcrypt.Cost([]byte(a.PasswordHash)); err != nil {
		bad("admin.password_hash", "is not a bcrypt hash (%v): want e.g. \"$2b$10$...\" (60 characters)", err)
	}
}

func resolve(dir, p string) string {
	if filepath.IsAbs(p) {
		return p
	}
	return filepath.Join(dir, p)
}

var pluginName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]*$`)

func (c *Config) validate(ps *positions) Errors {
	var errs Errors
	// at reports a problem with the value at path (or, when the document
	// does not set it, the nearest table that would hold it), named key.
	at := func(path []string, key, format string, args ...any) {
		errs = append(errs, &Error{File: c.File, Line: ps.line(path...), Key: key, Msg: fmt.Sprintf(format, args...)})
	}
	bad := func(key, format string, args ...any) { at(keyPath(key), key, format, args...) }
	if _, _, err := net.SplitHostPort(c.Listen); err != nil {
		bad("listen", "invalid address %q: want host:port", c.Listen)
	}
	if c.Metrics.Listen != "" {
		if _, _, err := net.SplitHostPort(c.Metrics.Listen); err != nil {
			bad("metrics.listen", "invalid address %q: want host:port, or \"\" for none", c.Metrics.Listen)
		}
	}
	if c.Metrics.Pprof && c.Metrics.Listen == "" {
		bad("metrics.pprof", "needs metrics.listen: the profiler is served on the operator's listener")
	}
	c.validateAdmin(bad)
	checkPath := func(key, p string) {
		if !strings.HasPrefix(p, "/") || !strings.HasSuffix(p, "/") || strings.ContainsAny(p, "?# ") {
			bad(key, "invalid path %q: want an absolute path ending in /, e.g. \"/socket.io/\"", p)
		}
	}
	checkPath("path", c.Path)
	pos := func(key string, d Duration) {
		if d < 0 {
			bad(key, "must not be negative, got %s", time.Duration(d))
		}
	}
	pos("engine.ping_interval", c.Engine.PingInterval)
	pos("engine.ping_timeout", c.Engine.PingTimeout)
	pos("engine.upgrade_timeout", c.Engine.UpgradeTimeout)
	pos("engine.write_timeout", c.Engine.WriteTimeout)
	pos("http.idle_timeout", c.HTTP.IdleTimeout)
	pos("http.read_timeout", c.HTTP.ReadTimeout)
	pos("http.read_header_timeout", c.HTTP.ReadHeaderTimeout)
	if c.Engine.MaxSessions < 0 {
		bad("engine.max_sessions", "must not be negative, got %d", c.Engine.MaxSessions)
	}
	if c.HTTP.MaxHeaderBytes < 0 {
		bad("http.max_header_bytes", "must be positive, got %d", c.HTTP.MaxHeaderBytes)
	}
	switch {
	case c.Engine.WriteQueueBytes < 0:
		bad("engine.write_queue_bytes", "must be positive, got %d", c.Engine.WriteQueueBytes)
	case c.Engine.WriteQueueBytes < c.Engine.MaxPayload:
		path := keyPath("engine.write_queue_bytes")
		if !ps.has(path...) { // the default, too small for the max_payload set
			path = keyPath("engine.max_payload")
		}
		at(path, "engine.write_queue_bytes", "must be at least engine.max_payload (%d), got %d: a message of the largest size must fit",
			c.Engine.MaxPayload, c.Engine.WriteQueueBytes)
	}
	if c.CORS.Credentials && slicesContains(c.CORS.Origins, "*") {
		bad("cors.credentials", `cannot be true while cors.origins allows "*": any site could then make credentialed `+
			`requests (with its visitors' cookies) to this server; list the allowed origins instead`)
	}
	pos("socketio.connect_timeout", c.SocketIO.ConnectTimeout)
	switch c.SocketIO.Parser {
	case ParserJSON, ParserMsgpack:
	default:
		bad("socketio.parser", `unknown parser %q: want "json" or "msgpack"`, c.SocketIO.Parser)
	}
	switch c.Adapter.Kind {
	case AdapterMemory:
	case AdapterRedis, AdapterRedisSharded:
		if u, err := url.Parse(c.Adapter.URL); c.Adapter.URL == "" || err != nil || (u.Scheme != "redis" && u.Scheme != "rediss") || u.Host == "" {
			bad("adapter.url", "want redis://[user:password@]host:port/db (or rediss:// for TLS) with adapter.kind = %q, got %q", c.Adapter.Kind, c.Adapter.URL)
		}
	default:
		bad("adapter.kind", `unknown adapter %q: want "memory", "redis" or "redis-sharded"`, c.Adapter.Kind)
	}
	switch c.Adapter.SubscriptionMode {
	case SubscriptionDynamic, SubscriptionStatic, SubscriptionDynamicPrivate:
	default:
		bad("adapter.subscription_mode", `unknown mode %q: want "dynamic", "static" or "dynamic-private"`, c.Adapter.SubscriptionMode)
	}
	if strings.ContainsAny(c.Adapter.Key, "#*?[]") {
		bad("adapter.key", "%q: the channel prefix cannot hold # * ? [ ]", c.Adapter.Key)
	}
	pos("adapter.request_timeout", c.Adapter.RequestTimeout)
	for _, l := range []struct {
		key string
		v   int
	}{
		{"max_attachments", c.SocketIO.MaxAttachments}, {"max_pending_acks", c.SocketIO.MaxPendingAcks},
		{"max_rooms_per_socket", c.SocketIO.MaxRoomsPerSocket}, {"max_room_name", c.SocketIO.MaxRoomName},
		{"max_namespace_name", c.SocketIO.MaxNamespaceName}, {"max_dynamic_namespaces", c.SocketIO.MaxDynamicNamespaces},
		{"max_sockets_per_session", c.SocketIO.MaxSocketsPerSession}, {"max_auth_bytes", c.SocketIO.MaxAuthBytes},
		{"max_broadcast_ack_bytes", c.SocketIO.MaxBroadcastAckBytes},
	} {
		if l.v < 0 {
			bad("socketio."+l.key, "must not be negative, got %d", l.v)
		}
	}
	pos("shutdown_timeout", c.ShutdownTimeout)
	if c.Engine.MaxPayload < 0 {
		bad("engine.max_payload", "must be positive, got %d", c.Engine.MaxPayload)
	}
	if c.Engine.WriteQueue < 0 || c.Engine.WriteQueue > maxWriteQueue {
		bad("engine.write_queue", "must be between 1 and %d, got %d", maxWriteQueue, c.Engine.WriteQueue)
	}
	if c.Engine.HTTPCompressionThreshold < 0 {
		bad("engine.http_compression_threshold", "must not be negative, got %d", c.Engine.HTTPCompressionThreshold)
	}
	if c.Engine.PerMessageDeflateThreshold < 0 {
		bad("engine.per_message_deflate_threshold", "must not be negative, got %d", c.Engine.PerMessageDeflateThreshold)
	}
	checkLimits(c.Limits, func(key, format string, args ...any) { bad("plugins."+key, format, args...) })
	names := make([]string, 0, len(c.Plugins))
	for name := range c.Plugins {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		p := c.Plugins[name]
		table := "plugin." + name
		inPlugin := func(key, format string, args ...any) {
			at([]string{"plugin", name, key}, table+"."+key, format, args...)
		}
		if !pluginName.MatchString(name) {
			at([]string{"plugin", name}, table, "invalid plugin name %q: want the .wasm file name without extension", name)
		}
		seenGrant := map[string]bool{}
		for _, g := range p.Grants {
			if err := abi.CheckGrant(g); err != nil {
				inPlugin("grants", "%v", err)
			} else if seenGrant[g] {
				inPlugin("grants", "capability %q is granted twice", g)
			}
			seenGrant[g] = true
		}
		for _, e := range p.HTTPAllow {
			if _, err := abi.ParseHTTPAllow(e); err != nil {
				inPlugin("http_allow", "%v", err)
			}
		}
		switch {
		case len(p.HTTPAllow) > 0 && !seenGrant[GrantHTTP]:
			inPlugin("http_allow", "is set but the plugin is not granted %q: add it to grants", GrantHTTP)
		case len(p.HTTPAllow) == 0 && seenGrant[GrantHTTP]:
			inPlugin("grants", "%q is granted but http_allow is empty, so every request would be refused: "+
				"list the URL prefixes the plugin may request, e.g. http_allow = [\"https://auth.example.com/\"]", GrantHTTP)
		}
		checkLimits(p.PluginLimits, inPlugin)
		if p.Config != nil {
			if _, err := json.Marshal(p.Config); err != nil {
				inPlugin("config", "cannot be handed to the plugin as JSON: %v", err)
			}
		}
	}
	for _, o := range c.CORS.Origins {
		if o == "" {
			bad("cors.origins", "empty origin")
		}
	}
	switch c.Log.Level {
	case "trace", "debug", "info", "warn", "error":
	default:
		bad("log.level", "unknown level %q (trace, debug, info, warn, error)", c.Log.Level)
	}
	for _, comp := range LogComponents {
		switch lvl := c.Log.ComponentLevel(comp); lvl {
		case "", "trace", "debug", "info", "warn", "error":
		default:
			bad("log."+comp, "unknown level %q (trace, debug, info, warn, error)", lvl)
		}
	}
	switch c.Log.Format {
	case "console", "json":
	default:
		bad("log.format", "unknown format %q (console, json)", c.Log.Format)
	}
	checkPlugin := func(key, name string) {
		if !pluginName.MatchString(name) {
			bad(key, "invalid plugin name %q: want the .wasm file name without extension", name)
		}
	}
	seen := map[string]bool{}
	for i, n := range c.Namespace {
		key := fmt.Sprintf("namespace[%d]", i)
		nsBad := func(k, format string, args ...any) {
			if k == "" {
				at([]string{"namespace", indexPart(i)}, key, format, args...)
				return
			}
			at([]string{"namespace", indexPart(i), k}, key+"."+k, format, args...)
		}
		switch {
		case n.Name == "" || n.Name[0] != '/' || strings.ContainsAny(n.Name, ", "):
			nsBad("name", "invalid namespace %q: want e.g. \"/\", \"/chat\" or the pattern \"/tenant-*\"", n.Name)
		case strings.Contains(strings.TrimSuffix(n.Name, "*"), "*"):
			nsBad("name", "invalid namespace %q: \"*\" may only end a pattern", n.Name)
		case seen[n.Name]:
			nsBad("name", "namespace %q is defined twice", n.Name)
		case c.Admin.Enabled && n.Name == c.Admin.Namespace:
			nsBad("name", "namespace %q is the admin namespace ([admin] namespace): choose another name", n.Name)
		}
		seen[n.Name] = true
		for _, m := range n.Middleware {
			if !pluginName.MatchString(m) {
				nsBad("middleware", "invalid plugin name %q: want the .wasm file name without extension", m)
			}
		}
		for _, m := range n.EventMiddleware {
			if !pluginName.MatchString(m) {
				nsBad("event_middleware", "invalid plugin name %q: want the .wasm file name without extension", m)
			}
		}
		if n.Handler != "" && !pluginName.MatchString(n.Handler) {
			nsBad("handler", "invalid plugin name %q: want the .wasm file name without extension", n.Handler)
		}
		events := make([]string, 0, len(n.Events))
		for ev := range n.Events {
			events = append(events, ev)
		}
		sort.Strings(events)
		for _, ev := range events {
			evBad := func(format string, args ...any) {
				at([]string{"namespace", indexPart(i), "events", ev}, key+".events."+ev, format, args...)
			}
			switch {
			case ev == "":
				evBad("empty event name")
			case strings.Contains(strings.TrimSuffix(ev, "*"), "*"):
				evBad("invalid event pattern %q: \"*\" may only end a pattern", ev)
			}
			if !pluginName.MatchString(n.Events[ev]) {
				evBad("invalid plugin name %q: want the .wasm file name without extension", n.Events[ev])
			}
		}
		if n.Handler == "" && len(n.Events) == 0 && len(n.Middleware) == 0 {
			nsBad("", "namespace %q routes nothing: set handler, events or middleware", n.Name)
		}
	}
	paths := map[string]bool{c.Path: true}
	for i, e := range c.Endpoints {
		key := fmt.Sprintf("engine_endpoint[%d]", i)
		checkPath(key+".path", e.Path)
		if paths[e.Path] {
			bad(key+".path", "path %q is already served", e.Path)
		}
		paths[e.Path] = true
		checkPlugin(key+".plugin", e.Plugin)
	}
	return errs
}

// checkLimits reports, through bad, the limits of l that are out of range:
// negative, or above what the host can give.
func checkLimits(l PluginLimits, bad func(key, format string, args ...any)) {
	v := reflect.ValueOf(l)
	for i := range v.NumField() {
		key := strings.TrimSuffix(v.Type().Field(i).Tag.Get("toml"), ",omitempty")
		switch f := v.Field(i); f.Kind() {
		case reflect.Int, reflect.Int64:
			if f.Int() < 0 {
				if d, ok := f.Interface().(Duration); ok {
					bad(key, "must not be negative, got %s", time.Duration(d))
				} else {
					bad(key, "must not be negative, got %d", f.Int())
				}
			}
		}
	}
	if l.MemoryPages > maxMemoryPages {
		bad("memory_pages", "must be at most %d (4 GiB), got %d", maxMemoryPages, l.MemoryPages)
	}
	if l.PoolSize > maxPoolSize {
		bad("pool_size", "must be at most %d, got %d", maxPoolSize, l.PoolSize)
	}
	if l.MaxConcurrency > maxPoolSize {
		bad("max_concurrency", "must be at most %d, got %d", maxPoolSize, l.MaxConcurrency)
	}
	if l.MaxHTTPConcurrent > maxHTTPConcurrent {
		bad("max_http_concurrent", "must be at most %d, got %d", maxHTTPConcurrent, l.MaxHTTPConcurrent)
	}
}

// PluginNames returns the names of every plugin the configuration routes to,
// sorted and without duplicates.
func (c *Config) PluginNames() []string {
	set := map[string]bool{}
	for _, n := range c.Namespace {
		for _, m := range n.Middleware {
			set[m] = true
		}
		for _, m := range n.EventMiddleware {
			set[m] = true
		}
		if n.Handler != "" {
			set[n.Handler] = true
		}
		for _, p := range n.Events {
			set[p] = true
		}
	}
	for _, e := range c.Endpoints {
		set[e.Plugin] = true
	}
	out := make([]string, 0, len(set))
	for p := range set {
		out = append(out, p)
	}
	sort.Strings(out)
	return out
}

func slicesContains(s []string, v string) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}
