//go:build !wasip1

package sockwasm

import (
	"unsafe"

	"github.com/sockwasm/sockwasm/sdk/go/internal/hostcall"
)

// Outside wasip1 the host functions call the stand-in host installed in
// hostcall.Current (package plugintest installs one); without it every
// host function reports ErrNotAllowed, so the package builds, vets and
// runs on any platform.

const na = int32(ErrNotAllowed)

// nativeFrame, when set (by tests) and no stand-in host is installed, is
// what hostReadInput returns.
var nativeFrame []byte

func init() { hostcall.Dispatch = dispatch }

// in copies n bytes at p (nil when n is 0): the host may keep them, the
// SDK reuses its buffers.
func in(p unsafe.Pointer, n uint32) []byte {
	if n == 0 || p == nil {
		return nil
	}
	return append([]byte(nil), unsafe.Slice((*byte)(p), n)...)
}

// out copies data to (buf, limit) when it fits and returns its length, or
// rc when negative.
func out(buf unsafe.Pointer, limit uint32, data []byte, rc int32) int32 {
	if rc < 0 {
		return rc
	}
	if limit > 0 && uint32(len(data)) <= limit {
		copy(unsafe.Slice((*byte)(buf), limit), data)
	}
	return int32(len(data))
}

func hostReadInput(buf unsafe.Pointer, limit uint32) int32 {
	f := nativeFrame
	if h := hostcall.Current; h != nil {
		f = h.ReadInput()
	}
	if f == nil {
		return na
	}
	return out(buf, limit, f, 0)
}

func get(g hostcall.Getter, buf unsafe.Pointer, limit uint32) int32 {
	h := hostcall.Current
	if h == nil {
		return na
	}
	b, rc := h.Get(g)
	return out(buf, limit, b, rc)
}

func hostReadAttachment(i uint32, buf unsafe.Pointer, limit uint32) int32 {
	h := hostcall.Current
	if h == nil {
		return na
	}
	b, rc := h.ReadAttachment(i)
	return out(buf, limit, b, rc)
}

func hostAck(id uint64, args unsafe.Pointer, argsLen uint32, atts unsafe.Pointer, attsLen uint32) int32 {
	if h := hostcall.Current; h != nil {
		return h.Ack(id, in(args, argsLen), in(atts, attsLen))
	}
	return na
}

func hostEmit(name unsafe.Pointer, nameLen uint32, args unsafe.Pointer, argsLen uint32, atts unsafe.Pointer, attsLen uint32) int32 {
	if h := hostcall.Current; h != nil {
		return h.Emit(in(name, nameLen), in(args, argsLen), in(atts, attsLen))
	}
	return na
}

func hostBroadcast(rooms unsafe.Pointer, roomsLen uint32, except unsafe.Pointer, exceptLen uint32, flags uint32, name unsafe.Pointer, nameLen uint32, args unsafe.Pointer, argsLen uint32, atts unsafe.Pointer, attsLen uint32) int32 {
	if h := hostcall.Current; h != nil {
		return h.Broadcast(in(rooms, roomsLen), in(except, exceptLen), flags, in(name, nameLen), in(args, argsLen), in(atts, attsLen))
	}
	return na
}

func hostEmitWithAck(name unsafe.Pointer, nameLen uint32, args unsafe.Pointer, argsLen uint32, atts unsafe.Pointer, attsLen uint32, timeoutMs uint32, ctx unsafe.Pointer, ctxLen uint32) int32 {
	if h := hostcall.Current; h != nil {
		return h.EmitWithAck(in(name, nameLen), in(args, argsLen), in(atts, attsLen), timeoutMs, in(ctx, ctxLen))
	}
	return na
}

func hostJoin(room unsafe.Pointer, roomLen uint32) int32 {
	if h := hostcall.Current; h != nil {
		return h.Join(in(room, roomLen))
	}
	return na
}

func hostLeave(room unsafe.Pointer, roomLen uint32) int32 {
	if h := hostcall.Current; h != nil {
		return h.Leave(in(room, roomLen))
	}
	return na
}

func hostDisconnect(closeSession uint32) int32 {
	if h := hostcall.Current; h != nil {
		return h.Disconnect(closeSession)
	}
	return na
}

func hostSocketID(buf unsafe.Pointer, limit uint32) int32 { return get(hostcall.SocketID, buf, limit) }
func hostNamespace(buf unsafe.Pointer, limit uint32) int32 {
	return get(hostcall.Namespace, buf, limit)
}
func hostAuth(buf unsafe.Pointer, limit uint32) int32 { return get(hostcall.Auth, buf, limit) }
func hostTransport(buf unsafe.Pointer, limit uint32) int32 {
	return get(hostcall.Transport, buf, limit)
}
func hostRooms(buf unsafe.Pointer, limit uint32) int32 { return get(hostcall.Rooms, buf, limit) }

func hostRoomSize(room unsafe.Pointer, roomLen uint32) int32 {
	if h := hostcall.Current; h != nil {
		return h.RoomSize(in(room, roomLen))
	}
	return na
}

func hostClientCount() int32 {
	if h := hostcall.Current; h != nil {
		return h.ClientCount()
	}
	return na
}

func hostReject(msg unsafe.Pointer, msgLen uint32, data unsafe.Pointer, dataLen uint32) int32 {
	if h := hostcall.Current; h != nil {
		return h.Reject(in(msg, msgLen), in(data, dataLen))
	}
	return na
}

func hostEngineSend(data unsafe.Pointer, dataLen uint32, binary uint32) int32 {
	if h := hostcall.Current; h != nil {
		return h.EngineSend(in(data, dataLen), binary)
	}
	return na
}

func hostLog(level uint32, msg unsafe.Pointer, msgLen uint32) {
	if h := hostcall.Current; h != nil {
		h.Log(level, in(msg, msgLen))
	}
}
