package redis

import (
	"bytes"
	"context"
	"fmt"
	"math"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sockwasm/sockwasm/host/internal/redistest"
	"github.com/sockwasm/sockwasm/host/plugin"
)

var bg = context.Background()

// testLimits are roomy bounds; tests lower the one they check.
var testLimits = plugin.StateLimits{
	MaxKVValue: 64 << 10, MaxKVEntries: 10_000, MaxKVBytes: 16 << 20,
	MaxTimers: 1000, CallTimeout: time.Second, WatchTimers: true,
}

// startNode connects a "node" to the cluster on r with channel prefix
// key, closed at the end of the test.
func startNode(t *testing.T, r *redistest.Server, key string) *Cluster {
	t.Helper()
	c, err := New(Options{URL: r.URL(), Key: key, RequestTimeout: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func kvOn(c *Cluster, name string, lim plugin.StateLimits) plugin.KVStore {
	kv := c.PluginState().KV(name)
	kv.SetLimits(lim)
	return kv
}

// describe runs op on store and describes its results.
type kvOp struct {
	name string
	run  func(plugin.KVStore) string
}

func get(k string) kvOp {
	return kvOp{"get " + k, func(s plugin.KVStore) string {
		v, ttl, code := s.Get(bg, k)
		return fmt.Sprintf("%q ttl>0:%v %d", v, ttl > 0, code)
	}}
}
func set(k, v string, ttl time.Duration) kvOp {
	return kvOp{"set " + k + "=" + v, func(s plugin.KVStore) string { return fmt.Sprint(s.Set(bg, k, []byte(v), ttl)) }}
}
func del(k string) kvOp {
	return kvOp{"del " + k, func(s plugin.KVStore) string {
		ok, code := s.Delete(bg, k)
		return fmt.Sprint(ok, code)
	}}
}
func incr(k string, d int64) kvOp {
	return kvOp{"incr " + k + " " + strconv.FormatInt(d, 10), func(s plugin.KVStore) string {
		n, code := s.Incr(bg, k, d)
		return fmt.Sprint(n, code)
	}}
}
func cas(k string, old, val []byte, flags uint32) kvOp {
	return kvOp{fmt.Sprintf("cas %s %q→%q %d", k, old, val, flags), func(s plugin.KVStore) string {
		ok, code := s.CompareAndSwap(bg, k, old, val, flags, 0)
		return fmt.Sprint(ok, code)
	}}
}

// The Redis store gives the memory store's results, operation by
// operation, codes included.
func TestSharedKVMatchesMemory(t *testing.T) {
	r := redistest.Start(t)
	shared := kvOn(startNode(t, r, "m"), "p", testLimits)
	mem := plugin.MemoryState{}.KV("p")
	mem.SetLimits(testLimits)
	ops := []kvOp{
		get("k"), del("k"),
		set("k", "v1", 0), get("k"),
		cas("k", []byte("nope"), []byte("v2"), 0), cas("k", []byte("v1"), []byte("v2"), 0), get("k"),
		cas("k", nil, []byte("v3"), plugin.KVOldAbsent), cas("new", nil, []byte("n1"), plugin.KVOldAbsent), get("new"),
		cas("new", []byte("n1"), nil, plugin.KVNewAbsent), get("new"),
		cas("absent", nil, nil, plugin.KVOldAbsent|plugin.KVNewAbsent), get("absent"),
		cas("k", []byte("v2"), []byte(""), 0), get("k"), cas("k", []byte(""), []byte("e"), 0),
		incr("n", 5), incr("n", -7), get("n"), incr("k", 1),
		set("z", "007", 0), incr("z", 1), get("z"),
		set("z", "+5", 0), incr("z", 0), get("z"),
		set("z", "-0", 0), incr("z", -1), get("z"),
		set("z", "-000", 0), incr("z", 0),
		set("z", "", 0), incr("z", 1), get("z"),
		set("z", " 1", 0), incr("z", 1),
		set("z", "1.5", 0), incr("z", 1),
		set("z", "0x10", 0), incr("z", 1),
		set("z", "9223372036854775807", 0), incr("z", 1), get("z"), incr("z", -1),
		set("z", "9223372036854775808", 0), incr("z", 0),
		set("z", "-9223372036854775808", 0), incr("z", -1), incr("z", 0), incr("z", math.MaxInt64),
		set("z", "00000000000000000000000042", 0), incr("z", 0),
		incr("fresh", math.MinInt64), incr("fresh", -1),
		set("ttl", "t", time.Hour), get("ttl"), incr("ttl", 0), get("ttl"), incr("ttl2", 1), set("ttl", "x", 0), get("ttl"),
		set("bin", "\x00\xff\r\n", 0), get("bin"),
		del("k"), del("k"), del("n"), get("n"),
	}
	for _, op := range ops {
		want, got := op.run(mem), op.run(shared)
		if got != want {
			t.Errorf("%s: redis %s, memory %s", op.name, got, want)
		}
	}
	if m, s := mem.Len(bg), shared.Len(bg); m != s {
		t.Errorf("Len: redis %d, memory %d", s, m)
	}
	me, mb := mem.(plugin.KVSizer).Size(bg)
	se, sb := shared.(plugin.KVSizer).Size(bg)
	if me != se || mb != sb || mb <= 0 {
		t.Errorf("Size: redis %d entries %d bytes, memory %d %d", se, sb, me, mb)
	}
}

// Arguments out of bounds are refused before any round trip, with the
// host functions' codes.
func TestSharedKVArguments(t *testing.T) {
	r := redistest.Start(t)
	lim := testLimits
	lim.MaxKVValue = 10
	kv := kvOn(startNode(t, r, "a"), "p", lim)
	long := strings.Repeat("k", plugin.MaxKVKey)
	for _, tc := range []struct {
		name string
		code int32
	}{
		{"empty key", kv.Set(bg, "", nil, 0)},
		{"key of 1025 bytes", kv.Set(bg, long+"x", nil, 0)},
		{"key of 1024 bytes", kv.Set(bg, long, nil, 0)},
		{"value of 11 bytes", kv.Set(bg, "k", make([]byte, 11), 0)},
		{"value of 10 bytes", kv.Set(bg, "k", make([]byte, 10), 0)},
		{"TTL of 30 days", kv.Set(bg, "k", nil, plugin.MaxKVTTL)},
		{"TTL over 30 days", kv.Set(bg, "k", nil, plugin.MaxKVTTL+time.Millisecond)},
		{"negative TTL", kv.Set(bg, "k", nil, -time.Millisecond)},
	} {
		want := map[string]int32{"empty key": plugin.ErrInvalid, "key of 1025 bytes": plugin.ErrLimit, "value of 11 bytes": plugin.ErrLimit,
			"TTL over 30 days": plugin.ErrInvalid, "negative TTL": plugin.ErrInvalid}[tc.name]
		if tc.code != want {
			t.Errorf("%s: %d, want %d", tc.name, tc.code, want)
		}
	}
	if _, code := kv.CompareAndSwap(bg, "k", nil, nil, 4, 0); code != plugin.ErrInvalid {
		t.Errorf("unknown cas flag: %d", code)
	}
	if _, _, code := kv.Get(bg, ""); code != plugin.ErrInvalid {
		t.Errorf("get of an empty key: %d", code)
	}
}

// rawInt reads an integer key of Redis (0 when absent).
func rawInt(t *testing.T, r *redistest.Server, args ...string) int64 {
	t.Helper()
	v, err := r.Do(bg, args...)
	if err != nil {
		t.Fatal(err)
	}
	switch v := v.(type) {
	case int64:
		return v
	case string:
		n, _ := strconv.ParseInt(v, 10, 64)
		return n
	}
	return 0
}

// checkCounts verifies that the byte count and the expiries agree with the
// entries of plugin p of cluster key.
func checkCounts(t *testing.T, r *redistest.Server, key, p string, entries, bytes int64) {
	t.Helper()
	pfx := key + "-plugin#" + p + "#"
	if n := rawInt(t, r, "HLEN", pfx+"kv"); n != entries {
		t.Errorf("%d entries, want %d", n, entries)
	}
	if n := rawInt(t, r, "GET", pfx+"kv-bytes"); n != bytes {
		t.Errorf("byte count %d, want %d", n, bytes)
	}
	if e, n := rawInt(t, r, "ZCARD", pfx+"kv-exp"), rawInt(t, r, "HLEN", pfx+"kv"); e > n {
		t.Errorf("%d expiries for %d entries", e, n)
	}
}

// Entries expire on Redis's clock; reading one removes it, a write into a
// full store reclaims the expired ones first, and kv_incr keeps the
// expiry.
func TestSharedKVExpiry(t *testing.T) {
	r := redistest.Start(t)
	lim := testLimits
	lim.MaxKVEntries = 3
	kv := kvOn(startNode(t, r, "e"), "p", lim)
	for _, k := range []string{"a", "b"} {
		if code := kv.Set(bg, k, []byte("1"), 100*time.Millisecond); code != 0 {
			t.Fatal(code)
		}
	}
	if code := kv.Set(bg, "c", []byte("1"), time.Hour); code != 0 {
		t.Fatal(code)
	}
	if n, code := kv.Incr(bg, "c", 1); n != 2 || code != 0 {
		t.Fatalf("incr: %d %d", n, code)
	}
	if _, ttl, _ := kv.Get(bg, "c"); ttl <= 59*time.Minute || ttl > time.Hour {
		t.Fatalf("incr lost the expiry: ttl %v", ttl)
	}
	if code := kv.Set(bg, "d", []byte("1"), 0); code != plugin.ErrLimit {
		t.Fatalf("fourth entry: %d", code)
	}
	if _, ttl, code := kv.Get(bg, "a"); code != 0 || ttl <= 0 || ttl > 100*time.Millisecond {
		t.Fatalf("a: ttl %v, %d", ttl, code)
	}
	// Once a and b have expired, the fourth entry fits.
	deadline := time.Now().Add(2 * time.Second)
	for kv.Set(bg, "d", []byte("1"), 0) != 0 {
		if time.Now().After(deadline) {
			t.Fatal("expired entries were not reclaimed")
		}
		time.Sleep(10 * time.Millisecond)
	}
	for _, _, code := kv.Get(bg, "b"); code != plugin.ErrNotFound; _, _, code = kv.Get(bg, "b") {
		if code != 0 || time.Now().After(deadline) {
			t.Fatalf("expired b: %d", code)
		}
		time.Sleep(time.Millisecond)
	}
	checkCounts(t, r, "e", "p", 2, 4)
	if n := kv.Len(bg); n != 2 {
		t.Fatalf("Len = %d", n)
	}
	// A 1 ms TTL is not "never".
	kv.Set(bg, "short", []byte("x"), time.Microsecond)
	for _, _, code := kv.Get(bg, "short"); code != plugin.ErrNotFound; _, _, code = kv.Get(bg, "short") {
		if time.Now().After(deadline.Add(time.Second)) {
			t.Fatal("a TTL under a millisecond never expired")
		}
		time.Sleep(time.Millisecond)
	}
	kv.Delete(bg, "c")
	kv.Delete(bg, "d")
	checkCounts(t, r, "e", "p", 0, 0)
}

// The bounds hold over two nodes writing at once: exactly max_kv_entries
// entries, exactly max_kv_bytes bytes.
func TestSharedKVBoundsAcrossNodes(t *testing.T) {
	r := redistest.Start(t)
	a, b := startNode(t, r, "b"), startNode(t, r, "b")
	for _, tc := range []struct {
		name                string
		entries, bytes      int
		wantOK              int
		wantBytes, wantKeys int64
	}{
		{"entries", 50, 1 << 20, 50, 50 * 10, 50},
		{"bytes", 10_000, 1000, 100, 1000, 100},
	} {
		t.Run(tc.name, func(t *testing.T) {
			lim := testLimits
			lim.MaxKVEntries, lim.MaxKVBytes = tc.entries, tc.bytes
			stores := []plugin.KVStore{kvOn(a, tc.name, lim), kvOn(b, tc.name, lim)}
			var ok, limited atomic.Int64
			var wg sync.WaitGroup
			for n, s := range stores {
				for g := range 8 {
					wg.Add(1)
					go func() {
						defer wg.Done()
						for i := range 25 {
							// 4 + 6 bytes each
							switch code := s.Set(bg, fmt.Sprintf("%d%03d", n, g*25+i), []byte("123456"), 0); code {
							case 0:
								ok.Add(1)
							case plugin.ErrLimit:
								limited.Add(1)
							default:
								t.Errorf("set: %d", code)
							}
						}
					}()
				}
			}
			wg.Wait()
			if ok.Load() != int64(tc.wantOK) || limited.Load() != int64(400-tc.wantOK) {
				t.Fatalf("%d stored, %d refused; want %d stored", ok.Load(), limited.Load(), tc.wantOK)
			}
			checkCounts(t, r, "b", tc.name, tc.wantKeys, tc.wantBytes)
		})
	}
}

// kv_incr and kv_cas are atomic across nodes: 2×500 concurrent
// increments make 1000; compare-and-swap loops lose no update.
func TestSharedKVAtomicAcrossNodes(t *testing.T) {
	r := redistest.Start(t)
	a, b := startNode(t, r, "x"), startNode(t, r, "x")
	stores := []plugin.KVStore{kvOn(a, "p", testLimits), kvOn(b, "p", testLimits)}
	var wg sync.WaitGroup
	for _, s := range stores {
		for range 20 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for range 25 {
					if _, code := s.Incr(bg, "n", 1); code != 0 {
						t.Errorf("incr: %d", code)
					}
				}
			}()
		}
	}
	wg.Wait()
	if v, _, _ := stores[0].Get(bg, "n"); string(v) != "1000" {
		t.Fatalf("n = %s after 2×500 increments", v)
	}
	for _, s := range stores {
		for range 4 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for done := 0; done < 25; {
					old, _, code := s.Get(bg, "c")
					if code != 0 && code != plugin.ErrNotFound {
						t.Errorf("get: %d", code)
						return
					}
					n, _ := strconv.Atoi(string(old))
					flags := uint32(0)
					if code == plugin.ErrNotFound {
						old, flags = nil, plugin.KVOldAbsent
					}
					swapped, code := s.CompareAndSwap(bg, "c", old, []byte(strconv.Itoa(n+1)), flags, 0)
					if code != 0 {
						t.Errorf("cas: %d", code)
						return
					}
					if swapped {
						done++
					}
				}
			}()
		}
	}
	wg.Wait()
	if v, _, _ := stores[1].Get(bg, "c"); string(v) != "200" {
		t.Fatalf("c = %s after 200 swaps", v)
	}
}

// Each plugin has its own store, and clusters with different keys share
// a Redis without seeing each other's.
func TestSharedKVNamespaces(t *testing.T) {
	r := redistest.Start(t)
	x, y := startNode(t, r, "x"), startNode(t, r, "y")
	stores := []plugin.KVStore{kvOn(x, "p", testLimits), kvOn(x, "q", testLimits), kvOn(y, "p", testLimits)}
	for i, s := range stores {
		if code := s.Set(bg, "k", []byte{byte('0' + i)}, 0); code != 0 {
			t.Fatal(code)
		}
	}
	for i, s := range stores {
		if v, _, _ := s.Get(bg, "k"); string(v) != string(rune('0'+i)) {
			t.Errorf("store %d reads %q", i, v)
		}
	}
	v, err := r.Do(bg, "EXISTS", "x-plugin#p#kv", "x-plugin#q#kv", "y-plugin#p#kv")
	if err != nil || v != int64(3) {
		t.Fatalf("EXISTS = %v, %v", v, err)
	}
}

// Redis killed: every operation says ERR_UNAVAILABLE at once; restarted
// (empty, its script cache too): they work again.
func TestSharedKVUnavailable(t *testing.T) {
	r := redistest.Start(t)
	c := startNode(t, r, "u")
	kv := kvOn(c, "p", testLimits)
	timers := c.PluginState().Timers("p", func(uint32, []byte) {})
	timers.SetLimits(testLimits)
	t.Cleanup(timers.Stop)
	if code := kv.Set(bg, "k", []byte("v"), 0); code != 0 {
		t.Fatal(code)
	}
	r.Kill()
	for i := range 5 {
		start := time.Now()
		_, _, code := kv.Get(bg, "k")
		if code != plugin.ErrUnavailable {
			t.Fatalf("get %d with redis killed: %d, want ERR_UNAVAILABLE", i, code)
		}
		if d := time.Since(start); d > time.Second {
			t.Fatalf("get %d took %v", i, d)
		}
	}
	if _, code := timers.Set(bg, time.Second, false, nil); code != plugin.ErrUnavailable {
		t.Fatalf("timer_set with redis killed: %d", code)
	}
	if code := timers.Cancel(bg, 1); code != plugin.ErrUnavailable {
		t.Fatalf("timer_cancel with redis killed: %d", code)
	}
	if n := kv.Len(bg); n != -1 {
		t.Fatalf("Len with redis killed: %d", n)
	}
	if n, b := kv.(plugin.KVSizer).Size(bg); n != -1 || b != -1 {
		t.Fatalf("Size with redis killed: %d, %d", n, b)
	}
	r.Restart(t)
	deadline := time.Now().Add(5 * time.Second)
	for {
		code := kv.Set(bg, "k", []byte("again"), 0)
		if code == 0 {
			break
		}
		if code != plugin.ErrUnavailable || time.Now().After(deadline) {
			t.Fatalf("after the restart: %d", code)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if v, _, code := kv.Get(bg, "k"); string(v) != "again" || code != 0 {
		t.Fatalf("get after the restart: %q %d", v, code)
	}
}

// Redis that does not answer: ERR_TIMEOUT within the wait bound,
// min(request_timeout, call_timeout/2), never later.
func TestSharedKVTimeoutBound(t *testing.T) {
	r := redistest.Start(t)
	c := startNode(t, r, "t")
	lim := testLimits
	lim.CallTimeout = 400 * time.Millisecond
	kv := kvOn(c, "p", lim)
	timers := c.PluginState().Timers("p", func(uint32, []byte) {})
	timers.SetLimits(plugin.StateLimits{MaxTimers: 10, CallTimeout: lim.CallTimeout})
	if code := kv.Set(bg, "k", []byte("v"), 0); code != 0 {
		t.Fatal(code)
	}
	bound := c.stateWait(lim.CallTimeout)
	if bound != 200*time.Millisecond {
		t.Fatalf("bound = %v", bound)
	}
	if _, err := r.Do(bg, "CLIENT", "PAUSE", "1500", "ALL"); err != nil {
		t.Fatal(err)
	}
	// Three operations, each bounded: all done within 0.6 s, before the
	// health check (a PING bounded by a second) can call Redis away.
	for _, op := range []struct {
		name string
		run  func() int32
	}{
		{"get", func() int32 { _, _, code := kv.Get(bg, "k"); return code }},
		{"incr", func() int32 { _, code := kv.Incr(bg, "n", 1); return code }},
		{"timer_set", func() int32 { _, code := timers.Set(bg, time.Second, false, nil); return code }},
	} {
		start := time.Now()
		code := op.run()
		took := time.Since(start)
		if took > bound+time.Second {
			t.Errorf("%s took %v, bound %v", op.name, took, bound)
		}
		if code != plugin.ErrTimeout || took < bound/2 {
			t.Errorf("%s: code %d after %v, want ERR_TIMEOUT after the bound %v", op.name, code, took, bound)
		}
	}
}

// timerLog records the TIMER calls of the nodes of a test.
type timerLog struct {
	mu      sync.Mutex
	fires   []fire
	running atomic.Int32
	overlap atomic.Bool
	ch      chan fire
}

type fire struct {
	node string
	id   uint32
	ctx  string
	at   time.Time
}

func newTimerLog() *timerLog { return &timerLog{ch: make(chan fire, 1024)} }

// fn is the TimerFunc of node; each call takes hold ms.
func (l *timerLog) fn(node string, hold time.Duration) plugin.TimerFunc {
	return func(id uint32, ctx []byte) {
		if l.running.Add(1) > 1 {
			l.overlap.Store(true)
		}
		f := fire{node, id, string(ctx), time.Now()}
		time.Sleep(hold)
		l.running.Add(-1)
		l.mu.Lock()
		l.fires = append(l.fires, f)
		l.mu.Unlock()
		l.ch <- f
	}
}

// waitCtx waits for a TIMER call with context ctx.
func (l *timerLog) waitCtx(t *testing.T, ctx string) fire {
	t.Helper()
	deadline := time.After(3 * time.Second)
	for {
		select {
		case f := <-l.ch:
			if f.ctx == ctx {
				return f
			}
		case <-deadline:
			t.Fatalf("timer %q did not fire", ctx)
		}
	}
}

// count returns how many TIMER calls had context ctx.
func (l *timerLog) count(ctx string) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := 0
	for _, f := range l.fires {
		if f.ctx == ctx {
			n++
		}
	}
	return n
}

func timersOn(t *testing.T, c *Cluster, name string, lim plugin.StateLimits, fn plugin.TimerFunc) plugin.TimerStore {
	t.Helper()
	ts := c.PluginState().Timers(name, fn)
	ts.SetLimits(lim)
	t.Cleanup(ts.Stop)
	return ts
}

// One-shot timers set on either node fire once in the cluster, with
// their context intact; ids are unique across nodes.
func TestSharedTimersFireOnce(t *testing.T) {
	r := redistest.Start(t)
	log := newTimerLog()
	a := timersOn(t, startNode(t, r, "f"), "p", testLimits, log.fn("a", 0))
	b := timersOn(t, startNode(t, r, "f"), "p", testLimits, log.fn("b", 0))
	ids := map[uint32]bool{}
	big := bytes.Repeat([]byte{0, 1, 0xff, '\n'}, plugin.MaxTimerContext/4)
	if id, code := a.Set(bg, 20*time.Millisecond, false, big); code != 0 || id == 0 {
		t.Fatalf("set: %d %d", id, code)
	}
	for i := range 20 {
		s := []plugin.TimerStore{a, b}[i%2]
		id, code := s.Set(bg, time.Duration(10+i*2)*time.Millisecond, false, []byte("t"+strconv.Itoa(i)))
		if code != 0 || id == 0 || id > maxTimerID || ids[id] {
			t.Fatalf("set %d: id %d, code %d", i, id, code)
		}
		ids[id] = true
	}
	if _, code := b.Set(bg, 200*time.Millisecond, false, []byte("sentinel")); code != 0 {
		t.Fatal(code)
	}
	log.waitCtx(t, "sentinel")
	for i := range 20 {
		if n := log.count("t" + strconv.Itoa(i)); n != 1 {
			t.Errorf("t%d fired %d times", i, n)
		}
	}
	log.mu.Lock()
	var bigFired int
	for _, f := range log.fires {
		if len(f.ctx) == len(big) && f.ctx == string(big) {
			bigFired++
		}
	}
	log.mu.Unlock()
	if bigFired != 1 {
		t.Errorf("the 64 KiB context fired %d times intact", bigFired)
	}
	if n := a.Len(bg); n != 0 {
		t.Errorf("%d timers pending after they all fired", n)
	}
	if _, code := a.Set(bg, time.Millisecond, false, make([]byte, 0)); code != 0 {
		t.Fatal(code)
	}
}

// A repeating timer fires on one node per period: its calls never
// overlap, and each period starts when the previous call has returned.
func TestSharedTimersRepeatOncePerPeriod(t *testing.T) {
	r := redistest.Start(t)
	log := newTimerLog()
	const every, hold = 40 * time.Millisecond, 15 * time.Millisecond
	a := timersOn(t, startNode(t, r, "r"), "p", testLimits, log.fn("a", hold))
	timersOn(t, startNode(t, r, "r"), "p", testLimits, log.fn("b", hold))
	id, code := a.Set(bg, every, true, []byte("rep"))
	if code != 0 {
		t.Fatal(code)
	}
	var got []fire
	for len(got) < 8 {
		got = append(got, log.waitCtx(t, "rep"))
	}
	if code := a.Cancel(bg, id); code != 0 {
		t.Fatalf("cancel: %d", code)
	}
	if log.overlap.Load() {
		t.Fatal("two calls of the timer overlapped")
	}
	nodes := map[string]int{}
	for i, f := range got {
		nodes[f.node]++
		if i > 0 {
			// The next period starts when the previous call returned.
			if gap := f.at.Sub(got[i-1].at); gap < every+hold-5*time.Millisecond {
				t.Errorf("fire %d came %v after the previous one (period %v, calls of %v)", i, gap, every, hold)
			}
		}
	}
	t.Logf("fires per node: %v", nodes)
}

// A timer set on a node that stops fires on another one; a repeating
// timer carries on there.
func TestSharedTimersSurviveTheirNode(t *testing.T) {
	r := redistest.Start(t)
	log := newTimerLog()
	ca := startNode(t, r, "s")
	a := timersOn(t, ca, "p", testLimits, log.fn("a", 0))
	timersOn(t, startNode(t, r, "s"), "p", testLimits, log.fn("b", 0))
	if _, code := a.Set(bg, 30*time.Millisecond, true, []byte("rep")); code != 0 {
		t.Fatal(code)
	}
	log.waitCtx(t, "rep")
	if _, code := a.Set(bg, 100*time.Millisecond, false, []byte("once")); code != 0 {
		t.Fatal(code)
	}
	a.Stop()
	ca.Close()
	if f := log.waitCtx(t, "once"); f.node != "b" {
		t.Fatalf("fired on %s after it stopped", f.node)
	}
	for range 3 {
		if f := log.waitCtx(t, "rep"); f.node != "b" {
			t.Fatalf("repeating timer fired on %s after it stopped", f.node)
		}
	}
}

// timer_cancel works from any node; a canceled timer never fires.
func TestSharedTimersCancelFromAnotherNode(t *testing.T) {
	r := redistest.Start(t)
	log := newTimerLog()
	a := timersOn(t, startNode(t, r, "c"), "p", testLimits, log.fn("a", 0))
	b := timersOn(t, startNode(t, r, "c"), "p", testLimits, log.fn("b", 0))
	id, code := a.Set(bg, 150*time.Millisecond, false, []byte("canceled"))
	if code != 0 {
		t.Fatal(code)
	}
	rid, code := a.Set(bg, 20*time.Millisecond, true, []byte("rep"))
	if code != 0 {
		t.Fatal(code)
	}
	if ok, code := b.Pending(bg, id); !ok || code != 0 {
		t.Fatalf("pending on the other node: %v %d", ok, code)
	}
	if code := b.Cancel(bg, id); code != 0 {
		t.Fatalf("cancel from the other node: %d", code)
	}
	if code := a.Cancel(bg, id); code != plugin.ErrNotFound {
		t.Fatalf("second cancel: %d", code)
	}
	if ok, _ := a.Pending(bg, id); ok {
		t.Fatal("still pending")
	}
	log.waitCtx(t, "rep")
	if code := b.Cancel(bg, rid); code != 0 {
		t.Fatalf("cancel of a repeating timer: %d", code)
	}
	if _, code := b.Set(bg, 250*time.Millisecond, false, []byte("sentinel")); code != 0 {
		t.Fatal(code)
	}
	n := log.count("rep")
	log.waitCtx(t, "sentinel")
	if log.count("canceled") != 0 {
		t.Fatal("a canceled timer fired")
	}
	// A call of the repeating timer may have been running as it was
	// canceled; none starts afterwards.
	if after := log.count("rep"); after > n+1 {
		t.Fatalf("the canceled repeating timer fired %d more times", after-n)
	}
	if code := a.Cancel(bg, 12345); code != plugin.ErrNotFound {
		t.Fatalf("cancel of an unknown id: %d", code)
	}
}

// max_timers bounds the plugin's timers over the cluster, reserved ones
// (an INIT's) included; a reserved timer is not in Redis until started,
// and a dropped one never is.
func TestSharedTimersBoundAndReserve(t *testing.T) {
	r := redistest.Start(t)
	log := newTimerLog()
	lim := testLimits
	lim.MaxTimers = 3
	a := timersOn(t, startNode(t, r, "m"), "p", lim, log.fn("a", 0))
	b := timersOn(t, startNode(t, r, "m"), "p", lim, log.fn("b", 0))
	var ids []uint32
	for _, s := range []plugin.TimerStore{a, a, b} {
		id, code := s.Set(bg, time.Hour, false, nil)
		if code != 0 {
			t.Fatal(code)
		}
		ids = append(ids, id)
	}
	for i, s := range []plugin.TimerStore{a, b} {
		if _, code := s.Set(bg, time.Hour, false, nil); code != plugin.ErrLimit {
			t.Fatalf("node %d over max_timers: %d", i, code)
		}
	}
	if _, code := a.Reserve(bg, time.Hour, false, nil); code != plugin.ErrLimit {
		t.Fatalf("reserve over max_timers: %d", code)
	}
	if code := b.Cancel(bg, ids[0]); code != 0 {
		t.Fatal(code)
	}
	held, code := a.Reserve(bg, 20*time.Millisecond, false, []byte("held"))
	if code != 0 {
		t.Fatal(code)
	}
	// Two pending and one reserved here: this node is at the bound; the
	// other is not (the reservation is this node's until it starts).
	if _, code := a.Set(bg, time.Hour, false, nil); code != plugin.ErrLimit {
		t.Fatalf("this node with one reserved: %d", code)
	}
	if _, code := b.Set(bg, time.Hour, false, nil); code != 0 {
		t.Fatalf("other node with one reserved there: %d", code)
	}
	if ok, _ := b.Pending(bg, held); ok {
		t.Fatal("a reserved timer is pending before it starts")
	}
	if code := a.Start(bg, held); code != plugin.ErrLimit {
		t.Fatalf("start over max_timers: %d", code)
	}
	b.Cancel(bg, ids[1])
	b.Cancel(bg, ids[2])
	dropped, code := a.Reserve(bg, time.Millisecond, false, []byte("dropped"))
	if code != 0 {
		t.Fatal(code)
	}
	a.Drop(dropped)
	started, code := a.Reserve(bg, 20*time.Millisecond, false, []byte("started"))
	if code != 0 || started == dropped {
		t.Fatal(code)
	}
	if code := a.Start(bg, started); code != 0 {
		t.Fatal(code)
	}
	if _, code := b.Set(bg, 150*time.Millisecond, false, []byte("sentinel")); code != 0 {
		t.Fatal(code)
	}
	log.waitCtx(t, "sentinel")
	if log.count("started") != 1 || log.count("dropped") != 0 || log.count("held") != 0 {
		t.Fatalf("fired: %+v", log.fires)
	}
	if ok, _ := a.Pending(bg, dropped); ok {
		t.Fatal("a dropped timer is pending")
	}
}

// A reload that removes the timers grant stops this node's worker (the
// timers stay in Redis); granted again, they fire.
func TestSharedTimersWorkerFollowsTheGrant(t *testing.T) {
	r := redistest.Start(t)
	log := newTimerLog()
	a := timersOn(t, startNode(t, r, "g"), "p", testLimits, log.fn("a", 0))
	off := testLimits
	off.WatchTimers = false
	a.SetLimits(off)
	if _, code := a.Set(bg, 20*time.Millisecond, false, []byte("later")); code != 0 {
		t.Fatal(code)
	}
	time.Sleep(300 * time.Millisecond) // fifteen times its delay: no worker looks
	if n := log.count("later"); n != 0 {
		t.Fatalf("fired %d times without the grant", n)
	}
	a.SetLimits(testLimits)
	log.waitCtx(t, "later")
}
