// Package server assembles one sockwasm node from a configuration: it
// loads the plugins, builds the routes of every namespace, and serves the
// Socket.IO endpoint, the bare Engine.IO endpoints and an optional static
// folder behind one http.Handler. cmd/sockwasm is a thin shell around it.
//
// A Server changes live. Unless the configuration sets watch = false, a
// goroutine owned by the Server watches the plugins folder and the
// configuration file (fsnotify; a burst of changes is applied 100 ms after
// its last event, so editors' and deploys' rename-over writes count once)
// and applies them with ReloadPlugin and ReloadConfig; Reload does the same
// on demand (SIGHUP). Reloads run one at a time and compile off the serving
// path: routing tables are immutable and swapped atomically, plugins are
// stable handles whose versions the plugin manager swaps, so no connection
// is dropped and no event is lost. What cannot change live is refused with
// a message naming the keys, and a reload that fails leaves the running
// state serving.
package server
