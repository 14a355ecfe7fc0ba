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
// Calls for one socket are serialized with a per-socket mutex that this
// package keeps in socketio.Socket.SetValue: the package owns that slot.
package plugin
