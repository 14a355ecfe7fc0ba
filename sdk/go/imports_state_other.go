//go:build !wasip1

package sockwasm

import (
	"encoding/binary"
	"unsafe"

	"github.com/sockwasm/sockwasm/sdk/go/internal/hostcall"
)

func hostConfig(buf unsafe.Pointer, limit uint32) int32 { return get(hostcall.Config, buf, limit) }

func hostKVGet(key unsafe.Pointer, keyLen uint32, buf unsafe.Pointer, limit uint32) int32 {
	h := hostcall.Current
	if h == nil {
		return na
	}
	b, rc := h.KVGet(in(key, keyLen))
	return out(buf, limit, b, rc)
}

func hostKVSet(key unsafe.Pointer, keyLen uint32, val unsafe.Pointer, valLen uint32, ttlMs int64) int32 {
	if h := hostcall.Current; h != nil {
		return h.KVSet(in(key, keyLen), in(val, valLen), ttlMs)
	}
	return na
}

func hostKVDelete(key unsafe.Pointer, keyLen uint32) int32 {
	if h := hostcall.Current; h != nil {
		return h.KVDelete(in(key, keyLen))
	}
	return na
}

func hostKVIncr(key unsafe.Pointer, keyLen uint32, delta int64, outp unsafe.Pointer) int32 {
	h := hostcall.Current
	if h == nil {
		return na
	}
	v, rc := h.KVIncr(in(key, keyLen), delta)
	if rc >= 0 {
		binary.LittleEndian.PutUint64(unsafe.Slice((*byte)(outp), 8), uint64(v))
	}
	return rc
}

func hostKVCAS(key unsafe.Pointer, keyLen uint32, old unsafe.Pointer, oldLen uint32, val unsafe.Pointer, valLen uint32, flags uint32, ttlMs int64) int32 {
	if h := hostcall.Current; h != nil {
		return h.KVCAS(in(key, keyLen), in(old, oldLen), in(val, valLen), flags, ttlMs)
	}
	return na
}

func hostTimerSet(delayMs uint32, repeat uint32, ctx unsafe.Pointer, ctxLen uint32) int32 {
	if h := hostcall.Current; h != nil {
		return h.TimerSet(delayMs, repeat, in(ctx, ctxLen))
	}
	return na
}

func hostTimerCancel(id uint32) int32 {
	if h := hostcall.Current; h != nil {
		return h.TimerCancel(id)
	}
	return na
}
