//go:build !wasip1

package sockwasm

import (
	"unsafe"

	"github.com/sockwasm/sockwasm/sdk/go/internal/hostcall"
)

func hostNsBroadcast(nsp unsafe.Pointer, nspLen uint32, rooms unsafe.Pointer, roomsLen uint32, except unsafe.Pointer, exceptLen uint32, flags uint32, name unsafe.Pointer, nameLen uint32, args unsafe.Pointer, argsLen uint32, atts unsafe.Pointer, attsLen uint32) int32 {
	if h := hostcall.Current; h != nil {
		return h.NsBroadcast(in(nsp, nspLen), in(rooms, roomsLen), in(except, exceptLen), flags,
			in(name, nameLen), in(args, argsLen), in(atts, attsLen))
	}
	return na
}
