package plugin

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sockwasm/sockwasm/host/socketio"
)

func one(t *testing.T, out []sent) sent {
	t.Helper()
	if len(out) != 1 {
		t.Fatalf("got %d packets, want 1: %+v", len(out), out)
	}
	return out[0]
}

func TestChatEcho(t *testing.T) {
	p := loadGuest(t, "chat", Options{})
	ns := newNS("/")
	s := ns.sock("A", "")

	p.event(s, ev("echo", `[1,"two",{"_placeholder":true,"num":0}]`, 7, []byte{0, 1, 2, 255}))
	got := one(t, s.take())
	if got.kind != "ack" || got.ackID != 7 || got.args != `[1,"two",{"_placeholder":true,"num":0}]` ||
		len(got.atts) != 1 || !bytes.Equal(got.atts[0], []byte{0, 1, 2, 255}) {
		t.Fatalf("echo ack = %+v", got)
	}

	p.event(s, ev("echo", `["x"]`, 0))
	got = one(t, s.take())
	if got.kind != "emit" || got.name != "echo-back" || got.args != `["x"]` {
		t.Fatalf("echo-back = %+v", got)
	}
}

func TestChatMiddleware(t *testing.T) {
	p := loadGuest(t, "chat", Options{})
	ns := newNS("/chat")
	if e := p.middleware(ns.sock("A", `{"token":"bad"}`)); e == nil || e.Message != "unauthorized" || string(e.Data) != `{"code":401}` {
		t.Fatalf("bad token: %+v", e)
	}
	if e := p.middleware(ns.sock("B", `{"token":"good"}`)); e != nil {
		t.Fatalf("good token refused: %+v", e)
	}
	if e := p.middleware(ns.sock("C", ``)); e != nil {
		t.Fatalf("no auth refused: %+v", e)
	}
}

func TestChatRooms(t *testing.T) {
	p := loadGuest(t, "chat", Options{})
	ns := newNS("/")
	a, b := ns.sock("A", `{"name":"a"}`), ns.sock("B", "")

	chatRoomScenario(t, p, ns, a, b, 1)
}

func TestChatPingMe(t *testing.T) {
	p := loadGuest(t, "chat", Options{})
	ns := newNS("/")
	s := ns.sock("A", "")
	for _, tc := range []struct {
		resp socketio.AckResponse
		want string
	}{
		{socketio.AckResponse{Args: []byte(`["pong",2]`)}, `[{"ok":true,"answer":"pong"}]`},
		{socketio.AckResponse{Err: socketio.ErrAckTimeout}, `[{"ok":false,"error":"timeout"}]`},
	} {
		s.acked = map[uint64]bool{}
		p.event(s, ev("ping-me", `[{"n":1}]`, 42))
		got := one(t, s.take())
		if got.kind != "emitack" || got.name != "server-ping" || got.args != `[{"n":1}]` {
			t.Fatalf("server-ping = %+v", got)
		}
		s.mu.Lock()
		cb := s.ackCB
		s.mu.Unlock()
		cb(tc.resp)
		deadline := time.Now().Add(5 * time.Second)
		var out []sent
		for len(out) == 0 && time.Now().Before(deadline) {
			time.Sleep(5 * time.Millisecond)
			out = s.take()
		}
		got = one(t, out)
		if got.kind != "ack" || got.ackID != 42 || got.args != tc.want {
			t.Fatalf("deferred ack = %+v, want %s", got, tc.want)
		}
	}
}

func TestConformance(t *testing.T) {
	p := loadGuest(t, "conformance", Options{})
	ns := newNS("/")
	s := ns.sock("A", `{"z":1, "a" : 2}`)
	p.connect(s)
	if got := one(t, s.take()); got.name != "auth" || got.args != `[{"z":1, "a" : 2}]` {
		t.Fatalf("auth = %+v", got)
	}
	p.event(s, ev("message", `[{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]`, 0, []byte{1}, []byte{2, 3}))
	got := one(t, s.take())
	if got.name != "message-back" || len(got.atts) != 2 || got.atts[1][1] != 3 {
		t.Fatalf("message-back = %+v", got)
	}
	p.event(s, ev("message-with-ack", `[1,"2"]`, 3))
	if got := one(t, s.take()); got.kind != "ack" || got.args != `[1,"2"]` {
		t.Fatalf("ack = %+v", got)
	}
	custom := newNS("/custom").sock("B", "")
	p.connect(custom)
	if got := one(t, custom.take()); got.name != "auth" || got.args != `[{}]` {
		t.Fatalf("custom auth = %+v", got)
	}
	p.event(custom, ev("message", `[1]`, 0))
	if out := custom.take(); len(out) != 0 {
		t.Fatalf("custom echoed: %+v", out)
	}
}

func TestEngineEcho(t *testing.T) {
	p := loadGuest(t, "engine-echo", Options{})
	sess := &fakeSession{}
	r := p.engineOpen(sess)
	r.OnMessage([]byte("hello"), false)
	r.OnMessage([]byte{0, 1, 2}, true)
	r.OnClose("transport close")
	if len(sess.out) != 2 || string(sess.out[0].Data) != "hello" || sess.out[0].Binary ||
		!bytes.Equal(sess.out[1].Data, []byte{0, 1, 2}) || !sess.out[1].Binary {
		t.Fatalf("engine echo = %+v", sess.out)
	}
}

func TestFaults(t *testing.T) {
	p := loadGuest(t, "faults", Options{Limits: Limits{CallTimeout: 300 * time.Millisecond, MemoryPages: 256}})
	ns := newNS("/")
	for i, name := range []string{"panic", "nil", "loop", "oom"} {
		s := ns.sock("S"+name, "")
		before := p.Stats()
		p.event(s, ev(name, `[]`, uint64(i+1)))
		got := one(t, s.take())
		if got.kind != "ack" || got.args != `[{"error":"handler failed"}]` {
			t.Fatalf("%s: ack = %+v", name, got)
		}
		after := p.Stats()
		if after.Faults != before.Faults+1 {
			t.Fatalf("%s: faults %d → %d", name, before.Faults, after.Faults)
		}
		// The faulted instance is gone; the next call works on a fresh one.
		p.event(s, ev("ok", `["fine"]`, 100))
		if got := one(t, s.take()); got.args != `["fine"]` {
			t.Fatalf("%s: next call = %+v", name, got)
		}
	}
	// A guest that acked before failing keeps its answer.
	s := ns.sock("X", "")
	p.event(s, ev("ack-then-panic", `[]`, 9))
	if got := one(t, s.take()); got.args != `["done"]` {
		t.Fatalf("ack-then-panic = %+v", got)
	}
	// Middleware fault: generic refusal.
	if e := p.middleware(newNS("/panic").sock("P", "")); e == nil || e.Message != "internal error" {
		t.Fatalf("middleware fault = %+v", e)
	}
}

func TestLoopDoesNotBlockOthers(t *testing.T) {
	p := loadGuest(t, "faults", Options{Limits: Limits{CallTimeout: 500 * time.Millisecond}})
	ns := newNS("/")
	looper := ns.sock("L", "")
	done := make(chan time.Duration)
	go func() {
		start := time.Now()
		p.event(looper, ev("loop", `[]`, 1))
		done <- time.Since(start)
	}()
	time.Sleep(50 * time.Millisecond)
	other := ns.sock("O", "")
	n := 0
	for {
		select {
		case d := <-done:
			if n == 0 {
				t.Fatal("no other call completed while the loop ran")
			}
			if d < 400*time.Millisecond || d > 5*time.Second {
				t.Fatalf("loop ended after %v, deadline is 500ms", d)
			}
			if got := one(t, looper.take()); got.args != `[{"error":"handler failed"}]` {
				t.Fatalf("loop ack = %+v", got)
			}
			return
		default:
			p.event(other, ev("ok", `[1]`, uint64(n+1)))
			if got := one(t, other.take()); got.args != `[1]` {
				t.Fatalf("ok = %+v", got)
			}
			n++
		}
	}
}

func TestGuestOutputLogged(t *testing.T) {
	var buf syncBuffer
	l := zerologTo(&buf)
	p := loadGuest(t, "faults", Options{Logger: l})
	p.event(newNS("/").sock("A", ""), ev("print", `[]`, 0))
	out := buf.String()
	for _, want := range []string{`"plugin":"faults"`, `"stream":"stdout"`, "hello from guest", `"message":"logged"`, `"sid":"A"`} {
		if !strings.Contains(out, want) {
			t.Errorf("log lacks %s:\n%s", want, out)
		}
	}
}

func TestRefusedModules(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	for _, tc := range []struct{ guest, want string }{
		{"nomarker", "missing export sockwasm_abi_v1"},
		{"badimport", "imports unknown host function sockwasm_v1.frobnicate"},
	} {
		path := guestPath(t, tc.guest)
		_, err := LoadFile(ctx, path, Options{}, testCache)
		if err == nil || !errors.Is(err, ErrInvalidModule) || !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: err = %v, want one naming %s and %q", tc.guest, err, path, tc.want)
		}
	}
	// A hand-made module for another ABI version.
	dir := t.TempDir()
	bad := filepath.Join(dir, "future.wasm")
	os.WriteFile(bad, wasmModule(moduleSpec{markers: []string{"sockwasm_abi_v2"}}), 0o644)
	if _, err := LoadFile(ctx, bad, Options{}, nil); err == nil || !strings.Contains(err.Error(), `built for plugin ABI "v2"`) {
		t.Errorf("v2 module: %v", err)
	}
	// Load reports every bad file of a directory.
	copyFile(t, guestPath(t, "nomarker"), filepath.Join(dir, "nomarker.wasm"))
	_, err := Load(ctx, Options{Dir: dir})
	if err == nil || !strings.Contains(err.Error(), "future.wasm") || !strings.Contains(err.Error(), "nomarker.wasm") {
		t.Errorf("Load: %v", err)
	}
}

func TestManager(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	copyFile(t, guestPath(t, "chat"), filepath.Join(dir, "chat.wasm"))
	copyFile(t, guestPath(t, "engine-echo"), filepath.Join(dir, "engine-echo.wasm"))
	ctx := context.Background()
	m, err := Load(ctx, Options{Dir: dir, CacheDir: t.TempDir(), Logger: testLogger(t)})
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(m.Names(), ","); got != "chat,engine-echo" {
		t.Fatalf("Names = %s", got)
	}
	if m.Get("chat") == nil || m.Get("chat").Name() != "chat" || m.Get("nope") != nil {
		t.Fatal("Get")
	}
	if err := m.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if err := m.Close(ctx); err != nil {
		t.Fatal(err)
	}
}

// TestTrapModule runs a minimal hand-written guest (no WASI, no
// _initialize) whose handler executes unreachable.
func TestTrapModule(t *testing.T) {
	path := filepath.Join(t.TempDir(), "trap.wasm")
	os.WriteFile(path, wasmModule(moduleSpec{markers: []string{ExportMarker}, handle: true, trap: true}), 0o644)
	p, err := LoadFile(context.Background(), path, Options{Logger: testLogger(t)}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close(context.Background())
	s := newNS("/").sock("A", "")
	for i := range 3 {
		p.event(s, ev("x", `[]`, uint64(i+1)))
		if got := one(t, s.take()); got.args != `[{"error":"handler failed"}]` {
			t.Fatalf("trap ack = %+v", got)
		}
	}
	// Each faulted instance was discarded and replaced ahead of need.
	if st := p.Stats(); st.Faults != 3 || st.Instances < 3 {
		t.Fatalf("stats = %+v", st)
	}
}

// Stats tell the current version's instances alive and idle apart from
// the instances ever created.
func TestStatsInstances(t *testing.T) {
	p := loadGuest(t, "chat", Options{Limits: Limits{PoolSize: 1}})
	want := func(what string, created uint64, live, idle int) {
		t.Helper()
		if st := p.Stats(); st.Instances != created || st.LiveInstances != live || st.IdleInstances != idle {
			t.Fatalf("%s: %d created, %d live, %d idle; want %d, %d, %d",
				what, st.Instances, st.LiveInstances, st.IdleInstances, created, live, idle)
		}
	}
	want("loaded", 1, 1, 1)
	s := newNS("/").sock("A", "")
	p.event(s, ev("echo", `[1]`, 1))
	if got := one(t, s.take()); got.args != `[1]` {
		t.Fatalf("echo = %+v", got)
	}
	want("after a call", 1, 1, 1)
	if err := p.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	want("closed", 1, 0, 0)
}

func TestConcurrentSockets(t *testing.T) {
	p := loadGuest(t, "chat", Options{Limits: Limits{PoolSize: 4}})
	ns := newNS("/")
	var wg sync.WaitGroup
	for i := range 8 {
		s := ns.sock(string(rune('a'+i)), "")
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range 50 {
				p.event(s, ev("echo", `[1]`, uint64(j+1)))
			}
			if n := len(s.take()); n != 50 {
				t.Errorf("%s: %d acks", s.id, n)
			}
		}()
	}
	wg.Wait()
}

func copyFile(t *testing.T, from, to string) {
	b, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// buildCGuest builds the C guest of sdk/ABI.md with clang. Without clang
// and lld the test is skipped, except under CI=true, where that is a
// failure (CI installs them).
func buildCGuest(t testing.TB) string {
	t.Helper()
	missing := t.Skipf
	if os.Getenv("CI") == "true" {
		missing = t.Fatalf
	}
	clang, err := exec.LookPath("clang")
	if err != nil {
		missing("clang not installed (apt-get install clang lld)")
	}
	out := filepath.Join(t.TempDir(), "cguest.wasm")
	cmd := exec.Command(clang, "--target=wasm32", "-nostdlib", "-Wl,--no-entry", "-O2", "-o", out, "testdata/cguest.c")
	if b, err := cmd.CombinedOutput(); err != nil {
		missing("clang cannot build wasm32 here (apt-get install lld): %v\n%s", err, b)
	}
	return out
}

// TestCGuest runs the C guest of sdk/ABI.md, built with clang when present.
func TestCGuest(t *testing.T) {
	p, err := LoadFile(context.Background(), buildCGuest(t), Options{Logger: testLogger(t)}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close(context.Background())
	s := newNS("/").sock("A", "")
	p.event(s, ev("anything", `[1]`, 5))
	if got := one(t, s.take()); got.kind != "ack" || got.ackID != 5 || got.args != `["ok"]` {
		t.Fatalf("C guest ack = %+v", got)
	}
	p.event(s, ev("anything", `[1]`, 0))
	if got := s.take(); len(got) != 0 {
		t.Fatalf("unexpected %+v", got)
	}
}

// TestMaxInstances: with one instance allowed, a call waits for the busy
// one and fails after CallTimeout; the looping call's deadline frees it.
func TestMaxInstances(t *testing.T) {
	p := loadGuest(t, "faults", Options{Limits: Limits{CallTimeout: 300 * time.Millisecond, MaxConcurrency: 1}})
	ns := newNS("/")
	looper, other := ns.sock("L", ""), ns.sock("O", "")
	done := make(chan struct{})
	go func() {
		p.event(looper, ev("loop", `[]`, 1))
		close(done)
	}()
	time.Sleep(50 * time.Millisecond)
	p.event(other, ev("ok", `[1]`, 1)) // waits; gets the instance after the loop died, or fails busy
	<-done
	got := one(t, other.take())
	if got.args != `[1]` && got.args != `[{"error":"handler failed"}]` {
		t.Fatalf("other = %+v", got)
	}
	p.event(other, ev("ok", `[2]`, 2))
	if got := one(t, other.take()); got.args != `[2]` {
		t.Fatalf("after = %+v", got)
	}
	if st := p.Stats(); st.Instances > 3 {
		t.Fatalf("stats = %+v", st)
	}
}

// chatRoomScenario drives a chat guest (Go or AssemblyScript) through
// join/leave validation, rooms, say, whoami, stats, the left notices of a
// disconnect and bye. a has auth {"name":"a"}, b none; both are in ns.
func chatRoomScenario(t *testing.T, p *Plugin, ns *fakeNS, a, b *fakeSock, firstAck uint64) {
	t.Helper()
	tests := []struct {
		s    *fakeSock
		name string
		args string
		want string
	}{
		{a, "join", `[{"room":"r1"}]`, `[{"ok":true,"room":"r1","size":1}]`},
		{b, "join", `[{"room":"r1"}]`, `[{"ok":true,"room":"r1","size":2}]`},
		{a, "join", `[{"room":"b\"q"}]`, `[{"ok":true,"room":"b\"q","size":1}]`},
		{a, "join", `[{"room":""}]`, `[{"ok":false,"error":"bad request"}]`},
		{a, "join", `[{"room":"` + strings.Repeat("é", 129) + `"}]`, `[{"ok":false,"error":"bad request"}]`},
		{a, "join", `[{"room":"` + strings.Repeat("é", 128) + `"}]`, `[{"ok":true,"room":"` + strings.Repeat("é", 128) + `","size":1}]`},
		{a, "join", `[{"room":"\ud83d\ude00\u00e9"}]`, `[{"ok":true,"room":"😀é","size":1}]`},
		{a, "leave", `[{"room":"😀é"}]`, `[{"ok":true,"room":"😀é","size":0}]`},
		{a, "join", `[5]`, `[{"ok":false,"error":"bad request"}]`},
		{a, "leave", `[{"room":"` + strings.Repeat("é", 128) + `"}]`, `[{"ok":true,"room":"` + strings.Repeat("é", 128) + `","size":0}]`},
		{a, "rooms", `[]`, `[["b\"q","r1"]]`},
		{a, "say", `[{"room":"r1","text":5}]`, `[{"ok":false,"error":"bad request"}]`},
		{a, "say", `[{"room":"r1","text":"hi\n"}]`, `[{"ok":true}]`},
		{a, "whoami", `[]`, `[{"id":"A","nsp":"/","auth":{"name":"a"},"transport":"websocket"}]`},
		{b, "whoami", `[]`, `[{"id":"B","nsp":"/","auth":{},"transport":"websocket"}]`},
		{a, "stats", `[]`, `[{"clients":2}]`},
		{b, "leave", `[{"room":"r1"}]`, `[{"ok":true,"room":"r1","size":1}]`},
	}
	for i, tt := range tests {
		p.event(tt.s, ev(tt.name, tt.args, firstAck+uint64(i)))
		got := one(t, tt.s.take())
		if got.kind != "ack" || got.args != tt.want {
			t.Errorf("%d %s %s: got %+v, want %s", i, tt.name, tt.args, got, tt.want)
		}
	}
	bc := one(t, ns.take())
	if bc.name != "said" || bc.args != `[{"room":"r1","from":"A","text":"hi\n"}]` ||
		len(bc.rooms) != 1 || bc.rooms[0] != "r1" || len(bc.except) != 1 || bc.except[0] != "A" {
		t.Fatalf("said broadcast = %+v", bc)
	}

	p.disconnect(a, "client namespace disconnect", []string{"r1", "b\"q"})
	out := ns.take()
	if len(out) != 2 || out[0].name != "left" || out[0].args != `[{"room":"r1","id":"A","reason":"client namespace disconnect"}]` ||
		out[0].except[0] != "A" || out[1].rooms[0] != "b\"q" {
		t.Fatalf("left broadcasts = %+v", out)
	}

	p.event(b, ev("bye", `[]`, 0))
	select {
	case <-b.disc:
	case <-time.After(5 * time.Second):
		t.Fatal("bye did not disconnect")
	}
}

// The refiller holds a call slot while it instantiates: _initialize is
// guest code, and with max_concurrency 1 a plugin whose instances keep
// faulting still runs guest code on one core at a time. A call waiting
// for an instance gives its slot up meanwhile, so the two cannot
// deadlock.
func TestRefillerTakesASlot(t *testing.T) {
	p := loadGuest(t, "faults", Options{Limits: Limits{MaxConcurrency: 1, PoolSize: 3}})
	v := p.acquire()
	defer v.release()
	pl := &v.pool
	waitUntil := func(what string, cond func() bool) {
		t.Helper()
		for deadline := time.Now().Add(5 * time.Second); !cond(); time.Sleep(time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("timed out waiting for %s", what)
			}
		}
	}
	waitUntil("two spare instances", func() bool { return len(pl.idle) == 2 })
	live := pl.live.Load()
	// A running call holds the only slot; its spares are taken.
	pl.slots <- struct{}{}
	a, b := <-pl.idle, <-pl.idle
	pl.wake()
	// The instantiation the refiller wants takes a few milliseconds
	// when it may run; it must not while the slot is held.
	time.Sleep(200 * time.Millisecond)
	if n := pl.live.Load(); n != live {
		t.Fatalf("%d instances made while the only slot was busy", n-live)
	}
	<-pl.slots
	waitUntil("the refiller to make an instance", func() bool { return pl.live.Load() > live })
	pl.putIdle(a)
	pl.putIdle(b)
	// A call that finds no instance idle waits without its slot: with
	// every instance taken, the refiller still gets the slot to make one.
	waitUntil("the pool to be full", func() bool { return pl.live.Load() == 3 && len(pl.idle) == 3 })
	held := []*instance{<-pl.idle, <-pl.idle}
	pl.close(<-pl.idle)
	inst, err := pl.get(5 * time.Second)
	if err != nil {
		t.Fatalf("get with no idle instance: %v", err)
	}
	pl.put(inst)
	for _, inst := range held {
		pl.putIdle(inst)
	}
}
