//go:build wasip1

package sockwasm

import "unsafe"

//go:wasmimport sockwasm_v1 http_request
func hostHTTPRequest(desc unsafe.Pointer, descLen uint32, body unsafe.Pointer, bodyLen uint32, ctx unsafe.Pointer, ctxLen uint32) int32
