// Package plugin runs the WebAssembly plugins that hold sockwasm's
// application logic, through wazero.
//
// Every plugin is one .wasm file implementing plugin ABI version 1
// (sdk/ABI.md). Plugins are untrusted code (docs/SECURITY.md): a module's
// shape is checked before wazero decodes it (modcheck.go: size, functions,
// globals, locals, body size, tables capped), compilation has a deadline,
// and every limit a plugin can hit is a field of Limits (limits.go), set
// for all plugins in Options and for one in its Settings.
//
// Each version of a plugin gets its own wazero runtime with a memory limit;
// compiled code is shared through an on-disk compilation cache. Its pool
// (pool.go) keeps PoolSize instances ready, made ahead of need by a
// refiller goroutine under a deadline, and MaxConcurrency call slots: a
// call takes a slot and an idle instance, runs the guest's single export
// sockwasm_handle under a deadline, and returns both. An instance that
// faults — trap, panic, exit, out-of-memory, deadline — is closed and never
// reused (the refiller replaces it); the fault fails only that call.
//
// Every host function sits behind one guard (hostfuncs.go) that applies
// the permission table of package sdk/abi, refuses what would act for a
// socket that has left, and accounts for refusals: counted, the first of a
// call logged. A call carries its budget (sends, deferred operations, log
// bytes, its depth in a chain of calls answered at once).
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
// Calls for one socket are serialized by the socketio layer (each client
// is the serial executor of its sockets' calls). Timer calls of one plugin
// run one at a time on its timer goroutine (timers.go). Log text a guest
// writes is escaped and bounded in bytes per call and lines per second
// (log.go). What an INIT call does to the plugin's state is staged until
// the version is accepted (state.go).
package plugin
