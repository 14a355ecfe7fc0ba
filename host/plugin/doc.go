// Package plugin runs the WebAssembly plugins that hold sockwasm's
// application logic, through wazero.
//
// Every plugin is one .wasm file implementing plugin ABI version 1
// (sdk/ABI.md). Each plugin gets its own wazero runtime with a memory limit;
// compiled code is shared through an on-disk compilation cache. Instances
// are pooled: a call takes an idle instance (or instantiates one), runs the
// guest's single export sockwasm_handle under a deadline, and returns the
// instance to the pool. An instance that faults — trap, panic, exit,
// out-of-memory, deadline — is closed and never reused; the fault fails only
// that call.
//
// A *Plugin is the stable handle of a plugin name: Manager.Reload compiles
// a new version of the module (its own runtime and pool, identified by the
// first 12 hex characters of its SHA-256), runs its INIT call and swaps it
// in atomically. A call takes the version current when it starts and holds
// it until it returns, so calls in flight finish on the old version, which
// is closed once the last of them has returned. What must survive a reload
// hangs off the handle: the key-value store (kv.go) and the timers
// (timers.go). Host functions of the "kv" and "timers" groups are
// capabilities: a module importing one without the grant in its Settings is
// refused at load (caps.go).
//
// Calls for one socket are serialized with a per-socket mutex that this
// package keeps in socketio.Socket.SetValue: the package owns that slot.
package plugin
