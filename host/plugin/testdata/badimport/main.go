//go:build wasip1

// Command badimport declares ABI v1 but imports a host function the host
// does not have.
package main

import _ "github.com/sockwasm/sockwasm/sdk/go"

//go:wasmimport sockwasm_v1 frobnicate
func frobnicate() int32

//go:wasmexport poke
func poke() int32 { return frobnicate() }

func main() {}
