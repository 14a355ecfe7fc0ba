// Package router compiles the routes of server.toml into the handlers of
// the Socket.IO namespaces: a connection middleware chain, a lookup from
// event name to plugin, and a catch-all handler. Only the event name is
// used to route; the arguments travel to the plugin as raw JSON.
package router
