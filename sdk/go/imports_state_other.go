//go:build !wasip1

package sockwasm

import "unsafe"

func hostConfig(unsafe.Pointer, uint32) int32                               { return na }
func hostKVGet(unsafe.Pointer, uint32, unsafe.Pointer, uint32) int32        { return na }
func hostKVSet(unsafe.Pointer, uint32, unsafe.Pointer, uint32, int64) int32 { return na }
func hostKVDelete(unsafe.Pointer, uint32) int32                             { return na }
func hostKVIncr(unsafe.Pointer, uint32, int64, unsafe.Pointer) int32        { return na }
func hostTimerSet(uint32, uint32, unsafe.Pointer, uint32) int32             { return na }
func hostTimerCancel(uint32) int32                                          { return na }
func hostKVCAS(unsafe.Pointer, uint32, unsafe.Pointer, uint32, unsafe.Pointer, uint32, uint32, int64) int32 {
	return na
}
