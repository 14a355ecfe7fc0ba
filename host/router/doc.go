// Package router compiles the routes of server.toml into the handlers of
// the Socket.IO namespaces: a connection middleware chain, an event
// middleware chain, a lookup from event name (exact, else the longest
// matching "prefix*" pattern) to plugin, and a catch-all handler. Only the
// event name is used to route; the arguments travel to the plugin as raw
// JSON.
//
// A Table holds every namespace, exact and dynamic ("/tenant-*"); it is
// immutable. A Router serves the current Table and swaps it atomically on
// reload; the handlers it gives the Socket.IO server follow every swap.
package router
