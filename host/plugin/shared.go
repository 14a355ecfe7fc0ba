package plugin

import (
	"context"
	"time"
)

// SharedState is where plugins keep their key-value stores and timers. The
// default (Options.State nil, or MemoryState) keeps them in this process's
// memory; a cluster backend (host/adapter/redis, Cluster.PluginState)
// keeps them where every node sees them, so that a store is one store and
// a timer fires once for the whole cluster.
//
// A Plugin asks its backend once, when its handle is made, for the store
// and the timers of its name; they then serve every version of the
// plugin.
type SharedState interface {
	// KV returns the key-value store of the plugin called name.
	KV(name string) KVStore
	// Timers returns the timers of the plugin called name. fire makes the
	// TIMER call of a due timer and returns once that call has: the
	// backend calls it from one goroutine per plugin, one timer at a time.
	Timers(name string, fire TimerFunc) TimerStore
}

// TimerFunc makes the TIMER call of timer id with its context blob.
type TimerFunc func(id uint32, ctx []byte)

// StateLimits are the bounds a backend enforces for one plugin, from the
// limits of its current version (a reload may change them).
type StateLimits struct {
	// MaxKVValue bounds one value; MaxKVEntries the entries of the store;
	// MaxKVBytes its keys plus values. MaxTimers bounds the pending timers.
	MaxKVValue, MaxKVEntries, MaxKVBytes, MaxTimers int
	// CallTimeout is the plugin's call deadline. A backend that waits for
	// another process waits at most half of it in one operation, so that
	// the guest still has time to use the answer.
	CallTimeout time.Duration
	// WatchTimers is set when the plugin is granted the timers: a shared
	// backend looks for the plugin's due timers only then.
	WatchTimers bool
}

// stateLimits are the StateLimits of limits l and grants.
func stateLimits(l Limits, grants []string) StateLimits {
	watch := false
	for _, g := range grants {
		watch = watch || g == CapTimers
	}
	return StateLimits{
		MaxKVValue: l.MaxKVValue, MaxKVEntries: l.MaxKVEntries, MaxKVBytes: l.MaxKVBytes,
		MaxTimers: l.MaxTimers, CallTimeout: l.CallTimeout, WatchTimers: watch,
	}
}

// KVStore is a plugin's key-value store, as sdk/ABI.md section 4.3
// describes it. Every operation is atomic. The caller has checked the
// key (1…MaxKVKey bytes), the value (at most MaxKVValue) and the TTL (0:
// never expires, else 1 ms…MaxKVTTL); a backend may check them again.
//
// Results are ABI codes: 0, or ErrNotFound (Get of an absent or expired
// key), ErrLimit (MaxKVEntries or MaxKVBytes would be passed, after
// expired entries were reclaimed), ErrInvalid (Incr of a value that is
// not a decimal integer, or an overflow); a shared backend also returns
// ErrUnavailable (it cannot be reached) and ErrTimeout (no answer within
// the bound: the operation may or may not have taken place). ctx may end
// the wait earlier (the guest call's deadline).
type KVStore interface {
	// Get returns the value of key and the time it has left to live (0:
	// no expiry).
	Get(ctx context.Context, key string) (val []byte, ttl time.Duration, code int32)
	// Set stores val at key, expiring after ttl (0: never).
	Set(ctx context.Context, key string, val []byte, ttl time.Duration) int32
	// Delete removes key and reports whether it was there.
	Delete(ctx context.Context, key string) (existed bool, code int32)
	// Incr adds delta to the decimal integer stored at key (absent counts
	// as 0), keeping its expiry, and returns the sum.
	Incr(ctx context.Context, key string, delta int64) (n int64, code int32)
	// CompareAndSwap stores val at key (expiring after ttl), or deletes
	// it with KVNewAbsent, when its value is old, or when it is absent
	// with KVOldAbsent; swapped says whether it did.
	CompareAndSwap(ctx context.Context, key string, old, val []byte, flags uint32, ttl time.Duration) (swapped bool, code int32)
	// SetLimits changes the bounds; entries already stored stay.
	SetLimits(StateLimits)
	// Len returns the number of entries, expired ones not yet reclaimed
	// included; -1 when a shared backend cannot tell.
	Len(ctx context.Context) int
}

// KVSizer is implemented by a KVStore that can also tell how many bytes
// it holds; Plugin.Stats reports them (Stats.KVBytes).
type KVSizer interface {
	// Size returns the number of entries, as Len counts them, and the
	// bytes of their keys plus values, as MaxKVBytes bounds them; -1, -1
	// when a shared backend cannot tell.
	Size(ctx context.Context) (entries, bytes int)
}

// TimerStore is a plugin's timers, as sdk/ABI.md section 4.3 describes
// them: ids 1…2³¹−1, unique among the plugin's pending timers. Results are
// ABI codes as for KVStore: ErrLimit at MaxTimers, ErrNotFound for an id
// that is not pending, ErrFailed once stopped, and ErrUnavailable or
// ErrTimeout from a shared backend. The caller has checked the delay (≥ 1
// ms; ≥ MinTimerInterval when repeating) and the context (≤
// MaxTimerContext bytes).
type TimerStore interface {
	// Set starts a timer that fires after d, then every d when repeat
	// (each period starting when the previous TIMER call has returned).
	Set(ctx context.Context, d time.Duration, repeat bool, blob []byte) (id uint32, code int32)
	// Reserve takes an id for such a timer without starting it (an INIT
	// call's, started when its version is accepted); it counts against
	// MaxTimers from now on. Its delay runs from the Reserve.
	Reserve(ctx context.Context, d time.Duration, repeat bool, blob []byte) (id uint32, code int32)
	// Start starts a reserved timer; a shared backend may refuse it
	// (ErrLimit when others filled the bound meanwhile).
	Start(ctx context.Context, id uint32) int32
	// Drop forgets a reserved timer that will not start.
	Drop(id uint32)
	// Cancel stops pending timer id; ErrNotFound when it is not pending
	// (never set, canceled, or a one-shot that fired).
	Cancel(ctx context.Context, id uint32) int32
	// Pending reports whether id is a pending timer.
	Pending(ctx context.Context, id uint32) (bool, int32)
	// Len returns the number of pending timers; -1 when a shared backend
	// cannot tell.
	Len(ctx context.Context) int
	// SetLimits changes the bounds; timers already pending stay.
	SetLimits(StateLimits)
	// Stop ends this process's part: no more TIMER calls from here, and
	// it waits for the one running. The memory backend cancels every
	// timer; a shared one leaves them to the other nodes.
	Stop()
}

// MemoryState keeps each plugin's key-value store and timers in this
// process's memory: the default backend. Every KV and Timers call makes a
// new store, owned by the caller (the plugin's handle), so they last as
// long as the handle: across reloads, not across a restart or a Remove.
type MemoryState struct{}

// KV returns a new, empty store with the default bounds.
func (MemoryState) KV(string) KVStore {
	s := &kvStore{}
	s.init(DefaultMaxKVEntries, DefaultMaxKVBytes)
	return s
}

// Timers returns a new timer set with the default bound, firing through
// fire.
func (MemoryState) Timers(_ string, fire TimerFunc) TimerStore {
	s := &timerSet{}
	s.init(fire, DefaultMaxTimers)
	return s
}
