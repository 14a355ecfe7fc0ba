//go:build wasip1

package sockwasm

import "unsafe"

//go:wasmimport sockwasm_v1 server_emit
func hostServerEmit(nsp unsafe.Pointer, nspLen uint32, name unsafe.Pointer, nameLen uint32, args unsafe.Pointer, argsLen uint32, timeoutMs uint32, ctx unsafe.Pointer, ctxLen uint32) int32

//go:wasmimport sockwasm_v1 server_ack
func hostServerAck(id uint64, args unsafe.Pointer, argsLen uint32) int32
