package config

import (
	"maps"
	"reflect"
	"slices"
	"sort"
	"strings"
)

// FixedChanges lists the keys whose value differs between the running
// configuration old and a reloaded next, among the settings that cannot
// change while serving: the listener and its [http] limits, the endpoints
// and their Engine.IO and Socket.IO settings, CORS, the adapter, the
// admin namespace, the folders and watching. A reload that changes any of
// them is refused whole; a restart applies it.
//
// What a reload does apply: [[namespace]] (routes, middleware, new and
// removed namespaces), [plugins] defaults, [plugin.NAME] tables and [log]
// (when the server's logger can change: server.WithLiveLog).
func FixedChanges(old, next *Config) []string {
	var keys []string
	diff := func(key string, a, b any) {
		if !reflect.DeepEqual(a, b) {
			keys = append(keys, key)
		}
	}
	listen := func(c *Config) string {
		if c.ListenOverride != "" {
			return c.ListenOverride
		}
		return c.Listen
	}
	diff("listen", listen(old), listen(next))
	diff("path", old.Path, next.Path)
	diff("plugins_dir", old.PluginsDir, next.PluginsDir)
	diff("static_dir", old.StaticDir, next.StaticDir)
	diff("cache_dir", old.CacheDir, next.CacheDir)
	diff("shutdown_timeout", old.ShutdownTimeout, next.ShutdownTimeout)
	diff("watch", old.Watch, next.Watch)
	diff("release_idle_memory", old.ReleaseIdleMemory, next.ReleaseIdleMemory)
	diff("engine.ping_interval", old.Engine.PingInterval, next.Engine.PingInterval)
	diff("engine.ping_timeout", old.Engine.PingTimeout, next.Engine.PingTimeout)
	diff("engine.max_payload", old.Engine.MaxPayload, next.Engine.MaxPayload)
	diff("engine.upgrade_timeout", old.Engine.UpgradeTimeout, next.Engine.UpgradeTimeout)
	diff("engine.write_queue", old.Engine.WriteQueue, next.Engine.WriteQueue)
	diff("engine.write_queue_bytes", old.Engine.WriteQueueBytes, next.Engine.WriteQueueBytes)
	diff("engine.write_timeout", old.Engine.WriteTimeout, next.Engine.WriteTimeout)
	diff("engine.http_compression", old.Engine.HTTPCompression, next.Engine.HTTPCompression)
	diff("engine.http_compression_threshold", old.Engine.HTTPCompressionThreshold, next.Engine.HTTPCompressionThreshold)
	diff("engine.per_message_deflate", old.Engine.PerMessageDeflate, next.Engine.PerMessageDeflate)
	diff("engine.per_message_deflate_threshold", old.Engine.PerMessageDeflateThreshold, next.Engine.PerMessageDeflateThreshold)
	diff("http.max_header_bytes", old.HTTP.MaxHeaderBytes, next.HTTP.MaxHeaderBytes)
	diff("http.idle_timeout", old.HTTP.IdleTimeout, next.HTTP.IdleTimeout)
	diff("http.read_timeout", old.HTTP.ReadTimeout, next.HTTP.ReadTimeout)
	diff("http.read_header_timeout", old.HTTP.ReadHeaderTimeout, next.HTTP.ReadHeaderTimeout)
	diffTable("socketio", old.SocketIO, next.SocketIO, diff)
	diffTable("adapter", old.Adapter, next.Adapter, diff)
	diff("cors.origins", old.CORS.Origins, next.CORS.Origins)
	diff("cors.credentials", old.CORS.Credentials, next.CORS.Credentials)
	diff("engine_endpoint", old.Endpoints, next.Endpoints)
	diff("metrics.listen", old.Metrics.Listen, next.Metrics.Listen)
	diff("metrics.pprof", old.Metrics.Pprof, next.Metrics.Pprof)
	diffTable("admin", old.Admin, next.Admin, diff)
	return keys
}

// diffTable calls diff for each field of the structs a and b (one table),
// keyed table.key by the fields' toml names.
func diffTable(table string, a, b any, diff func(key string, a, b any)) {
	va, vb := reflect.ValueOf(a), reflect.ValueOf(b)
	for i := range va.NumField() {
		diff(table+"."+va.Type().Field(i).Tag.Get("toml"), va.Field(i).Interface(), vb.Field(i).Interface())
	}
}

// Changes is what a reload from one configuration to another would do
// (Compare), for `sockwasm check --against`.
type Changes struct {
	// NamespacesAdded and NamespacesRemoved are namespace names.
	NamespacesAdded, NamespacesRemoved []string
	// RoutesChanged are the namespaces in both whose routes differ
	// (middleware, event middleware, handler, events).
	RoutesChanged []string
	// PluginsAdded and PluginsRemoved are the plugins the routes (and
	// engine endpoints) name in one and not the other.
	PluginsAdded, PluginsRemoved []string
	// SettingsChanged are the plugins whose settings (grants, config,
	// limits, the [plugins] defaults included) differ: a reload rebuilds
	// them.
	SettingsChanged []string
	// LogChanged says [log] differs (applied live by sockwasm serve).
	LogChanged bool
	// Restart are the keys FixedChanges finds: a reload with them is
	// refused.
	Restart []string
}

// Empty reports whether a reload would change nothing.
func (c Changes) Empty() bool {
	return len(c.NamespacesAdded)+len(c.NamespacesRemoved)+len(c.RoutesChanged)+len(c.PluginsAdded)+
		len(c.PluginsRemoved)+len(c.SettingsChanged)+len(c.Restart) == 0 && !c.LogChanged
}

// Compare returns what a reload from the running configuration old to
// next would change. Plugins are compared by name: a .wasm file changed
// in the plugins folder is not seen here.
func Compare(old, next *Config) Changes {
	var c Changes
	byName := func(cfg *Config) map[string]Namespace {
		m := make(map[string]Namespace, len(cfg.Namespace))
		for _, n := range cfg.Namespace {
			m[n.Name] = n
		}
		return m
	}
	on, nn := byName(old), byName(next)
	for name, n := range nn {
		o, ok := on[name]
		switch {
		case !ok:
			c.NamespacesAdded = append(c.NamespacesAdded, name)
		case !routesEqual(o, n):
			c.RoutesChanged = append(c.RoutesChanged, name)
		}
	}
	for name := range on {
		if _, ok := nn[name]; !ok {
			c.NamespacesRemoved = append(c.NamespacesRemoved, name)
		}
	}
	c.PluginsAdded = minus(next.PluginNames(), old.PluginNames())
	c.PluginsRemoved = minus(old.PluginNames(), next.PluginNames())
	names := map[string]bool{}
	for _, cfg := range []*Config{old, next} {
		for _, n := range cfg.PluginNames() {
			names[n] = true
		}
		for n := range cfg.Plugins {
			names[n] = true
		}
	}
	for n := range names {
		if !reflect.DeepEqual(old.PluginSettings(n), next.PluginSettings(n)) {
			c.SettingsChanged = append(c.SettingsChanged, n)
		}
	}
	c.LogChanged = old.Log != next.Log
	c.Restart = FixedChanges(old, next)
	for _, l := range [][]string{c.NamespacesAdded, c.NamespacesRemoved, c.RoutesChanged, c.SettingsChanged} {
		sort.Strings(l)
	}
	return c
}

// routesEqual compares what two configurations of one namespace route.
func routesEqual(a, b Namespace) bool {
	return slices.Equal(a.Middleware, b.Middleware) && slices.Equal(a.EventMiddleware, b.EventMiddleware) &&
		a.Handler == b.Handler && maps.Equal(a.Events, b.Events)
}

// minus returns the sorted names of a that are not in b.
func minus(a, b []string) []string {
	var out []string
	for _, n := range a {
		if !slices.Contains(b, n) {
			out = append(out, n)
		}
	}
	sort.Strings(out)
	return out
}

// Lines describes the changes for a person, one line each; none when c is
// empty.
func (c Changes) Lines() []string {
	var out []string
	add := func(what string, names []string) {
		if len(names) > 0 {
			out = append(out, what+": "+strings.Join(names, ", "))
		}
	}
	add("namespaces added", c.NamespacesAdded)
	add("namespaces removed (they refuse new connections; connected sockets stay)", c.NamespacesRemoved)
	add("routes changed", c.RoutesChanged)
	add("plugins routed that were not", c.PluginsAdded)
	add("plugins no longer routed", c.PluginsRemoved)
	add("plugins rebuilt with new settings", c.SettingsChanged)
	if c.LogChanged {
		out = append(out, "[log] changes (applied live)")
	}
	add("needs a restart (a reload is refused)", c.Restart)
	return out
}
