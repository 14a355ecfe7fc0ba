//go:build !wasip1

package sockwasm

import (
	"unsafe"

	"github.com/sockwasm/sockwasm/sdk/go/internal/hostcall"
)

// nativeRejection, when non-nil (set by tests) and no stand-in host is
// installed, records reject_event calls.
var nativeRejection *Rejection

func hostHandshake(buf unsafe.Pointer, limit uint32) int32 {
	return get(hostcall.Handshake, buf, limit)
}
func hostSocketData(buf unsafe.Pointer, limit uint32) int32 {
	return get(hostcall.SocketData, buf, limit)
}

func hostSetSocketData(data unsafe.Pointer, dataLen uint32) int32 {
	if h := hostcall.Current; h != nil {
		return h.SetSocketData(in(data, dataLen))
	}
	return na
}

func hostBroadcastWithAck(rooms unsafe.Pointer, roomsLen uint32, except unsafe.Pointer, exceptLen uint32, flags uint32, name unsafe.Pointer, nameLen uint32, args unsafe.Pointer, argsLen uint32, atts unsafe.Pointer, attsLen uint32, timeoutMs uint32, ctx unsafe.Pointer, ctxLen uint32) int32 {
	if h := hostcall.Current; h != nil {
		return h.BroadcastWithAck(in(rooms, roomsLen), in(except, exceptLen), flags, in(name, nameLen),
			in(args, argsLen), in(atts, attsLen), timeoutMs, in(ctx, ctxLen))
	}
	return na
}

func hostFetchSockets(rooms unsafe.Pointer, roomsLen uint32, except unsafe.Pointer, exceptLen uint32, buf unsafe.Pointer, limit uint32) int32 {
	h := hostcall.Current
	if h == nil {
		return na
	}
	b, rc := h.FetchSockets(in(rooms, roomsLen), in(except, exceptLen))
	return out(buf, limit, b, rc)
}

func hostSocketsJoin(rooms unsafe.Pointer, roomsLen uint32, except unsafe.Pointer, exceptLen uint32, join unsafe.Pointer, joinLen uint32) int32 {
	if h := hostcall.Current; h != nil {
		return h.SocketsJoin(in(rooms, roomsLen), in(except, exceptLen), in(join, joinLen))
	}
	return na
}

func hostSocketsLeave(rooms unsafe.Pointer, roomsLen uint32, except unsafe.Pointer, exceptLen uint32, leave unsafe.Pointer, leaveLen uint32) int32 {
	if h := hostcall.Current; h != nil {
		return h.SocketsLeave(in(rooms, roomsLen), in(except, exceptLen), in(leave, leaveLen))
	}
	return na
}

func hostDisconnectSockets(rooms unsafe.Pointer, roomsLen uint32, except unsafe.Pointer, exceptLen uint32, closeSession uint32) int32 {
	if h := hostcall.Current; h != nil {
		return h.DisconnectSockets(in(rooms, roomsLen), in(except, exceptLen), closeSession)
	}
	return na
}

func hostRejectEvent(msg unsafe.Pointer, msgLen uint32, data unsafe.Pointer, dataLen uint32) int32 {
	if h := hostcall.Current; h != nil {
		return h.RejectEvent(in(msg, msgLen), in(data, dataLen))
	}
	if nativeRejection == nil {
		return na
	}
	nativeRejection.Message = string(unsafe.Slice((*byte)(msg), msgLen))
	nativeRejection.Data = append([]byte(nil), unsafe.Slice((*byte)(data), dataLen)...)
	return 0
}
