//go:build wasip1

package sockwasm

import "unsafe"

//go:wasmimport sockwasm_v1 handshake
func hostHandshake(buf unsafe.Pointer, limit uint32) int32

//go:wasmimport sockwasm_v1 socket_data
func hostSocketData(buf unsafe.Pointer, limit uint32) int32

//go:wasmimport sockwasm_v1 set_socket_data
func hostSetSocketData(data unsafe.Pointer, dataLen uint32) int32

//go:wasmimport sockwasm_v1 broadcast_with_ack
func hostBroadcastWithAck(rooms unsafe.Pointer, roomsLen uint32, except unsafe.Pointer, exceptLen uint32, flags uint32, name unsafe.Pointer, nameLen uint32, args unsafe.Pointer, argsLen uint32, atts unsafe.Pointer, attsLen uint32, timeoutMs uint32, ctx unsafe.Pointer, ctxLen uint32) int32

//go:wasmimport sockwasm_v1 fetch_sockets
func hostFetchSockets(rooms unsafe.Pointer, roomsLen uint32, except unsafe.Pointer, exceptLen uint32, buf unsafe.Pointer, limit uint32) int32

//go:wasmimport sockwasm_v1 sockets_join
func hostSocketsJoin(rooms unsafe.Pointer, roomsLen uint32, except unsafe.Pointer, exceptLen uint32, join unsafe.Pointer, joinLen uint32) int32

//go:wasmimport sockwasm_v1 sockets_leave
func hostSocketsLeave(rooms unsafe.Pointer, roomsLen uint32, except unsafe.Pointer, exceptLen uint32, leave unsafe.Pointer, leaveLen uint32) int32

//go:wasmimport sockwasm_v1 disconnect_sockets
func hostDisconnectSockets(rooms unsafe.Pointer, roomsLen uint32, except unsafe.Pointer, exceptLen uint32, closeSession uint32) int32

//go:wasmimport sockwasm_v1 reject_event
func hostRejectEvent(msg unsafe.Pointer, msgLen uint32, data unsafe.Pointer, dataLen uint32) int32
