package redis

import (
	"context"
	"strconv"
	"sync/atomic"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/sockwasm/sockwasm/host/plugin"
)

// sharedKV is a plugin's key-value store in Redis (see
// Cluster.PluginState for the keys): the same semantics and result codes
// as the memory store, each operation one atomic script, the bounds
// (max_kv_entries, max_kv_bytes) counted over the whole cluster.
type sharedKV struct {
	c    *Cluster
	keys []string // values, expiries, byte count
	lim  atomic.Pointer[plugin.StateLimits]
}

// check applies the bounds of an argument, as the host functions do
// before they call the store: key 1…MaxKVKey bytes, value ≤ MaxKVValue,
// TTL 0 or 1 ms…MaxKVTTL.
func (s *sharedKV) check(key string, val []byte, ttl time.Duration) int32 {
	switch lim := s.lim.Load(); {
	case key == "":
		return plugin.ErrInvalid
	case len(key) > plugin.MaxKVKey, lim.MaxKVValue > 0 && len(val) > lim.MaxKVValue:
		return plugin.ErrLimit
	case ttl < 0 || ttl > plugin.MaxKVTTL:
		return plugin.ErrInvalid
	}
	return 0
}

func (s *sharedKV) run(ctx context.Context, script *goredis.Script, args ...any) ([]any, int32) {
	return s.c.runScript(ctx, s.lim.Load().CallTimeout, script, s.keys, args...)
}

// bounds are the ARGV of the entry and byte bounds.
func (s *sharedKV) bounds() (int, int) {
	lim := s.lim.Load()
	return lim.MaxKVEntries, lim.MaxKVBytes
}

// Get implements plugin.KVStore.
func (s *sharedKV) Get(ctx context.Context, key string) ([]byte, time.Duration, int32) {
	if code := s.check(key, nil, 0); code != 0 {
		return nil, 0, code
	}
	reply, code := s.run(ctx, kvGetScript, key)
	if code != 0 {
		return nil, 0, code
	}
	if len(reply) < 3 {
		return nil, 0, plugin.ErrFailed
	}
	return replyBytes(reply[1]), time.Duration(replyInt(reply[2])) * time.Millisecond, 0
}

// Set implements plugin.KVStore.
func (s *sharedKV) Set(ctx context.Context, key string, val []byte, ttl time.Duration) int32 {
	if code := s.check(key, val, ttl); code != 0 {
		return code
	}
	max, maxBytes := s.bounds()
	_, code := s.run(ctx, kvSetScript, key, val, millis(ttl), max, maxBytes)
	return code
}

// Delete implements plugin.KVStore.
func (s *sharedKV) Delete(ctx context.Context, key string) (bool, int32) {
	if code := s.check(key, nil, 0); code != 0 {
		return false, code
	}
	reply, code := s.run(ctx, kvDeleteScript, key)
	if code != 0 || len(reply) < 2 {
		return false, code
	}
	return replyInt(reply[1]) == 1, 0
}

// Incr implements plugin.KVStore.
func (s *sharedKV) Incr(ctx context.Context, key string, delta int64) (int64, int32) {
	if code := s.check(key, nil, 0); code != 0 {
		return 0, code
	}
	max, maxBytes := s.bounds()
	reply, code := s.run(ctx, kvIncrScript, key, strconv.FormatInt(delta, 10), max, maxBytes)
	if code != 0 {
		return 0, code
	}
	if len(reply) < 2 {
		return 0, plugin.ErrFailed
	}
	n, err := strconv.ParseInt(string(replyBytes(reply[1])), 10, 64)
	if err != nil {
		return 0, plugin.ErrFailed
	}
	return n, 0
}

// CompareAndSwap implements plugin.KVStore.
func (s *sharedKV) CompareAndSwap(ctx context.Context, key string, old, val []byte, flags uint32, ttl time.Duration) (bool, int32) {
	if flags&^(plugin.KVOldAbsent|plugin.KVNewAbsent) != 0 {
		return false, plugin.ErrInvalid
	}
	if code := s.check(key, val, ttl); code != 0 {
		return false, code
	}
	flag := func(f uint32) string {
		if flags&f != 0 {
			return "1"
		}
		return "0"
	}
	max, maxBytes := s.bounds()
	reply, code := s.run(ctx, kvCASScript, key, old, val, flag(plugin.KVOldAbsent), flag(plugin.KVNewAbsent), millis(ttl), max, maxBytes)
	if code != 0 || len(reply) < 2 {
		return false, code
	}
	return replyInt(reply[1]) == 1, 0
}

// SetLimits implements plugin.KVStore.
func (s *sharedKV) SetLimits(l plugin.StateLimits) { s.lim.Store(&l) }

// Len implements plugin.KVStore.
func (s *sharedKV) Len(ctx context.Context) int {
	reply, code := s.run(ctx, kvLenScript)
	if code != 0 || len(reply) < 2 {
		return -1
	}
	return int(replyInt(reply[1]))
}

// Size implements plugin.KVSizer: the entry count and the byte count the
// scripts keep (…#kv-bytes), in one round trip.
func (s *sharedKV) Size(ctx context.Context) (entries, bytes int) {
	reply, code := s.run(ctx, kvSizeScript)
	if code != 0 || len(reply) < 3 {
		return -1, -1
	}
	return int(replyInt(reply[1])), int(replyInt(reply[2]))
}
