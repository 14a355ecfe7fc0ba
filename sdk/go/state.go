package sockwasm

import (
	"encoding/binary"
	"time"
	"unsafe"
)

// Call kinds of the plugin-state additions to ABI v1.
const (
	kindInit  = 10
	kindTimer = 11
)

// Flags of kv_cas.
const (
	kvOldAbsent = 1 << 0
	kvNewAbsent = 1 << 1
)

var stateHandlers struct {
	init  func(cfg []byte) error
	timer func(id TimerID, ctx []byte)
}

// OnInit registers the handler of the INIT call, made once per new
// version of the plugin before it serves, with the plugin's config table
// from server.toml as JSON ({} when none). Returning an error refuses the
// version (the error is logged; on a reload the old version keeps
// serving).
func OnInit(fn func(cfg []byte) error) { stateHandlers.init = fn }

// OnTimer registers the handler of timers set with SetTimer. It gets the
// timer id and the ctx given to SetTimer. A timer call is not about a
// socket: socket functions fail with ErrNotAllowed there, but KV, timers,
// Config and Log work.
func OnTimer(fn func(id TimerID, ctx []byte)) { stateHandlers.timer = fn }

// dispatchState runs the INIT and TIMER calls; ok is false for other
// kinds.
func dispatchState(kind int32, in *input) (rc int32, ok bool) {
	switch kind {
	case kindInit:
		if stateHandlers.init != nil {
			if err := stateHandlers.init(in.args); err != nil {
				Log(LevelError, "init: "+err.Error())
				return 1, true
			}
		}
		return 0, true
	case kindTimer:
		if stateHandlers.timer != nil {
			stateHandlers.timer(TimerID(in.ackID), in.context)
		}
		return 0, true
	}
	return 0, false
}

// Config returns the plugin's config table from server.toml as JSON ({}
// when none). It is available in every call.
func Config() Value { return getter(hostConfig) }

// TimerID identifies a timer of this plugin.
type TimerID uint32

// SetTimer starts a timer that calls the OnTimer handler with ctx after
// d, and then every d when repeat (the next period starts when the call
// ends). d is rounded down to milliseconds: at least 1 ms, 10 ms when
// repeating. Timers belong to the host: they survive reloads (firing into
// the current version) and are canceled when the plugin is removed; with
// the Redis adapter a timer fires once for the whole cluster (sdk/ABI.md,
// section 4.3). The plugin needs the "timers" grant.
func SetTimer(d time.Duration, repeat bool, ctx []byte) (TimerID, error) {
	ms := d.Milliseconds()
	if ms <= 0 || ms > 1<<31-1 {
		return 0, ErrInvalid
	}
	var r uint32
	if repeat {
		r = 1
	}
	id := hostTimerSet(uint32(ms), r, ptr(ctx), uint32(len(ctx)))
	if id < 0 {
		return 0, Error(id)
	}
	return TimerID(id), nil
}

// CancelTimer stops a pending timer; ErrNotFound when it already fired
// (one-shot) or was canceled.
func CancelTimer(id TimerID) error { return check(hostTimerCancel(uint32(id))) }

// KVStore is the plugin's key-value store, kept in the host's memory and
// shared by every instance and version of the plugin; with the Redis
// adapter it is in Redis, one store for every node of the cluster, and
// operations may also fail with ErrTimeout or ErrUnavailable. The plugin needs the
// "kv" grant. Keys are 1…1024 bytes; values are bounded by the plugin's
// max_kv_value setting (default 64 KiB).
type KVStore struct{}

// KV is the plugin's key-value store.
var KV KVStore

// Get returns the value of key, or ErrNotFound.
func (KVStore) Get(key string) ([]byte, error) {
	var small [128]byte
	buf := small[:]
	for {
		n := hostKVGet(sptr(key), uint32(len(key)), ptr(buf), uint32(len(buf)))
		if n < 0 {
			return nil, Error(n)
		}
		if int(n) <= len(buf) {
			return append([]byte(nil), buf[:n]...), nil
		}
		buf = make([]byte, n) // changed meanwhile or larger: retry
	}
}

// Set stores value at key; it expires after ttl unless ttl is 0.
func (KVStore) Set(key string, value []byte, ttl time.Duration) error {
	return check(hostKVSet(sptr(key), uint32(len(key)), ptr(value), uint32(len(value)), ttl.Milliseconds()))
}

// Delete removes key and reports whether it existed.
func (KVStore) Delete(key string) (bool, error) {
	n := hostKVDelete(sptr(key), uint32(len(key)))
	if n < 0 {
		return false, Error(n)
	}
	return n == 1, nil
}

// Incr adds delta to the decimal integer stored at key (an absent key
// counts as 0) and returns the new value; ErrInvalid when the value is not
// an integer or would overflow. The key keeps its expiry.
func (KVStore) Incr(key string, delta int64) (int64, error) {
	var out [8]byte
	if rc := hostKVIncr(sptr(key), uint32(len(key)), delta, unsafe.Pointer(&out[0])); rc < 0 {
		return 0, Error(rc)
	}
	return int64(binary.LittleEndian.Uint64(out[:])), nil
}

// CompareAndSwap sets key to new when its value is old, atomically, and
// reports whether it did. A nil old means "the key is absent"; a nil new
// deletes the key. The new value has no expiry.
func (KVStore) CompareAndSwap(key string, old, new []byte) (bool, error) {
	return KV.CompareAndSwapTTL(key, old, new, 0)
}

// CompareAndSwapTTL is CompareAndSwap with an expiry for the new value (0:
// none).
func (KVStore) CompareAndSwapTTL(key string, old, new []byte, ttl time.Duration) (bool, error) {
	var flags uint32
	if old == nil {
		flags |= kvOldAbsent
	}
	if new == nil {
		flags |= kvNewAbsent
	}
	n := hostKVCAS(sptr(key), uint32(len(key)), ptr(old), uint32(len(old)), ptr(new), uint32(len(new)), flags, ttl.Milliseconds())
	if n < 0 {
		return false, Error(n)
	}
	return n == 1, nil
}
