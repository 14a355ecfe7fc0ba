//go:build wasip1

package sockwasm

import "unsafe"

//go:wasmimport sockwasm_v1 read_input
func hostReadInput(buf unsafe.Pointer, limit uint32) int32

//go:wasmimport sockwasm_v1 read_attachment
func hostReadAttachment(index uint32, buf unsafe.Pointer, limit uint32) int32

//go:wasmimport sockwasm_v1 ack
func hostAck(id uint64, args unsafe.Pointer, argsLen uint32, atts unsafe.Pointer, attsLen uint32) int32

//go:wasmimport sockwasm_v1 emit
func hostEmit(name unsafe.Pointer, nameLen uint32, args unsafe.Pointer, argsLen uint32, atts unsafe.Pointer, attsLen uint32) int32

//go:wasmimport sockwasm_v1 broadcast
func hostBroadcast(rooms unsafe.Pointer, roomsLen uint32, except unsafe.Pointer, exceptLen uint32, flags uint32, name unsafe.Pointer, nameLen uint32, args unsafe.Pointer, argsLen uint32, atts unsafe.Pointer, attsLen uint32) int32

//go:wasmimport sockwasm_v1 emit_with_ack
func hostEmitWithAck(name unsafe.Pointer, nameLen uint32, args unsafe.Pointer, argsLen uint32, atts unsafe.Pointer, attsLen uint32, timeoutMs uint32, ctx unsafe.Pointer, ctxLen uint32) int32

//go:wasmimport sockwasm_v1 join
func hostJoin(room unsafe.Pointer, roomLen uint32) int32

//go:wasmimport sockwasm_v1 leave
func hostLeave(room unsafe.Pointer, roomLen uint32) int32

//go:wasmimport sockwasm_v1 disconnect
func hostDisconnect(closeSession uint32) int32

//go:wasmimport sockwasm_v1 socket_id
func hostSocketID(buf unsafe.Pointer, limit uint32) int32

//go:wasmimport sockwasm_v1 namespace
func hostNamespace(buf unsafe.Pointer, limit uint32) int32

//go:wasmimport sockwasm_v1 auth
func hostAuth(buf unsafe.Pointer, limit uint32) int32

//go:wasmimport sockwasm_v1 transport
func hostTransport(buf unsafe.Pointer, limit uint32) int32

//go:wasmimport sockwasm_v1 rooms
func hostRooms(buf unsafe.Pointer, limit uint32) int32

//go:wasmimport sockwasm_v1 room_size
func hostRoomSize(room unsafe.Pointer, roomLen uint32) int32

//go:wasmimport sockwasm_v1 client_count
func hostClientCount() int32

//go:wasmimport sockwasm_v1 reject
func hostReject(msg unsafe.Pointer, msgLen uint32, data unsafe.Pointer, dataLen uint32) int32

//go:wasmimport sockwasm_v1 engine_send
func hostEngineSend(data unsafe.Pointer, dataLen uint32, binary uint32) int32

//go:wasmimport sockwasm_v1 log
func hostLog(level uint32, msg unsafe.Pointer, msgLen uint32)

// abiV1 is the ABI version marker the host looks for.
//
//go:wasmexport sockwasm_abi_v1
func abiV1() {}

// handle is the single entry point of ABI v1.
//
//go:wasmexport sockwasm_handle
func handle(kind, inputLen int32) int32 { return dispatch(kind, inputLen) }
