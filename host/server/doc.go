// Package server assembles one sockwasm node from a configuration: it
// loads the plugins, builds the routes of every namespace, and serves the
// Socket.IO endpoint, the bare Engine.IO endpoints and an optional static
// folder behind one http.Handler. cmd/sockwasm is a thin shell around it.
package server
