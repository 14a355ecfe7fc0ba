//go:build !wasip1

package sockwasm

import (
	"unsafe"

	"github.com/sockwasm/sockwasm/sdk/go/internal/hostcall"
)

func hostServerEmit(nsp unsafe.Pointer, nspLen uint32, name unsafe.Pointer, nameLen uint32, args unsafe.Pointer, argsLen uint32, timeoutMs uint32, ctx unsafe.Pointer, ctxLen uint32) int32 {
	if h := hostcall.Current; h != nil {
		return h.ServerEmit(in(nsp, nspLen), in(name, nameLen), in(args, argsLen), timeoutMs, in(ctx, ctxLen))
	}
	return na
}

func hostServerAck(id uint64, args unsafe.Pointer, argsLen uint32) int32 {
	if h := hostcall.Current; h != nil {
		return h.ServerAck(id, in(args, argsLen))
	}
	return na
}
