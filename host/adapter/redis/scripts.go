package redis

import (
	"strconv"

	goredis "github.com/redis/go-redis/v9"

	"github.com/sockwasm/sockwasm/host/plugin"
)

// The Lua scripts of the plugins' shared state (state.go describes the
// keys). Each runs atomically in Redis, with Redis's clock (TIME) as the
// only clock, so that nodes whose clocks differ agree on expiries and due
// times. go-redis runs them with EVALSHA and falls back to EVAL when Redis
// does not know them (after a restart). They return an array whose first
// element is 0 or a negative ABI code.
//
// Lua numbers are doubles: times in milliseconds and byte counts fit
// exactly; 64-bit integers do not, so kv_incr adds with HINCRBY, which
// does exact signed 64-bit arithmetic and refuses an overflow.

// luaCodes makes the ABI codes the scripts return.
var luaCodes = "local ERR_INVALID, ERR_NOT_FOUND, ERR_LIMIT, ERR_FAILED = " +
	strconv.Itoa(int(plugin.ErrInvalid)) + ", " + strconv.Itoa(int(plugin.ErrNotFound)) + ", " +
	strconv.Itoa(int(plugin.ErrLimit)) + ", " + strconv.Itoa(int(plugin.ErrFailed)) + "\n"

// luaNow is Redis's clock in milliseconds.
const luaNow = `
local function now_ms()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
`

// reclaimBatch and reclaimBudget bound the expired entries a write into a
// full store reclaims: in batches, until the write fits, at most
// reclaimBudget in one script (so that one write never blocks Redis for
// long; the next write reclaims more).
const (
	reclaimBatch  = 128
	reclaimBudget = 10_000
)

// luaKV is the prelude of the key-value scripts. KEYS[1] is the hash of
// values, KEYS[2] the sorted set of expiries, KEYS[3] the byte count.
var luaKV = luaCodes + luaNow + `
local KV, EXP, BYTES = KEYS[1], KEYS[2], KEYS[3]

-- remove deletes key k, present, and its bytes.
local function remove(k)
  local n = #k + redis.call('HSTRLEN', KV, k)
  redis.call('HDEL', KV, k)
  redis.call('ZREM', EXP, k)
  redis.call('DECRBY', BYTES, n)
end

-- lookup returns the value of k, or nil when absent; an expired entry is
-- removed. The second result is its expiry (0: none).
local function lookup(k, now)
  local v = redis.call('HGET', KV, k)
  if not v then return nil, 0 end
  local e = redis.call('ZSCORE', EXP, k)
  if not e then return v, 0 end
  e = tonumber(e)
  if e <= now then
    remove(k)
    return nil, 0
  end
  return v, e
end

-- reclaim removes up to n expired entries, the oldest expiry first; it
-- returns how many it removed.
local function reclaim(now, n)
  local ks = redis.call('ZRANGEBYSCORE', EXP, '-inf', now, 'LIMIT', 0, n)
  if #ks == 0 then return 0 end
  local freed = 0
  for _, k in ipairs(ks) do
    freed = freed + #k + redis.call('HSTRLEN', KV, k)
    redis.call('HDEL', KV, k)
  end
  -- the expired entries are the lowest ranks of EXP
  redis.call('ZREMRANGEBYRANK', EXP, 0, #ks - 1)
  redis.call('DECRBY', BYTES, freed)
  return #ks
end

-- store sets k to v within the bounds, reclaiming expired entries when
-- they are reached; exp is the expiry (0: none, -1: keep the current
-- one). k, when present, is live. It returns false at a bound.
local function store(k, v, exp, now, max, maxBytes)
  local had = redis.call('HEXISTS', KV, k) == 1
  local grow = #v
  if had then grow = grow - redis.call('HSTRLEN', KV, k) else grow = grow + #k end
  local function full()
    if not had and redis.call('HLEN', KV) >= max then return true end
    return tonumber(redis.call('GET', BYTES) or '0') + grow > maxBytes
  end
  if full() then
    local budget = ` + strconv.Itoa(reclaimBudget) + `
    while budget > 0 do
      local n = reclaim(now, math.min(` + strconv.Itoa(reclaimBatch) + `, budget))
      budget = budget - n
      if n == 0 or not full() then break end
    end
    if full() then return false end
  end
  redis.call('HSET', KV, k, v)
  if exp > 0 then
    redis.call('ZADD', EXP, exp, k)
  elseif exp == 0 then
    redis.call('ZREM', EXP, k)
  end
  if grow ~= 0 then redis.call('INCRBY', BYTES, grow) end
  return true
end

-- expiry is the expiry of a TTL in ms (0: none).
local function expiry(ttl, now)
  ttl = tonumber(ttl)
  if ttl > 0 then return now + ttl end
  return 0
end
`

// kvGetScript: ARGV key → {0, value, ms left (0: none)} | {ERR_NOT_FOUND}.
var kvGetScript = goredis.NewScript(luaKV + `
local now = now_ms()
local v, e = lookup(ARGV[1], now)
if not v then return {ERR_NOT_FOUND} end
if e > 0 then return {0, v, e - now} end
return {0, v, 0}
`)

// kvSetScript: ARGV key, value, ttl ms, max entries, max bytes → {0} |
// {ERR_LIMIT}.
var kvSetScript = goredis.NewScript(luaKV + `
local now = now_ms()
lookup(ARGV[1], now)
if not store(ARGV[1], ARGV[2], expiry(ARGV[3], now), now, tonumber(ARGV[4]), tonumber(ARGV[5])) then
  return {ERR_LIMIT}
end
return {0}
`)

// kvDeleteScript: ARGV key → {0, 1 when it was there, else 0}.
var kvDeleteScript = goredis.NewScript(luaKV + `
local v = lookup(ARGV[1], now_ms())
if not v then return {0, 0} end
remove(ARGV[1])
return {0, 1}
`)

// kvIncrScript: ARGV key, delta, max entries, max bytes → {0, sum as
// decimal} | {ERR_INVALID} | {ERR_LIMIT}. The value must be a decimal
// integer as Go's strconv.ParseInt reads it (a sign, leading zeros); it is
// stored back in canonical form.
var kvIncrScript = goredis.NewScript(luaKV + `
local now = now_ms()
local k = ARGV[1]
local v = lookup(k, now)
local canon = '0'
if v then
  if not string.match(v, '^[+-]?%d+$') then return {ERR_INVALID} end
  local digits = string.gsub(v, '^[+-]?0*', '')
  if #digits > 19 then return {ERR_INVALID} end
  if digits ~= '' then
    canon = digits
    if string.sub(v, 1, 1) == '-' then canon = '-' .. digits end
  end
end
-- HINCRBY adds exactly (64-bit) or refuses; the entry is put back as it
-- was before store writes the sum within the bounds.
redis.call('HSET', KV, k, canon)
local r = redis.pcall('HINCRBY', KV, k, ARGV[2])
local sum = redis.call('HGET', KV, k)
if v then redis.call('HSET', KV, k, v) else redis.call('HDEL', KV, k) end
if type(r) == 'table' and r.err then return {ERR_INVALID} end
if not store(k, sum, -1, now, tonumber(ARGV[3]), tonumber(ARGV[4])) then return {ERR_LIMIT} end
return {0, sum}
`)

// kvCASScript: ARGV key, old, new, old absent (1/0), new absent (1/0),
// ttl ms, max entries, max bytes → {0, 1 swapped | 0} | {ERR_LIMIT}.
var kvCASScript = goredis.NewScript(luaKV + `
local now = now_ms()
local k = ARGV[1]
local v = lookup(k, now)
local match
if ARGV[4] == '1' then match = not v else match = v and v == ARGV[2] end
if not match then return {0, 0} end
if ARGV[5] == '1' then
  if v then remove(k) end
  return {0, 1}
end
if not store(k, ARGV[3], expiry(ARGV[6], now), now, tonumber(ARGV[7]), tonumber(ARGV[8])) then
  return {ERR_LIMIT}
end
return {0, 1}
`)

// kvLenScript: → {0, entries}.
var kvLenScript = goredis.NewScript(`return {0, redis.call('HLEN', KEYS[1])}`)

// kvSizeScript: → {0, entries, bytes} (the byte count kept by the writes).
var kvSizeScript = goredis.NewScript(`return {0, redis.call('HLEN', KEYS[1]), tonumber(redis.call('GET', KEYS[3]) or '0')}`)

// maxTimerID is the largest timer id: ids are 1…2³¹−1 (a positive i32).
const maxTimerID = 1<<31 - 1

// luaTimers is the prelude of the timer scripts. KEYS[1] is the hash of
// contexts (one field per pending timer: the set of pending timers),
// KEYS[2] the hash of periods (repeating timers only), KEYS[3] the sorted
// set of due times, KEYS[4] the id counter.
var luaTimers = luaCodes + luaNow + `
local CTX, EVERY, DUE, ID = KEYS[1], KEYS[2], KEYS[3], KEYS[4]

-- newid takes the next id not pending (at most max are).
local function newid()
  while true do
    local id = redis.call('INCR', ID)
    if id > ` + strconv.Itoa(maxTimerID) + ` then
      redis.call('SET', ID, 1)
      id = 1
    end
    if redis.call('HEXISTS', CTX, id) == 0 then return id end
  end
end

-- add makes id pending, due after delay ms, repeating every ms when > 0.
local function add(id, delay, every, ctx)
  redis.call('HSET', CTX, id, ctx)
  if tonumber(every) > 0 then redis.call('HSET', EVERY, id, every) end
  redis.call('ZADD', DUE, now_ms() + tonumber(delay), id)
end
`

// timerSetScript: ARGV delay ms, every ms (0: one-shot), context, max
// timers, ids this node holds reserved, reserve (1: take an id only) →
// {0, id} | {ERR_LIMIT}.
var timerSetScript = goredis.NewScript(luaTimers + `
if redis.call('HLEN', CTX) + tonumber(ARGV[5]) >= tonumber(ARGV[4]) then return {ERR_LIMIT} end
local id = newid()
if ARGV[6] ~= '1' then add(id, ARGV[1], ARGV[2], ARGV[3]) end
return {0, id}
`)

// timerStartScript starts a reserved timer: ARGV id, delay ms, every ms,
// context, max timers → {0} | {ERR_LIMIT} | {ERR_FAILED} (the id is
// pending: the counter went round meanwhile).
var timerStartScript = goredis.NewScript(luaTimers + `
if redis.call('HLEN', CTX) >= tonumber(ARGV[5]) then return {ERR_LIMIT} end
if redis.call('HEXISTS', CTX, ARGV[1]) == 1 then return {ERR_FAILED} end
add(ARGV[1], ARGV[2], ARGV[3], ARGV[4])
return {0}
`)

// timerCancelScript: ARGV id → {0} | {ERR_NOT_FOUND}.
var timerCancelScript = goredis.NewScript(luaTimers + `
if redis.call('HDEL', CTX, ARGV[1]) == 0 then return {ERR_NOT_FOUND} end
redis.call('HDEL', EVERY, ARGV[1])
redis.call('ZREM', DUE, ARGV[1])
return {0}
`)

// timerPendingScript: ARGV id → {0, 1 | 0}.
var timerPendingScript = goredis.NewScript(`return {0, redis.call('HEXISTS', KEYS[1], ARGV[1])}`)

// timerLenScript: → {0, pending timers}.
var timerLenScript = goredis.NewScript(`return {0, redis.call('HLEN', KEYS[1])}`)

// timerClaimScript takes the earliest due timer for this node: ARGV lease
// ms. A one-shot timer is removed (it has fired: at most once); a
// repeating one is moved a period plus the lease ahead, so that no other
// node takes it while this one runs its call, and its claim is that due
// time. → {1, id, context, every ms (0: one-shot), claim} when one was
// due, else {0, ms until the next due time (-1: none)}.
var timerClaimScript = goredis.NewScript(luaTimers + `
local now = now_ms()
local due = redis.call('ZRANGEBYSCORE', DUE, '-inf', now, 'WITHSCORES', 'LIMIT', 0, 1)
if #due == 0 then
  local nxt = redis.call('ZRANGE', DUE, 0, 0, 'WITHSCORES')
  if #nxt == 0 then return {0, -1} end
  return {0, tonumber(nxt[2]) - now}
end
local id = due[1]
local ctx = redis.call('HGET', CTX, id)
if not ctx then
  redis.call('ZREM', DUE, id)
  return {0, 0}
end
local every = redis.call('HGET', EVERY, id)
if every then
  local claim = now + tonumber(every) + tonumber(ARGV[1])
  redis.call('ZADD', DUE, claim, id)
  return {1, tonumber(id), ctx, tonumber(every), claim}
end
redis.call('ZREM', DUE, id)
redis.call('HDEL', CTX, id)
return {1, tonumber(id), ctx, 0, 0}
`)

// timerRescheduleScript starts the next period of a repeating timer whose
// TIMER call has returned: ARGV id, claim, every ms. Nothing happens when
// the timer was canceled, or claimed again by another node after the
// lease (its due time is no longer the claim). → {0}.
var timerRescheduleScript = goredis.NewScript(luaTimers + `
local s = redis.call('ZSCORE', DUE, ARGV[1])
if s and tonumber(s) == tonumber(ARGV[2]) then
  redis.call('ZADD', DUE, now_ms() + tonumber(ARGV[3]), ARGV[1])
end
return {0}
`)
