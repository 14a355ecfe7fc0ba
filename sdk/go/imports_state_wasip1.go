//go:build wasip1

package sockwasm

import "unsafe"

//go:wasmimport sockwasm_v1 config
func hostConfig(buf unsafe.Pointer, limit uint32) int32

//go:wasmimport sockwasm_v1 kv_get
func hostKVGet(key unsafe.Pointer, keyLen uint32, buf unsafe.Pointer, limit uint32) int32

//go:wasmimport sockwasm_v1 kv_set
func hostKVSet(key unsafe.Pointer, keyLen uint32, val unsafe.Pointer, valLen uint32, ttlMs int64) int32

//go:wasmimport sockwasm_v1 kv_delete
func hostKVDelete(key unsafe.Pointer, keyLen uint32) int32

//go:wasmimport sockwasm_v1 kv_incr
func hostKVIncr(key unsafe.Pointer, keyLen uint32, delta int64, out unsafe.Pointer) int32

//go:wasmimport sockwasm_v1 kv_cas
func hostKVCAS(key unsafe.Pointer, keyLen uint32, old unsafe.Pointer, oldLen uint32, val unsafe.Pointer, valLen uint32, flags uint32, ttlMs int64) int32

//go:wasmimport sockwasm_v1 timer_set
func hostTimerSet(delayMs uint32, repeat uint32, ctx unsafe.Pointer, ctxLen uint32) int32

//go:wasmimport sockwasm_v1 timer_cancel
func hostTimerCancel(id uint32) int32
