package redis

import (
	"context"
	"errors"
	"net"
	"strings"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/sockwasm/sockwasm/host/plugin"
)

// PluginState returns the backend that keeps the plugins' key-value stores
// and timers in Redis, for plugin.Options.State: every node of the
// cluster sees one store per plugin, and each timer fires once, on one
// node. It uses the cluster's connection; its goroutines (one timer poller
// per plugin granted "timers") end with the plugin's Close or the
// cluster's Close.
//
// Keys. Everything of plugin NAME lives under "<key>-plugin#NAME#", <key>
// being Options.Key (so that clusters with different keys share a Redis
// and two plugins never see each other's keys):
//
//	…#kv          hash: the plugin's key → its value (every entry, expired
//	              ones not yet reclaimed included; HLEN is the entry count)
//	…#kv-exp      sorted set: key → expiry, Unix ms (entries with a TTL only)
//	…#kv-bytes    string: the sum of len(key)+len(value) over …#kv
//	…#timers      hash: timer id → its context (the pending timers; HLEN
//	              counts them against max_timers)
//	…#timer-every hash: timer id → period in ms (repeating timers only)
//	…#timer-due   sorted set: timer id → due time, Unix ms
//	…#timer-id    string: the last timer id given (ids go round after 2³¹−1)
//
// Redis 7.0 has no expiry of hash fields, and keys that expire on their
// own would leave the counts behind; so expiries are a sorted set kept by
// the scripts (scripts.go), which keep the three KV keys consistent
// atomically: an expired entry is removed when it is read, and when a
// write finds the store at max_kv_entries or max_kv_bytes, expired entries
// are reclaimed (oldest first, up to 10 000 per write) before the write is
// refused. Times are Redis's clock (TIME), the same for every node.
//
// Timers. Each node polls every pollInterval for due timers of each plugin
// granted "timers" (sooner when it knows one is due sooner); a script
// claims the earliest due timer atomically, so one node fires it. A
// one-shot timer is removed when claimed: it fires at most once (a node
// killed between claim and call loses that firing). A repeating one is
// moved a period plus a lease (twice the call timeout, plus a second)
// ahead while its call runs, then, when the call has returned, a period
// after that: its periods start when the previous call returned, as in
// memory, and a node that dies in a call only delays it by the lease.
//
// Waiting. Each round trip waits at most min(Options.RequestTimeout, half
// the plugin's call timeout): then ERR_TIMEOUT, and the operation may or
// may not have taken place. While the cluster knows Redis is away (the
// outage it logs once), operations fail at once with ERR_UNAVAILABLE.
func (c *Cluster) PluginState() plugin.SharedState { return pluginState{c} }

// pluginState is the SharedState of a Cluster.
type pluginState struct{ c *Cluster }

// KV implements plugin.SharedState.
func (s pluginState) KV(name string) plugin.KVStore {
	kv := &sharedKV{c: s.c, keys: s.c.stateKeys(name, "kv", "kv-exp", "kv-bytes")}
	kv.lim.Store(&plugin.StateLimits{})
	return kv
}

// Timers implements plugin.SharedState.
func (s pluginState) Timers(name string, fire plugin.TimerFunc) plugin.TimerStore {
	return newSharedTimers(s.c, name, fire)
}

// stateKeys returns the Redis keys of plugin name with these suffixes.
func (c *Cluster) stateKeys(name string, suffixes ...string) []string {
	keys := make([]string, len(suffixes))
	for i, s := range suffixes {
		keys[i] = c.opts.Key + "-plugin#" + name + "#" + s
	}
	return keys
}

// stateWait bounds one round trip of the shared state: the request
// timeout, and half the plugin's call timeout, so that a guest call is
// never held longer and still has time to use the answer.
func (c *Cluster) stateWait(callTimeout time.Duration) time.Duration {
	w := c.opts.RequestTimeout
	if callTimeout > 0 {
		w = min(w, callTimeout/2)
	}
	return w
}

// runScript runs a state script for a plugin whose call timeout is
// callTimeout, within the wait bound (and ctx). It returns the script's
// reply, or the ABI code of its failure: the code the script returned,
// or that of the round trip.
func (c *Cluster) runScript(ctx context.Context, callTimeout time.Duration, s *goredis.Script, keys []string, args ...any) ([]any, int32) {
	if c.down.Load() {
		return nil, plugin.ErrUnavailable
	}
	ctx, cancel := context.WithTimeout(ctx, c.stateWait(callTimeout))
	defer cancel()
	v, err := s.Run(ctx, c.rdb, keys, args...).Result()
	if err != nil {
		return nil, c.stateCode(err)
	}
	reply, ok := v.([]any)
	if !ok || len(reply) == 0 {
		c.log.Debug().Msg("state script: malformed reply")
		return nil, plugin.ErrFailed
	}
	if code := replyInt(reply[0]); code < 0 {
		return nil, int32(code)
	}
	return reply, 0
}

// stateCode is the ABI code of a failed round trip: ERR_TIMEOUT when no
// answer came in time, ERR_UNAVAILABLE when Redis cannot be reached (the
// outage is logged once, as the cluster does), ERR_FAILED for an error
// reply (logged at debug level).
func (c *Cluster) stateCode(err error) int32 {
	var ne net.Error
	var rerr goredis.Error
	switch {
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, context.Canceled),
		errors.Is(err, goredis.ErrPoolTimeout), errors.As(err, &ne) && ne.Timeout():
		return plugin.ErrTimeout
	case errors.As(err, &rerr):
		msg := rerr.Error()
		if strings.HasPrefix(msg, "LOADING") || strings.HasPrefix(msg, "BUSY") || strings.HasPrefix(msg, "MASTERDOWN") {
			return plugin.ErrUnavailable
		}
		c.log.Debug().Err(err).Msg("state script refused")
		return plugin.ErrFailed
	}
	c.setDown(err)
	return plugin.ErrUnavailable
}

// replyInt reads an integer of a script's reply (0 when it is not one).
func replyInt(v any) int64 {
	n, _ := v.(int64)
	return n
}

// replyBytes reads a string of a script's reply.
func replyBytes(v any) []byte {
	s, _ := v.(string)
	return []byte(s)
}

// millis is d in whole milliseconds, rounded up: a positive duration never
// becomes 0 (which would mean "no expiry" or "at once").
func millis(d time.Duration) int64 {
	if d <= 0 {
		return 0
	}
	return int64((d + time.Millisecond - 1) / time.Millisecond)
}
