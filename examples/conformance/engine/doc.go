//go:build wasip1

// Command engine is the plugin of the Engine.IO conformance endpoint
// (plugins/engine-echo.wasm): every message is sent back unchanged, text as
// text and binary as binary.
package main
