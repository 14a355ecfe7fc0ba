//go:build !wasip1

package sockwasm

import (
	"unsafe"

	"github.com/sockwasm/sockwasm/sdk/go/internal/hostcall"
)

func hostHTTPRequest(desc unsafe.Pointer, descLen uint32, body unsafe.Pointer, bodyLen uint32, ctx unsafe.Pointer, ctxLen uint32) int32 {
	if h := hostcall.Current; h != nil {
		return h.HTTPRequest(in(desc, descLen), in(body, bodyLen), in(ctx, ctxLen))
	}
	return na
}
