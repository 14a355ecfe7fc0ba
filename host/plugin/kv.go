package plugin

import (
	"context"
	"encoding/binary"
	"math"
	"strconv"
	"sync"
	"time"

	"github.com/tetratelabs/wazero/api"
)

// Bounds of the key-value store.
const (
	// MaxKVKey bounds a key's length in bytes.
	MaxKVKey = 1024
	// MaxKVTTL bounds a TTL: 30 days.
	MaxKVTTL = 30 * 24 * time.Hour
)

// Flags of kv_cas.
const (
	// KVOldAbsent: the swap happens only when the key is absent (old is
	// ignored).
	KVOldAbsent = 1 << 0
	// KVNewAbsent: a successful swap deletes the key (new is ignored).
	KVNewAbsent = 1 << 1
)

// kvStore is a plugin's key-value store in memory (MemoryState), shared
// by every instance and version of the plugin, bounded in entries and in
// bytes (keys plus values). Expired entries are dropped when read, and all
// at once when a write finds the store full.
type kvStore struct {
	mu       sync.Mutex
	max      int
	maxBytes int
	bytes    int // sum of len(key)+len(val) over m
	m        map[string]kvEntry
}

type kvEntry struct {
	val []byte
	exp int64 // unix nanoseconds; 0: never
}

func (s *kvStore) init(max, maxBytes int) {
	s.max, s.maxBytes = max, maxBytes
	s.m = make(map[string]kvEntry)
}

// setLimits changes the bounds (a reload's new limits); entries already
// stored stay.
func (s *kvStore) setLimits(max, maxBytes int) {
	s.mu.Lock()
	s.max, s.maxBytes = max, maxBytes
	s.mu.Unlock()
}

// remove deletes key, which is present; s.mu is held.
func (s *kvStore) remove(key string) {
	s.bytes -= len(key) + len(s.m[key].val)
	delete(s.m, key)
}

func expiry(now time.Time, ttl time.Duration) int64 {
	if ttl <= 0 {
		return 0
	}
	return now.Add(ttl).UnixNano()
}

// lookup returns the live entry of key; s.mu is held.
func (s *kvStore) lookup(key string, now int64) (kvEntry, bool) {
	e, ok := s.m[key]
	if ok && e.exp != 0 && e.exp <= now {
		s.remove(key)
		return kvEntry{}, false
	}
	return e, ok
}

// store sets key; s.mu is held. It returns ErrLimit when the entry or
// byte bound would be exceeded.
func (s *kvStore) store(key string, e kvEntry, now int64) int32 {
	old, had := s.m[key]
	grow := len(e.val) - len(old.val)
	if !had {
		grow += len(key)
	}
	full := func() bool { return (!had && len(s.m) >= s.max) || s.bytes+grow > s.maxBytes }
	if full() {
		for k, x := range s.m {
			if x.exp != 0 && x.exp <= now && k != key {
				s.remove(k)
			}
		}
		if full() {
			return ErrLimit
		}
	}
	s.m[key] = e
	s.bytes += grow
	return 0
}

func (s *kvStore) get(key string) ([]byte, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	e, ok := s.lookup(key, time.Now().UnixNano())
	return e.val, ok
}

func (s *kvStore) set(key string, val []byte, ttl time.Duration) int32 {
	now := time.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.store(key, kvEntry{val: val, exp: expiry(now, ttl)}, now.UnixNano())
}

func (s *kvStore) delete(key string) (bool, int32) {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, ok := s.lookup(key, time.Now().UnixNano())
	if ok {
		s.remove(key)
	}
	return ok, 0
}

// incr adds delta to the decimal integer stored at key (absent counts as
// 0), keeping its expiry.
func (s *kvStore) incr(key string, delta int64) (int64, int32) {
	now := time.Now().UnixNano()
	s.mu.Lock()
	defer s.mu.Unlock()
	e, ok := s.lookup(key, now)
	n, code := addDecimal(e.val, ok, delta)
	if code != 0 {
		return 0, code
	}
	e.val = strconv.AppendInt(nil, n, 10)
	return n, s.store(key, e, now)
}

// addDecimal adds delta to the decimal integer val (0 when absent);
// ErrInvalid when val is not one or the sum overflows.
func addDecimal(val []byte, present bool, delta int64) (int64, int32) {
	var n int64
	if present {
		var err error
		if n, err = strconv.ParseInt(string(val), 10, 64); err != nil {
			return 0, ErrInvalid
		}
	}
	if (delta > 0 && n > math.MaxInt64-delta) || (delta < 0 && n < math.MinInt64-delta) {
		return 0, ErrInvalid
	}
	return n + delta, 0
}

// casMatches reports whether the entry (present or not) is what a
// compare-and-swap expects.
func casMatches(e kvEntry, present bool, old []byte, flags uint32) bool {
	if flags&KVOldAbsent != 0 {
		return !present
	}
	return present && string(e.val) == string(old)
}

// cas replaces the value of key by val when it currently is old; flags
// KVOldAbsent / KVNewAbsent stand for an absent key. It returns 1 when
// swapped, 0 when the current value differs.
func (s *kvStore) cas(key string, old, val []byte, flags uint32, ttl time.Duration) int32 {
	now := time.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
	e, ok := s.lookup(key, now.UnixNano())
	if !casMatches(e, ok, old, flags) {
		return 0
	}
	if flags&KVNewAbsent != 0 {
		if ok { // both flags on an absent key: nothing to remove
			s.remove(key)
		}
		return 1
	}
	if code := s.store(key, kvEntry{val: val, exp: expiry(now, ttl)}, now.UnixNano()); code != 0 {
		return code
	}
	return 1
}

// Get implements KVStore.
func (s *kvStore) Get(_ context.Context, key string) ([]byte, time.Duration, int32) {
	now := time.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
	e, ok := s.lookup(key, now.UnixNano())
	if !ok {
		return nil, 0, ErrNotFound
	}
	var ttl time.Duration
	if e.exp != 0 {
		ttl = time.Duration(e.exp - now.UnixNano())
	}
	return e.val, ttl, 0
}

// Set implements KVStore.
func (s *kvStore) Set(_ context.Context, key string, val []byte, ttl time.Duration) int32 {
	return s.set(key, val, ttl)
}

// Delete implements KVStore.
func (s *kvStore) Delete(_ context.Context, key string) (bool, int32) { return s.delete(key) }

// Incr implements KVStore.
func (s *kvStore) Incr(_ context.Context, key string, delta int64) (int64, int32) {
	return s.incr(key, delta)
}

// CompareAndSwap implements KVStore.
func (s *kvStore) CompareAndSwap(_ context.Context, key string, old, val []byte, flags uint32, ttl time.Duration) (bool, int32) {
	switch code := s.cas(key, old, val, flags, ttl); code {
	case 0, 1:
		return code == 1, 0
	default:
		return false, code
	}
}

// SetLimits implements KVStore.
func (s *kvStore) SetLimits(l StateLimits) { s.setLimits(l.MaxKVEntries, l.MaxKVBytes) }

// Len implements KVStore.
func (s *kvStore) Len(context.Context) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.m)
}

// Size implements KVSizer.
func (s *kvStore) Size(context.Context) (entries, bytes int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.m), s.bytes
}

// kvKey reads a key argument.
func kvKey(c *call, m api.Module, ptr, n uint64) (string, int32) {
	if uint32(n) > MaxKVKey {
		return "", c.limited("key over 1024 bytes")
	}
	return readName(m, ptr, n)
}

// kvTTL converts a TTL argument in ms (0: none); the range is checked
// before any arithmetic, so no value overflows into "never expires".
func kvTTL(ms uint64) (time.Duration, int32) {
	t := int64(ms)
	if t < 0 || t > MaxKVTTL.Milliseconds() {
		return 0, ErrInvalid
	}
	return time.Duration(t) * time.Millisecond, 0
}

// kvValue copies a value argument, bounded by the version's MaxKVValue.
func kvValue(c *call, m api.Module, ptr, n uint64) ([]byte, int32) {
	return copyBounded(c, m, ptr, n, c.v.lim.MaxKVValue, "value over max_kv_value")
}

// kvCall reads the key of a KV import (its first two parameters); on
// failure it has already set the result and ok is false.
func kvCall(ctx context.Context, m api.Module, stack []uint64) (c *call, key string, ok bool) {
	c = currentCall(ctx)
	key, code := kvKey(c, m, stack[0], stack[1])
	if code != 0 {
		ret(stack, code)
		return nil, "", false
	}
	return c, key, true
}

// kvOf returns the store c reads and writes: the plugin's, or, in an INIT
// call, the stage over it.
func kvOf(c *call) kvOps {
	if c.stage != nil {
		return stagedStore{st: c.stage, base: c.p.kv, lim: c.v.lim}
	}
	return c.p.kv
}

// kvOps are the operations of the key-value host functions.
type kvOps interface {
	Get(ctx context.Context, key string) ([]byte, time.Duration, int32)
	Set(ctx context.Context, key string, val []byte, ttl time.Duration) int32
	Delete(ctx context.Context, key string) (bool, int32)
	Incr(ctx context.Context, key string, delta int64) (int64, int32)
	CompareAndSwap(ctx context.Context, key string, old, val []byte, flags uint32, ttl time.Duration) (bool, int32)
}

// hostKVGet is kv_get(key_ptr, key_len, buf, limit) -> len | ERR_NOT_FOUND.
func hostKVGet(ctx context.Context, m api.Module, stack []uint64) {
	c, key, ok := kvCall(ctx, m, stack)
	if !ok {
		return
	}
	val, _, code := kvOf(c).Get(ctx, key)
	if code != 0 {
		ret(stack, c.kvCode(code))
		return
	}
	ret(stack, writeOut(m, stack[2], stack[3], val))
}

// hostKVSet is kv_set(key_ptr, key_len, val_ptr, val_len, ttl_ms i64) -> 0.
func hostKVSet(ctx context.Context, m api.Module, stack []uint64) {
	c, key, ok := kvCall(ctx, m, stack)
	if !ok {
		return
	}
	val, code := kvValue(c, m, stack[2], stack[3])
	if code != 0 {
		ret(stack, code)
		return
	}
	ttl, code := kvTTL(stack[4])
	if code != 0 {
		ret(stack, code)
		return
	}
	ret(stack, c.kvCode(kvOf(c).Set(ctx, key, val, ttl)))
}

// kvCode names the reason behind an error of the store (for the refusal
// log) and returns it.
func (c *call) kvCode(code int32) int32 {
	switch code {
	case ErrLimit:
		c.why = "the key-value store is at max_kv_entries or max_kv_bytes"
	case ErrTimeout:
		c.why = "the shared key-value store did not answer within half the call's deadline"
	case ErrUnavailable:
		c.why = "the shared key-value store (redis) cannot be reached"
	}
	return code
}

// hostKVDelete is kv_delete(key_ptr, key_len) -> 1 if it existed, else 0.
func hostKVDelete(ctx context.Context, m api.Module, stack []uint64) {
	c, key, ok := kvCall(ctx, m, stack)
	if !ok {
		return
	}
	deleted, code := kvOf(c).Delete(ctx, key)
	switch {
	case code != 0:
		ret(stack, c.kvCode(code))
	case deleted:
		ret(stack, 1)
	default:
		ret(stack, 0)
	}
}

// hostKVIncr is kv_incr(key_ptr, key_len, delta i64, out_ptr) -> 0; the
// new value is written to out_ptr as an i64.
func hostKVIncr(ctx context.Context, m api.Module, stack []uint64) {
	c, key, ok := kvCall(ctx, m, stack)
	if !ok {
		return
	}
	out, ok := view(m, stack[3], 8)
	if !ok {
		ret(stack, ErrMemory)
		return
	}
	n, code := kvOf(c).Incr(ctx, key, int64(stack[2]))
	if code != 0 {
		ret(stack, c.kvCode(code))
		return
	}
	binary.LittleEndian.PutUint64(out, uint64(n))
	ret(stack, 0)
}

// hostKVCAS is kv_cas(key_ptr, key_len, old_ptr, old_len, new_ptr,
// new_len, flags, ttl_ms i64) -> 1 swapped | 0 not.
func hostKVCAS(ctx context.Context, m api.Module, stack []uint64) {
	c, key, ok := kvCall(ctx, m, stack)
	if !ok {
		return
	}
	flags := uint32(stack[6])
	if flags&^(KVOldAbsent|KVNewAbsent) != 0 {
		ret(stack, ErrInvalid)
		return
	}
	old, ok := view(m, stack[2], stack[3])
	if !ok {
		ret(stack, ErrMemory)
		return
	}
	val, code := kvValue(c, m, stack[4], stack[5])
	if code != 0 {
		ret(stack, code)
		return
	}
	ttl, code := kvTTL(stack[7])
	if code != 0 {
		ret(stack, code)
		return
	}
	swapped, code := kvOf(c).CompareAndSwap(ctx, key, old, val, flags, ttl)
	switch {
	case code != 0:
		ret(stack, c.kvCode(code))
	case swapped:
		ret(stack, 1)
	default:
		ret(stack, 0)
	}
}

// stagedStore is the key-value store as an INIT call sees it: its writes
// go to the stage (bounded like the store), its reads see them first and
// the plugin's store (base) then.
type stagedStore struct {
	st   *stage
	base KVStore
	lim  Limits
}

// lookup returns the live entry of key through the stage.
func (s stagedStore) lookup(ctx context.Context, key string, now time.Time) (kvEntry, bool, int32) {
	if w, ok := s.st.kv[key]; ok {
		if w.deleted || (w.e.exp != 0 && w.e.exp <= now.UnixNano()) {
			return kvEntry{}, false, 0
		}
		return w.e, true, 0
	}
	val, ttl, code := s.base.Get(ctx, key)
	switch code {
	case 0:
		return kvEntry{val: val, exp: expiry(now, ttl)}, true, 0
	case ErrNotFound:
		return kvEntry{}, false, 0
	}
	return kvEntry{}, false, code
}

// put stages a write; ErrLimit when the stage would pass the store's
// bounds.
func (s stagedStore) put(key string, w stagedKV) int32 {
	old, had := s.st.kv[key]
	grow := len(w.e.val) - len(old.e.val)
	if !had {
		grow += len(key)
		if len(s.st.kv) >= s.lim.MaxKVEntries {
			return ErrLimit
		}
	}
	if s.st.kvBytes+grow > s.lim.MaxKVBytes {
		return ErrLimit
	}
	if s.st.kv == nil {
		s.st.kv = make(map[string]stagedKV)
	}
	s.st.kv[key] = w
	s.st.kvBytes += grow
	return 0
}

func (s stagedStore) Get(ctx context.Context, key string) ([]byte, time.Duration, int32) {
	now := time.Now()
	e, ok, code := s.lookup(ctx, key, now)
	switch {
	case code != 0:
		return nil, 0, code
	case !ok:
		return nil, 0, ErrNotFound
	case e.exp != 0:
		return e.val, time.Duration(e.exp - now.UnixNano()), 0
	}
	return e.val, 0, 0
}

func (s stagedStore) Set(_ context.Context, key string, val []byte, ttl time.Duration) int32 {
	return s.put(key, stagedKV{e: kvEntry{val: val, exp: expiry(time.Now(), ttl)}})
}

func (s stagedStore) Delete(ctx context.Context, key string) (bool, int32) {
	_, ok, code := s.lookup(ctx, key, time.Now())
	if code != 0 || !ok {
		return false, code
	}
	if code := s.put(key, stagedKV{deleted: true}); code != 0 {
		return false, code
	}
	return true, 0
}

func (s stagedStore) Incr(ctx context.Context, key string, delta int64) (int64, int32) {
	e, ok, code := s.lookup(ctx, key, time.Now())
	if code != 0 {
		return 0, code
	}
	n, code := addDecimal(e.val, ok, delta)
	if code != 0 {
		return 0, code
	}
	e.val = strconv.AppendInt(nil, n, 10)
	return n, s.put(key, stagedKV{e: e})
}

func (s stagedStore) CompareAndSwap(ctx context.Context, key string, old, val []byte, flags uint32, ttl time.Duration) (bool, int32) {
	now := time.Now()
	e, ok, code := s.lookup(ctx, key, now)
	if code != 0 || !casMatches(e, ok, old, flags) {
		return false, code
	}
	w := stagedKV{deleted: flags&KVNewAbsent != 0}
	if !w.deleted {
		w.e = kvEntry{val: val, exp: expiry(now, ttl)}
	}
	if code := s.put(key, w); code != 0 {
		return false, code
	}
	return true, 0
}
