//go:build wasip1

package sockwasm

import "unsafe"

//go:wasmimport sockwasm_v1 ns_broadcast
func hostNsBroadcast(nsp unsafe.Pointer, nspLen uint32, rooms unsafe.Pointer, roomsLen uint32, except unsafe.Pointer, exceptLen uint32, flags uint32, name unsafe.Pointer, nameLen uint32, args unsafe.Pointer, argsLen uint32, atts unsafe.Pointer, attsLen uint32) int32
