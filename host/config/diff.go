package config

import "reflect"

// FixedChanges lists the keys whose value differs between the running
// configuration old and a reloaded next, among the settings that cannot
// change while serving: the listener and its [http] limits, the endpoints
// and their Engine.IO and Socket.IO settings, CORS, the adapter, the
// folders and watching. A reload that changes any of them is refused
// whole; a restart applies it.
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
	diff("engine.ping_interval", old.Engine.PingInterval, next.Engine.PingInterval)
	diff("engine.ping_timeout", old.Engine.PingTimeout, next.Engine.PingTimeout)
	diff("engine.max_payload", old.Engine.MaxPayload, next.Engine.MaxPayload)
	diff("engine.upgrade_timeout", old.Engine.UpgradeTimeout, next.Engine.UpgradeTimeout)
	diff("engine.write_queue", old.Engine.WriteQueue, next.Engine.WriteQueue)
	diff("engine.write_queue_bytes", old.Engine.WriteQueueBytes, next.Engine.WriteQueueBytes)
	diff("engine.write_timeout", old.Engine.WriteTimeout, next.Engine.WriteTimeout)
	diff("http.max_header_bytes", old.HTTP.MaxHeaderBytes, next.HTTP.MaxHeaderBytes)
	diff("http.idle_timeout", old.HTTP.IdleTimeout, next.HTTP.IdleTimeout)
	diff("http.read_timeout", old.HTTP.ReadTimeout, next.HTTP.ReadTimeout)
	diff("http.read_header_timeout", old.HTTP.ReadHeaderTimeout, next.HTTP.ReadHeaderTimeout)
	diffTable("socketio", old.SocketIO, next.SocketIO, diff)
	diffTable("adapter", old.Adapter, next.Adapter, diff)
	diff("cors.origins", old.CORS.Origins, next.CORS.Origins)
	diff("cors.credentials", old.CORS.Credentials, next.CORS.Credentials)
	diff("engine_endpoint", old.Endpoints, next.Endpoints)
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
