package plugin

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

var allGrants = Settings{Grants: []string{CapKV, CapTimers}}

// ackSeq numbers the acks of stAck.
var ackSeq atomic.Uint64

// stAck sends event name with args to p from s and returns the ack's args.
func stAck(t *testing.T, p *Plugin, s *fakeSock, name, args string) string {
	t.Helper()
	p.event(s, ev(name, args, ackSeq.Add(1)))
	out := s.take()
	if len(out) != 1 || out[0].kind != "ack" {
		t.Fatalf("%s %s: got %+v, want one ack", name, args, out)
	}
	return out[0].args
}

// newTestManager returns an empty Manager sharing the test compilation
// cache.
func newTestManager(t *testing.T) *Manager {
	t.Helper()
	m, err := New(Options{Cache: testCache, Logger: testLogger(t)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close(context.Background()) })
	return m
}

// install copies guest to dir/name.wasm and returns the path.
func install(t *testing.T, guest, dir, name string) string {
	t.Helper()
	path := filepath.Join(dir, name+".wasm")
	copyFile(t, guestPath(t, guest), path)
	return path
}

func reload(t *testing.T, m *Manager, path string, s Settings) ReloadResult {
	t.Helper()
	res, err := m.Reload(context.Background(), path, s)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// warm compiles guest into the shared cache so that a later load is fast.
func warm(t *testing.T, guest string) {
	t.Helper()
	loadGuest(t, guest, Options{Settings: map[string]Settings{guest: allGrants}}).Close(context.Background())
}

func TestReloadSwapsVersions(t *testing.T) {
	warm(t, "state-v2")
	m := newTestManager(t)
	dir := t.TempDir()
	path := install(t, "state", dir, "state")
	slowOK := Settings{Grants: allGrants.Grants, Limits: Limits{CallTimeout: 10 * time.Second}}
	res := reload(t, m, path, slowOK)
	if res.Name != "state" || res.OldHash != "" || len(res.NewHash) != 12 || res.Unchanged {
		t.Fatalf("first load = %+v", res)
	}
	p := m.Get("state")
	if p.Hash() != res.NewHash {
		t.Fatalf("Hash = %s, want %s", p.Hash(), res.NewHash)
	}
	s := newNS("/").sock("A", "")
	if got := stAck(t, p, s, "version", `[]`); got != `["v1"]` {
		t.Fatalf("version = %s", got)
	}

	// A slow call in flight keeps running on v1 across the swap.
	old := p.cur.Load()
	slow := newNS("/").sock("S", "")
	slowDone := make(chan string, 1)
	go func() {
		p.event(slow, ev("slow", `[1500]`, 1))
		out := slow.take()
		if len(out) != 1 {
			slowDone <- fmt.Sprintf("%d packets: %+v", len(out), out)
			return
		}
		slowDone <- out[0].args
	}()
	time.Sleep(100 * time.Millisecond)

	install(t, "state-v2", dir, "state")
	res2 := reload(t, m, path, slowOK)
	if res2.OldHash != res.NewHash || res2.NewHash == res.NewHash || res2.Unchanged {
		t.Fatalf("reload = %+v", res2)
	}
	if m.Get("state") != p {
		t.Fatal("the handle changed across the reload")
	}
	if got := stAck(t, p, s, "version", `[]`); got != `["v2"]` {
		t.Fatalf("version after reload = %s", got)
	}
	select {
	case <-old.done:
		t.Fatal("the old version closed while a call was running on it")
	default:
	}
	select {
	case got := <-slowDone:
		t.Logf("the slow call finished before the swap was checked (slow machine): %s", got)
	default:
		if got := <-slowDone; got != `["v1"]` {
			t.Fatalf("in-flight call = %s, want v1", got)
		}
	}
	select {
	case <-old.done:
	case <-time.After(5 * time.Second):
		t.Fatal("the old version was not closed after its calls drained")
	}
	if info := p.Info(); info.Hash != res2.NewHash || info.Path != path ||
		!strings.Contains(strings.Join(info.Imports, ","), "sockwasm_v1.kv_get") ||
		strings.Join(info.Capabilities, ",") != "kv,timers" || strings.Join(info.Grants, ",") != "kv,timers" {
		t.Fatalf("Info = %+v", info)
	}
}

func TestReloadRefusedKeepsOld(t *testing.T) {
	m := newTestManager(t)
	dir := t.TempDir()
	path := install(t, "state", dir, "state")
	res := reload(t, m, path, allGrants)
	p := m.Get("state")

	os.WriteFile(path, []byte("\x00asm garbage"), 0o644)
	r, err := m.Reload(context.Background(), path, allGrants)
	if err == nil || !errors.Is(err, ErrInvalidModule) || !strings.Contains(err.Error(), path) {
		t.Fatalf("corrupt reload: %v", err)
	}
	if r.OldHash != res.NewHash {
		t.Fatalf("result = %+v", r)
	}
	if p.Hash() != res.NewHash {
		t.Fatal("a refused reload changed the version")
	}
	if got := stAck(t, p, newNS("/").sock("A", ""), "version", `[]`); got != `["v1"]` {
		t.Fatalf("version = %s", got)
	}

	// Unchanged file and settings: nothing done.
	install(t, "state", dir, "state")
	before := p.cur.Load()
	r = reload(t, m, path, allGrants)
	if !r.Unchanged || r.OldHash != r.NewHash || p.cur.Load() != before {
		t.Fatalf("unchanged reload = %+v, version replaced: %v", r, p.cur.Load() != before)
	}
	// New settings with the same file: a new version.
	r = reload(t, m, path, Settings{Grants: []string{"timers", "kv"}, Config: []byte(`{"a":1}`)})
	if r.Unchanged || p.cur.Load() == before {
		t.Fatalf("settings change = %+v", r)
	}
	if got := stAck(t, p, newNS("/").sock("A", ""), "config", `[]`); got != `["{\"a\":1}"]` {
		t.Fatalf("config = %s", got)
	}
}

func TestRemove(t *testing.T) {
	m := newTestManager(t)
	path := install(t, "state", t.TempDir(), "state")
	reload(t, m, path, allGrants)
	p := m.Get("state")
	s := newNS("/").sock("A", "")
	stAck(t, p, s, "timer", `[20,true,"r"]`)
	if err := m.Remove(context.Background(), "state"); err != nil {
		t.Fatal(err)
	}
	if m.Get("state") != nil || len(m.Names()) != 0 || p.Hash() != "" || p.timers.Len(context.Background()) != 0 {
		t.Fatal("plugin still loaded")
	}
	if got := stAck(t, p, s, "version", `[]`); got != `[{"error":"handler failed"}]` {
		t.Fatalf("call on removed plugin = %s", got)
	}
	p.event(s, ev("version", `[]`, 0)) // no ack asked: nothing sent, no panic
	if out := s.take(); len(out) != 0 {
		t.Fatalf("sent %+v", out)
	}
	fired, _ := p.kv.(*kvStore).get("fired:r")
	time.Sleep(100 * time.Millisecond)
	if again, _ := p.kv.(*kvStore).get("fired:r"); string(again) != string(fired) {
		t.Fatalf("a timer fired after Remove: %s → %s", fired, again)
	}
	if err := m.Remove(context.Background(), "state"); !errors.Is(err, ErrNotLoaded) {
		t.Fatalf("second Remove: %v", err)
	}
	// Added again: a new handle.
	reload(t, m, path, allGrants)
	if q := m.Get("state"); q == nil || q == p {
		t.Fatal("re-added plugin")
	}
}

func TestCapabilityRefused(t *testing.T) {
	m := newTestManager(t)
	path := install(t, "state", t.TempDir(), "state")
	for _, tc := range []struct {
		grants []string
		want   string
	}{
		{nil, `imports sockwasm_v1\.(kv|timer)_\w+ but is not granted "(kv|timers)" \(add grants = \["kv", "timers"\] to \[plugin\.state\] in server\.toml\)`},
		{[]string{"kv"}, `imports sockwasm_v1\.timer_(set|cancel) but is not granted "timers" \(add grants = \["kv", "timers"\] to \[plugin\.state\] in server\.toml\)`},
		{[]string{"timers"}, `imports sockwasm_v1\.kv_\w+ but is not granted "kv" \(add grants = \["timers", "kv"\] to \[plugin\.state\] in server\.toml\)`},
		{[]string{"kv", "timers", "net"}, `granted unknown capability "net"`},
	} {
		_, err := m.Reload(context.Background(), path, Settings{Grants: tc.grants})
		if err == nil || !strings.Contains(err.Error(), path+": ") || !regexp.MustCompile(tc.want).MatchString(err.Error()) {
			t.Errorf("grants %v: err = %v, want %s", tc.grants, err, tc.want)
		}
	}
	if m.Get("state") != nil {
		t.Fatal("a refused plugin was added")
	}
	// A plugin importing no capability needs no grant.
	reload(t, m, install(t, "chat", t.TempDir(), "chat"), Settings{})
}

func TestKV(t *testing.T) {
	p := loadGuest(t, "state", Options{Settings: map[string]Settings{"state": allGrants}})
	s := newNS("/").sock("A", "")
	for i, tc := range []struct{ args, want string }{
		{`["get","k"]`, `["error: sockwasm: not found"]`},
		{`["set","k","v1",0]`, `["ok"]`},
		{`["get","k"]`, `["v1"]`},
		{`["cas","k","nope","v2"]`, `["false"]`},
		{`["cas","k","v1","v2"]`, `["true"]`},
		{`["get","k"]`, `["v2"]`},
		{`["cas","k",null,"v3"]`, `["false"]`},
		{`["cas","new",null,"n1"]`, `["true"]`},
		{`["cas","new","n1",null]`, `["true"]`},
		{`["get","new"]`, `["error: sockwasm: not found"]`},
		{`["incr","n",5]`, `["5"]`},
		{`["incr","n",-7]`, `["-2"]`},
		{`["get","n"]`, `["-2"]`},
		{`["incr","k",1]`, `["error: sockwasm: invalid argument"]`},
		{`["del","k"]`, `["true"]`},
		{`["del","k"]`, `["false"]`},
		{`["get",""]`, `["error: sockwasm: invalid argument"]`},
		{`["get","` + strings.Repeat("x", 1025) + `"]`, `["error: sockwasm: limit exceeded"]`},
		{`["set","big","` + strings.Repeat("x", 64<<10+1) + `",0]`, `["error: sockwasm: limit exceeded"]`},
		{`["set","long","` + strings.Repeat("x", 1000) + `",0]`, `["ok"]`},
		{`["set","ttl","t",400]`, `["ok"]`},
		{`["get","ttl"]`, `["t"]`},
	} {
		if got := stAck(t, p, s, "kv", tc.args); got != tc.want {
			t.Errorf("%d %.60s: got %.80s, want %s", i, tc.args, got, tc.want)
		}
	}
	if v, _ := p.kv.(*kvStore).get("long"); len(v) != 1000 {
		t.Errorf("long value: %d bytes (grown get buffer)", len(v))
	}
	// n=-2, long=1000 x, ttl=t: keys plus values.
	if st := p.Stats(); st.KVEntries != 3 || st.KVBytes != 1+2+4+1000+3+1 {
		t.Errorf("stats: %d entries, %d bytes; want 3, 1011", st.KVEntries, st.KVBytes)
	}
	time.Sleep(450 * time.Millisecond)
	if got := stAck(t, p, s, "kv", `["get","ttl"]`); got != `["error: sockwasm: not found"]` {
		t.Errorf("expired key: %s", got)
	}
	if got := stAck(t, p, s, "kv", `["incr","ttl",1]`); got != `["1"]` {
		t.Errorf("incr of expired key: %s", got)
	}
}

func TestKVStoreBounds(t *testing.T) {
	var s kvStore
	s.init(2, 100)
	if s.set("a", []byte("1"), 0) != 0 || s.set("b", []byte("1"), 300*time.Millisecond) != 0 {
		t.Fatal("set")
	}
	if code := s.set("c", nil, 0); code != ErrLimit {
		t.Fatalf("third key: %d", code)
	}
	if code := s.set("a", []byte("2"), 0); code != 0 {
		t.Fatalf("overwrite at the bound: %d", code)
	}
	time.Sleep(350 * time.Millisecond)
	if code := s.set("c", nil, 0); code != 0 {
		t.Fatalf("expired entries are not reclaimed: %d", code)
	}
	if _, code := s.incr("a", 1<<62); code != 0 {
		t.Fatal("incr")
	}
	if _, code := s.incr("a", 1<<62); code != ErrInvalid {
		t.Fatalf("overflow: %d", code)
	}
	// The byte bound: keys plus values.
	_, _ = s.delete("a")
	_, _ = s.delete("c")
	if s.bytes != 0 {
		t.Fatalf("bytes = %d after deleting everything", s.bytes)
	}
	if code := s.set("k", make([]byte, 99), 0); code != 0 {
		t.Fatalf("100 bytes: %d", code)
	}
	if code := s.set("k", make([]byte, 100), 0); code != ErrLimit {
		t.Fatalf("101 bytes: %d", code)
	}
	if code := s.cas("k", make([]byte, 99), nil, KVNewAbsent, 0); code != 1 || s.bytes != 0 {
		t.Fatalf("cas delete: %d, bytes %d", code, s.bytes)
	}
}

// waitKV waits until key of p's store holds want.
func waitKV(t *testing.T, p *Plugin, key, want string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		v, _ := p.kv.(*kvStore).get(key)
		if string(v) == want {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s = %q, want %q", key, v, want)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestTimers(t *testing.T) {
	warm(t, "state-v2")
	m := newTestManager(t)
	dir := t.TempDir()
	path := install(t, "state", dir, "state")
	reload(t, m, path, allGrants)
	p := m.Get("state")
	s := newNS("/").sock("A", "")

	// One-shot: fires once, into a call without a socket.
	if got := stAck(t, p, s, "timer", `[10,false,"once"]`); got == `["0"]` || strings.Contains(got, "error") {
		t.Fatalf("timer = %s", got)
	}
	waitKV(t, p, "fired:once", "1")
	waitKV(t, p, "join:once", "sockwasm: not allowed in this call")
	time.Sleep(50 * time.Millisecond)
	waitKV(t, p, "fired:once", "1")

	// Cancel before it fires.
	id := stAck(t, p, s, "timer", `[5000,false,"never"]`)
	id = strings.Trim(id, `["]`)
	if got := stAck(t, p, s, "cancel", `[`+id+`]`); got != `["ok"]` {
		t.Fatalf("cancel = %s", got)
	}
	if got := stAck(t, p, s, "cancel", `[`+id+`]`); got != `["error: sockwasm: not found"]` {
		t.Fatalf("second cancel = %s", got)
	}

	// Repeating, across a reload: it fires into the new version.
	rid := strings.Trim(stAck(t, p, s, "timer", `[10,true,"rep"]`), `["]`)
	waitKV(t, p, "fired:rep", "3")
	waitKV(t, p, "ver:rep", "v1")
	install(t, "state-v2", dir, "state")
	reload(t, m, path, allGrants)
	waitKV(t, p, "ver:rep", "v2")
	if got := stAck(t, p, s, "cancel", `[`+rid+`]`); got != `["ok"]` {
		t.Fatalf("cancel repeating = %s", got)
	}
	n, _ := p.kv.(*kvStore).get("fired:rep")
	time.Sleep(60 * time.Millisecond)
	if again, _ := p.kv.(*kvStore).get("fired:rep"); string(again) != string(n) {
		t.Fatalf("canceled timer fired: %s → %s", n, again)
	}
	if _, ok := p.kv.(*kvStore).get("fired:never"); ok {
		t.Fatal("a canceled timer fired")
	}

	// Bad arguments and the bound.
	if got := stAck(t, p, s, "timer", `[5,true,"fast"]`); got != `["error: sockwasm: invalid argument"]` {
		t.Fatalf("5 ms repeating = %s", got)
	}
	ts := p.timers.(*timerSet)
	ts.mu.Lock()
	ts.max = len(ts.m) + 1
	ts.mu.Unlock()
	stAck(t, p, s, "timer", `[100000,false,"a"]`)
	if got := stAck(t, p, s, "timer", `[100000,false,"b"]`); got != `["error: sockwasm: limit exceeded"]` {
		t.Fatalf("over the bound = %s", got)
	}
}

func TestInit(t *testing.T) {
	m := newTestManager(t)
	path := install(t, "state", t.TempDir(), "state")
	// INIT refusing its config refuses the version.
	_, err := m.Reload(context.Background(), path, Settings{Grants: allGrants.Grants, Config: []byte(`{"fail":true}`)})
	if err == nil || !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), `INIT call failed (handler returned 1), the version is refused: it logged "init: config says fail"`) {
		t.Fatalf("failing init: %v", err)
	}
	if m.Get("state") != nil {
		t.Fatal("refused version added")
	}
	cfg := Settings{Grants: allGrants.Grants, Config: []byte(`{"init_key":"started"}`)}
	reload(t, m, path, cfg)
	p := m.Get("state")
	waitKV(t, p, "started", "v1")
	// On a reload a failing INIT keeps the old version serving.
	_, err = m.Reload(context.Background(), path, Settings{Grants: allGrants.Grants, Config: []byte(`{"fail":true}`)})
	if err == nil {
		t.Fatal("failing init accepted")
	}
	s := newNS("/").sock("A", "")
	if got := stAck(t, p, s, "config", `[]`); got != `["{\"init_key\":\"started\"}"]` {
		t.Fatalf("config = %s", got)
	}
	if st := p.Settings(); st.Limits.MaxKVValue != DefaultMaxKVValue || st.Limits.MaxSocketData != DefaultMaxSocketData || st.Limits.CallTimeout != time.Second {
		t.Fatalf("Settings = %+v", st)
	}
}

func TestConfigDefault(t *testing.T) {
	p := loadGuest(t, "state", Options{Settings: map[string]Settings{"state": allGrants}})
	if got := stAck(t, p, newNS("/").sock("A", ""), "config", `[]`); got != `["{}"]` {
		t.Fatalf("config = %s", got)
	}
}

func TestLogHasVersion(t *testing.T) {
	var buf syncBuffer
	p := loadGuest(t, "faults", Options{Logger: zerologTo(&buf)})
	p.event(newNS("/").sock("A", ""), ev("print", `[]`, 0))
	out := buf.String()
	for _, want := range []string{`"plugin":"faults"`, `"version":"` + p.Hash() + `"`, `"message":"logged"`, "hello from guest"} {
		if !strings.Contains(out, want) {
			t.Errorf("log lacks %s:\n%s", want, out)
		}
	}
}

func TestSandbox(t *testing.T) {
	p := loadGuest(t, "sandbox", Options{})
	got := stAck(t, p, newNS("/").sock("A", ""), "escape", `[]`)
	if strings.Contains(got, "no error") || strings.Count(got, `"`) != 6 {
		t.Fatalf("escape = %s", got)
	}
	t.Logf("escape attempts: %s", got)
}

// TestSettingsLimits: per-plugin Settings override the Options limits.
func TestSettingsLimits(t *testing.T) {
	p := loadGuest(t, "faults", Options{Settings: map[string]Settings{"faults": {Limits: Limits{MemoryPages: 256, CallTimeout: 200 * time.Millisecond, PoolSize: 1}}}})
	if st := p.Settings(); st.Limits.MemoryPages != 256 || st.Limits.CallTimeout != 200*time.Millisecond || st.Limits.PoolSize != 1 {
		t.Fatalf("Settings = %+v", st)
	}
	s := newNS("/").sock("A", "")
	for _, name := range []string{"oom", "loop"} {
		start := time.Now()
		if got := stAck(t, p, s, name, `[]`); got != `[{"error":"handler failed"}]` {
			t.Fatalf("%s = %s", name, got)
		}
		if name == "loop" && time.Since(start) > 5*time.Second {
			t.Fatalf("loop ran %v", time.Since(start))
		}
	}
	if got := stAck(t, p, s, "ok", `[1]`); got != `[1]` {
		t.Fatalf("after faults: %s", got)
	}
}

// TestReloadUnderLoad swaps versions back and forth while sockets send
// events: every event is answered exactly once, by one version or the
// other, and no version is closed under a call.
func TestReloadUnderLoad(t *testing.T) {
	warm(t, "state")
	warm(t, "state-v2")
	m := newTestManager(t)
	dir := t.TempDir()
	path := install(t, "state", dir, "state")
	reload(t, m, path, allGrants)
	p := m.Get("state")
	stop := make(chan struct{})
	errs := make(chan error, 4)
	for i := range 4 {
		s := newNS("/").sock(string(rune('a'+i)), "")
		go func() {
			n := 0
			defer func() { errs <- nil }()
			for {
				select {
				case <-stop:
					if n == 0 {
						t.Errorf("socket %s made no call", s.id)
					}
					return
				default:
				}
				n++
				p.event(s, ev("version", `[]`, uint64(n)))
				out := s.take()
				if len(out) != 1 || (out[0].args != `["v1"]` && out[0].args != `["v2"]`) {
					t.Errorf("event %d: %+v", n, out)
					return
				}
			}
		}()
	}
	for i := range 6 {
		guest := "state-v2"
		if i%2 == 1 {
			guest = "state"
		}
		install(t, guest, dir, "state")
		if res := reload(t, m, path, allGrants); res.Unchanged {
			t.Fatalf("reload %d unchanged", i)
		}
	}
	close(stop)
	for range 4 {
		<-errs
	}
	if st := p.Stats(); st.Faults != 0 {
		t.Fatalf("faults: %+v", st)
	}
}
