package config

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/BurntSushi/toml"
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
	DefaultConnectTimeout = 45 * time.Second
	DefaultCallTimeout    = time.Second
	DefaultMemoryPages    = 1024
	DefaultShutdown       = 10 * time.Second
)

// MaxRoomNameLen and friends bound what a configuration may ask for.
const (
	maxMemoryPages = 65536
	maxPoolSize    = 4096
	maxWriteQueue  = 1 << 20
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

	Engine    Engine           `toml:"engine"`
	SocketIO  SocketIO         `toml:"socketio"`
	CORS      CORS             `toml:"cors"`
	Limits    PluginLimits     `toml:"plugins"`
	Namespace []Namespace      `toml:"namespace"`
	Endpoints []EngineEndpoint `toml:"engine_endpoint"`
	Log       Log              `toml:"log"`
}

// Engine holds the Engine.IO settings shared by every endpoint.
type Engine struct {
	PingInterval   Duration `toml:"ping_interval"`
	PingTimeout    Duration `toml:"ping_timeout"`
	MaxPayload     int64    `toml:"max_payload"`
	UpgradeTimeout Duration `toml:"upgrade_timeout"`
	WriteQueue     int      `toml:"write_queue"`
}

// SocketIO holds the Socket.IO settings.
type SocketIO struct {
	ConnectTimeout Duration `toml:"connect_timeout"`
}

// CORS configures cross-origin access to the polling transport.
type CORS struct {
	Origins     []string `toml:"origins"`
	Credentials bool     `toml:"credentials"`
}

// PluginLimits applies to every plugin.
type PluginLimits struct {
	CallTimeout Duration `toml:"call_timeout"`
	MemoryPages uint32   `toml:"memory_pages"`
	PoolSize    int      `toml:"pool_size"`
}

// Namespace routes one Socket.IO namespace to plugins.
type Namespace struct {
	// Name is the namespace, e.g. "/" or "/chat".
	Name string `toml:"name"`
	// Middleware lists connection middleware plugins, run in order.
	Middleware []string `toml:"middleware"`
	// Handler receives events without a route of their own, and the
	// connect and disconnect of every socket.
	Handler string `toml:"handler"`
	// Events maps an event name to the plugin that handles it.
	Events map[string]string `toml:"events"`
}

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
	if err != nil {
		var pe toml.ParseError
		if errors.As(err, &pe) {
			return nil, Errors{{File: file, Line: pe.Position.Line, Key: pe.LastKey, Msg: pe.Message}}
		}
		return nil, Errors{{File: file, Msg: strings.TrimPrefix(err.Error(), "toml: ")}}
	}
	c.File = file
	var errs Errors
	for _, k := range md.Undecoded() {
		errs = append(errs, &Error{File: file, Line: findKeyLine(data, k), Key: k.String(), Msg: "unknown key"})
	}
	c.applyDefaults()
	errs = append(errs, c.validate(data)...)
	if len(errs) > 0 {
		return nil, errs
	}
	return &c, nil
}

// Default returns the built-in configuration: every default, no
// namespaces beyond what the caller adds.
func Default() *Config {
	c := &Config{}
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
	setDur(&c.SocketIO.ConnectTimeout, DefaultConnectTimeout)
	setDur(&c.Limits.CallTimeout, DefaultCallTimeout)
	if c.Engine.MaxPayload == 0 {
		c.Engine.MaxPayload = DefaultMaxPayload
	}
	if c.Engine.WriteQueue == 0 {
		c.Engine.WriteQueue = DefaultWriteQueue
	}
	if c.Limits.MemoryPages == 0 {
		c.Limits.MemoryPages = DefaultMemoryPages
	}
	dir := "."
	if c.File != "" {
		dir = filepath.Dir(c.File)
	}
	c.PluginsDir = resolve(dir, c.PluginsDir)
	if c.StaticDir != "" {
		c.StaticDir = resolve(dir, c.StaticDir)
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

func resolve(dir, p string) string {
	if filepath.IsAbs(p) {
		return p
	}
	return filepath.Join(dir, p)
}

var pluginName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]*$`)

func (c *Config) validate(data []byte) Errors {
	var errs Errors
	bad := func(key, format string, args ...any) {
		last := key
		if i := strings.LastIndexByte(key, '.'); i >= 0 {
			last = key[i+1:]
		}
		errs = append(errs, &Error{File: c.File, Line: findLine(data, last), Key: key, Msg: fmt.Sprintf(format, args...)})
	}
	if _, _, err := net.SplitHostPort(c.Listen); err != nil {
		bad("listen", "invalid address %q: want host:port", c.Listen)
	}
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
	pos("socketio.connect_timeout", c.SocketIO.ConnectTimeout)
	pos("plugins.call_timeout", c.Limits.CallTimeout)
	pos("shutdown_timeout", c.ShutdownTimeout)
	if c.Engine.MaxPayload < 0 {
		bad("engine.max_payload", "must be positive, got %d", c.Engine.MaxPayload)
	}
	if c.Engine.WriteQueue < 0 || c.Engine.WriteQueue > maxWriteQueue {
		bad("engine.write_queue", "must be between 1 and %d, got %d", maxWriteQueue, c.Engine.WriteQueue)
	}
	if c.Limits.MemoryPages > maxMemoryPages {
		bad("plugins.memory_pages", "must be at most %d (4 GiB), got %d", maxMemoryPages, c.Limits.MemoryPages)
	}
	if c.Limits.PoolSize < 0 || c.Limits.PoolSize > maxPoolSize {
		bad("plugins.pool_size", "must be between 0 (default) and %d, got %d", maxPoolSize, c.Limits.PoolSize)
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
		if n.Name == "" || n.Name[0] != '/' || strings.ContainsAny(n.Name, ", ") {
			bad(key+".name", "invalid namespace %q: want e.g. \"/\" or \"/chat\"", n.Name)
		} else if seen[n.Name] {
			bad(key+".name", "namespace %q is defined twice", n.Name)
		}
		seen[n.Name] = true
		for _, m := range n.Middleware {
			checkPlugin(key+".middleware", m)
		}
		if n.Handler != "" {
			checkPlugin(key+".handler", n.Handler)
		}
		events := make([]string, 0, len(n.Events))
		for ev := range n.Events {
			events = append(events, ev)
		}
		sort.Strings(events)
		for _, ev := range events {
			if ev == "" {
				bad(key+".events", "empty event name")
			}
			checkPlugin(key+".events."+ev, n.Events[ev])
		}
		if n.Handler == "" && len(n.Events) == 0 && len(n.Middleware) == 0 {
			bad(key, "namespace %q routes nothing: set handler, events or middleware", n.Name)
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

// PluginNames returns the names of every plugin the configuration routes to,
// sorted and without duplicates.
func (c *Config) PluginNames() []string {
	set := map[string]bool{}
	for _, n := range c.Namespace {
		for _, m := range n.Middleware {
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

// findKeyLine returns the line where key k is defined, or 0.
func findKeyLine(data []byte, k toml.Key) int {
	if len(k) == 0 {
		return 0
	}
	if n := findLine(data, k[len(k)-1]); n > 0 {
		return n
	}
	return findTableLine(data, k.String())
}

// findLine returns the first line that assigns key, or 0.
func findLine(data []byte, key string) int {
	for i, line := range bytes.Split(data, []byte("\n")) {
		l := bytes.TrimSpace(line)
		for _, q := range []string{key, `"` + key + `"`} {
			if rest, ok := bytes.CutPrefix(l, []byte(q)); ok {
				if r := bytes.TrimSpace(rest); len(r) > 0 && r[0] == '=' {
					return i + 1
				}
			}
		}
	}
	return 0
}

func findTableLine(data []byte, table string) int {
	for i, line := range bytes.Split(data, []byte("\n")) {
		l := string(bytes.TrimSpace(line))
		if l == "["+table+"]" || l == "[["+table+"]]" {
			return i + 1
		}
	}
	return 0
}
