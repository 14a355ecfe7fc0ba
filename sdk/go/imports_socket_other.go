//go:build !wasip1

package sockwasm

import "unsafe"

// nativeRejection, when non-nil (set by tests), records reject_event calls.
var nativeRejection *Rejection

func hostHandshake(unsafe.Pointer, uint32) int32     { return na }
func hostSocketData(unsafe.Pointer, uint32) int32    { return na }
func hostSetSocketData(unsafe.Pointer, uint32) int32 { return na }
func hostBroadcastWithAck(unsafe.Pointer, uint32, unsafe.Pointer, uint32, uint32, unsafe.Pointer, uint32, unsafe.Pointer, uint32, unsafe.Pointer, uint32, uint32, unsafe.Pointer, uint32) int32 {
	return na
}
func hostFetchSockets(unsafe.Pointer, uint32, unsafe.Pointer, uint32, unsafe.Pointer, uint32) int32 {
	return na
}
func hostSocketsJoin(unsafe.Pointer, uint32, unsafe.Pointer, uint32, unsafe.Pointer, uint32) int32 {
	return na
}
func hostSocketsLeave(unsafe.Pointer, uint32, unsafe.Pointer, uint32, unsafe.Pointer, uint32) int32 {
	return na
}
func hostDisconnectSockets(unsafe.Pointer, uint32, unsafe.Pointer, uint32, uint32) int32 { return na }

func hostRejectEvent(msg unsafe.Pointer, msgLen uint32, data unsafe.Pointer, dataLen uint32) int32 {
	if nativeRejection == nil {
		return na
	}
	nativeRejection.Message = string(unsafe.Slice((*byte)(msg), msgLen))
	nativeRejection.Data = append([]byte(nil), unsafe.Slice((*byte)(data), dataLen)...)
	return 0
}
