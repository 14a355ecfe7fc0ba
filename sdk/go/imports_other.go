//go:build !wasip1

package sockwasm

import "unsafe"

// Outside wasip1 there is no host: every host function reports
// ErrNotAllowed, so the package builds and vets on any platform.

const na = int32(ErrNotAllowed)

// nativeFrame, when set (by tests), is what hostReadInput returns.
var nativeFrame []byte

func hostReadInput(buf unsafe.Pointer, limit uint32) int32 {
	if nativeFrame == nil {
		return na
	}
	if uint32(len(nativeFrame)) <= limit {
		copy(unsafe.Slice((*byte)(buf), limit), nativeFrame)
	}
	return int32(len(nativeFrame))
}

func hostReadAttachment(uint32, unsafe.Pointer, uint32) int32              { return na }
func hostAck(uint64, unsafe.Pointer, uint32, unsafe.Pointer, uint32) int32 { return na }
func hostEmit(unsafe.Pointer, uint32, unsafe.Pointer, uint32, unsafe.Pointer, uint32) int32 {
	return na
}
func hostBroadcast(unsafe.Pointer, uint32, unsafe.Pointer, uint32, uint32, unsafe.Pointer, uint32, unsafe.Pointer, uint32, unsafe.Pointer, uint32) int32 {
	return na
}
func hostEmitWithAck(unsafe.Pointer, uint32, unsafe.Pointer, uint32, unsafe.Pointer, uint32, uint32, unsafe.Pointer, uint32) int32 {
	return na
}
func hostJoin(unsafe.Pointer, uint32) int32                           { return na }
func hostLeave(unsafe.Pointer, uint32) int32                          { return na }
func hostDisconnect(uint32) int32                                     { return na }
func hostSocketID(unsafe.Pointer, uint32) int32                       { return na }
func hostNamespace(unsafe.Pointer, uint32) int32                      { return na }
func hostAuth(unsafe.Pointer, uint32) int32                           { return na }
func hostTransport(unsafe.Pointer, uint32) int32                      { return na }
func hostRooms(unsafe.Pointer, uint32) int32                          { return na }
func hostRoomSize(unsafe.Pointer, uint32) int32                       { return na }
func hostClientCount() int32                                          { return na }
func hostReject(unsafe.Pointer, uint32, unsafe.Pointer, uint32) int32 { return na }
func hostEngineSend(unsafe.Pointer, uint32, uint32) int32             { return na }
func hostLog(uint32, unsafe.Pointer, uint32)                          {}
