package plugin

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sockwasm/sockwasm/host/socketio"
)

// AssemblyScript guests, built with the AssemblyScript SDK's build script
// once per test binary: name → module bytes.
var (
	asMu    sync.Mutex
	asBuilt = map[string][]byte{}
	asNpm   sync.Once
	asNpmOK error // the first error of npm ci or of a build
)

// asGuests maps a guest name to its package folder (from the repository
// root), entry file and build options.
var asGuests = map[string][]string{
	"chat-as":            {"examples/chat-as", "assembly/index.ts"},
	"sdk-as":             {"sdk/assemblyscript", "test/guest.ts"},
	"sdk-as-minimal":     {"sdk/assemblyscript", "test/guest.ts", "--runtime", "minimal"},
	"sdk-as-incremental": {"sdk/assemblyscript", "test/guest.ts", "--runtime", "incremental"},
	"sdk-as-state":       {"sdk/assemblyscript", "test/state.ts"},
	"sdk-as-http":        {"sdk/assemblyscript", "test/http.ts"},
}

// asGuestPath builds the AssemblyScript guests (once; npm ci in
// examples/chat-as first when its packages are missing: the compiler is
// found there) and returns a copy of guest name as name.wasm in a test
// directory. Without node the test is skipped, except under CI=true where
// it fails.
func asGuestPath(t testing.TB, name string) string {
	t.Helper()
	if _, err := exec.LookPath("node"); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("node is required for the AssemblyScript guests: ", err)
		}
		t.Skip("node not found: AssemblyScript guests not built")
	}
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	run := func(dir, name string, args ...string) error {
		cmd := exec.Command(name, args...)
		cmd.Dir = dir
		if out, err := cmd.CombinedOutput(); err != nil {
			return &buildError{cmd: strings.Join(cmd.Args, " "), err: err, out: out}
		}
		return nil
	}
	asNpm.Do(func() {
		dir := filepath.Join(root, "examples", "chat-as")
		if _, err := os.Stat(filepath.Join(dir, "node_modules", ".package-lock.json")); err != nil {
			if asNpmOK = run(dir, "npm", "ci", "--no-audit", "--no-fund"); asNpmOK != nil {
				return
			}
		}
		// Build every guest at once, in parallel.
		tmp, err := os.MkdirTemp("", "sockwasm-as-")
		if err != nil {
			asNpmOK = err
			return
		}
		defer os.RemoveAll(tmp)
		var wg sync.WaitGroup
		for n, spec := range asGuests {
			wg.Add(1)
			go func() {
				defer wg.Done()
				out := filepath.Join(tmp, n+".wasm")
				// The build script finds the compiler in examples/chat-as.
				args := append([]string{filepath.Join(root, "sdk", "assemblyscript", "scripts", "build.mjs"),
					filepath.Join(root, spec[0], spec[1]), "-o", out}, spec[2:]...)
				err := run(dir, "node", args...)
				var bin []byte
				if err == nil {
					bin, err = os.ReadFile(out)
				}
				asMu.Lock()
				defer asMu.Unlock()
				if err != nil && asNpmOK == nil {
					asNpmOK = err
				}
				asBuilt[n] = bin
			}()
		}
		wg.Wait()
	})
	if asNpmOK != nil {
		t.Fatal(asNpmOK)
	}
	asMu.Lock()
	bin := asBuilt[name]
	asMu.Unlock()
	path := filepath.Join(t.TempDir(), name+".wasm")
	if err := os.WriteFile(path, bin, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

type buildError struct {
	cmd string
	err error
	out []byte
}

func (e *buildError) Error() string { return e.cmd + ": " + e.err.Error() + "\n" + string(e.out) }

func loadASGuest(t testing.TB, name string, opts Options) *Plugin {
	t.Helper()
	if opts.Logger == nil {
		opts.Logger = testLogger(t)
	}
	p, err := LoadFile(context.Background(), asGuestPath(t, name), opts, testCache)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close(context.Background()) })
	return p
}

// TestASGuestChat runs the chat behaviour of TestChat* against the
// AssemblyScript port.
func TestASGuestChat(t *testing.T) {
	t.Parallel()
	p := loadASGuest(t, "chat-as", Options{})
	ns := newNS("/")
	a, b := ns.sock("A", `{"name":"a"}`), ns.sock("B", "")

	if e := p.middleware(newNS("/chat").sock("X", `{"token":"bad"}`)); e == nil || e.Message != "unauthorized" || string(e.Data) != `{"code":401}` {
		t.Fatalf("bad token: %+v", e)
	}
	if e := p.middleware(newNS("/chat").sock("Y", `{"token":"good"}`)); e != nil {
		t.Fatalf("good token refused: %+v", e)
	}

	p.event(a, ev("echo", `[1,"two",{"_placeholder":true,"num":0}]`, 7, []byte{0, 1, 2, 255}))
	got := one(t, a.take())
	if got.kind != "ack" || got.ackID != 7 || got.args != `[1,"two",{"_placeholder":true,"num":0}]` ||
		len(got.atts) != 1 || !bytes.Equal(got.atts[0], []byte{0, 1, 2, 255}) {
		t.Fatalf("echo ack = %+v", got)
	}
	p.event(a, ev("echo", `["x"]`, 0))
	if got := one(t, a.take()); got.kind != "emit" || got.name != "echo-back" || got.args != `["x"]` {
		t.Fatalf("echo-back = %+v", got)
	}

	chatRoomScenario(t, p, ns, a, b, 100)
	if st := p.Stats(); st.Faults != 0 {
		t.Fatalf("faults: %+v", st)
	}
}

// TestASGuestPingMe checks the ack answered later, from the ack response
// call, with the ack id carried in the emit_with_ack context.
func TestASGuestPingMe(t *testing.T) {
	p := loadASGuest(t, "chat-as", Options{})
	s := newNS("/").sock("A", "")
	for _, tc := range []struct {
		resp socketio.AckResponse
		want string
	}{
		{socketio.AckResponse{Args: []byte(`["pong",2]`)}, `[{"ok":true,"answer":"pong"}]`},
		{socketio.AckResponse{Err: socketio.ErrAckTimeout}, `[{"ok":false,"error":"timeout"}]`},
	} {
		s.acked = map[uint64]bool{}
		p.event(s, ev("ping-me", `[{"n":1}]`, 1<<40+42))
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
		if got.kind != "ack" || got.ackID != 1<<40+42 || got.args != tc.want {
			t.Fatalf("deferred ack = %+v, want %s", got, tc.want)
		}
	}
}

// TestASGuestHeapReset: with the stub runtime nothing is freed, so the SDK
// discards each call's allocations when it returns. 200 echoes of 1 MiB
// (each allocates over 2 MiB in the guest) must fit in a 16 MiB instance.
func TestASGuestHeapReset(t *testing.T) {
	t.Parallel()
	p := loadASGuest(t, "chat-as", Options{Limits: Limits{MemoryPages: 256, MaxConcurrency: 1, PoolSize: 1}})
	s := newNS("/").sock("A", "")
	args := `["` + strings.Repeat("x", 1<<20) + `"]`
	for i := range 200 {
		s.acked = map[uint64]bool{}
		p.event(s, ev("echo", args, uint64(i+1)))
		got := one(t, s.take())
		if got.kind != "ack" || len(got.args) != len(args) {
			t.Fatalf("echo %d: %s… (%d bytes)", i, got.args[:min(len(got.args), 40)], len(got.args))
		}
	}
	if st := p.Stats(); st.Faults != 0 {
		t.Fatalf("faults: %+v", st)
	}
}

// BenchmarkEventASGuest is BenchmarkEventEchoAck with the AssemblyScript
// chat guest (examples/chat-as, stub runtime): one acked echo event.
func BenchmarkEventASGuest(b *testing.B) {
	p := loadASGuest(b, "chat-as", Options{})
	s := newNS("/").sock("A", "")
	e := ev("echo", `[1,"two",{"three":3}]`, 1)
	b.ReportAllocs()
	for b.Loop() {
		s.acked = map[uint64]bool{}
		p.event(s, e)
		s.out = s.out[:0]
	}
}

// TestASSDK runs the AssemblyScript SDK's test guest (every part of the
// API) with each runtime the build script offers.
func TestASSDK(t *testing.T) {
	for _, name := range []string{"sdk-as", "sdk-as-minimal", "sdk-as-incremental"} {
		t.Run(name, func(t *testing.T) { testASSDK(t, name) })
	}
}

func testASSDK(t *testing.T, name string) {
	p := loadASGuest(t, name, Options{})
	ns := newNS("/n")
	s := ns.sock("S1", `{"k":[1, 2]}`)
	ns.sock("S2", "")
	step := func(event, args string, ack uint64, atts ...[]byte) []sent {
		t.Helper()
		s.acked = map[uint64]bool{}
		p.event(s, ev(event, args, ack, atts...))
		return s.take()
	}
	ackOf := func(event, args string, atts ...[]byte) string {
		t.Helper()
		got := one(t, step(event, args, 5, atts...))
		if got.kind != "ack" || got.ackID != 5 {
			t.Fatalf("%s: %+v", event, got)
		}
		return got.args
	}

	p.connect(s)
	if got := one(t, s.take()); got.name != "welcome" || got.args != `["S1","/n","hello there"]` {
		t.Fatalf("welcome = %+v", got)
	}

	got := one(t, step("emit", `[]`, 0, []byte("in")))
	if got.name != "out" || got.args != `["a",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]` ||
		len(got.atts) != 2 || !bytes.Equal(got.atts[0], []byte{1, 2, 255}) || string(got.atts[1]) != "in" {
		t.Fatalf("emit = %+v", got)
	}

	step("bcast", `[]`, 0)
	bc := ns.take()
	if len(bc) != 3 || bc[0].name != "b" || len(bc[0].rooms) != 0 || strings.Join(bc[0].except, ",") != "x,S1" ||
		bc[1].name != "c" || strings.Join(bc[1].rooms, ",") != "r1,r2" || len(bc[1].except) != 0 ||
		bc[2].name != "d" || strings.Join(bc[2].rooms, ",") != "r3,r4" || strings.Join(bc[2].except, ",") != "y,z,S1" {
		t.Fatalf("broadcasts = %+v", bc)
	}

	if a := ackOf("info", `[]`); a != `["S1","/n","websocket",["S1","aa","zz"],2,{"k":[1, 2]},1]` {
		t.Fatalf("info = %s", a)
	}

	in := `[{"s":"a\"b\u00e9\ud83d\ude00","i":-42,"f":1.5e3,"b":true,"n":null,"arr":[1,[2, 3],{"x":"}"}],` +
		`"big":123456789012345678901,"esc\"key":0},7]`
	want := `["a\"bé😀",-42,1500.0,true,true,3,"}",[2, 3],-1,0,6,false,5,"\u0001\n\"\\\ufffdx",true,2]`
	if a := ackOf("json", in); a != want {
		t.Fatalf("json = %s\nwant   %s", a, want)
	}

	if a := ackOf("att", `[{"_placeholder":true,"num":0}]`, []byte{9, 8, 7}); a != `[1,3,7,true]` {
		t.Fatalf("att = %s", a)
	}
	if a := ackOf("errors", `[]`); a != `[-2,-2,"invalid argument"]` {
		t.Fatalf("errors = %s", a)
	}

	// Socket data, handshake and the server-side room operations.
	s.Join("room1")
	if a := ackOf("ext", `[]`); a != `[0,-2,{"user":"ann"},"test",1700000000000,[["S1",["S1","aa","room1","zz"],{"user":"ann"}]]]` {
		t.Fatalf("ext = %s", a)
	}
	if r := strings.Join(s.Rooms(), ","); r != "S1,aa,room2,zz" {
		t.Fatalf("rooms after sockets_join/leave = %s", r)
	}
	bc = ns.take()
	if len(bc) != 2 || bc[0].name != "v" || strings.Join(bc[0].rooms, ",") != "S1" || len(bc[0].except) != 0 ||
		bc[1].name != "w" || strings.Join(bc[1].rooms, ",") != "room2" || strings.Join(bc[1].except, ",") != "S1" {
		t.Fatalf("volatile emits = %+v", bc)
	}
	step("ask-all", `[]`, 0)
	if bc = ns.take(); len(bc) != 1 || bc[0].kind != "broadcastack" || bc[0].name != "poll" {
		t.Fatalf("broadcast with ack = %+v", bc)
	}
	ns.mu.Lock()
	bcb := ns.bcastAck
	ns.mu.Unlock()
	bcb([]socketio.AckReply{{SocketID: "S2", Args: []byte(`["yes",{"n":1}]`)}, {SocketID: "S1", Args: []byte(`[]`)}}, nil)
	if got := one(t, waitSent(s)); got.name != "replies" || got.args != `[0,"S2",["yes",{"n":1}],"S1",[]]` {
		t.Fatalf("replies = %+v", got)
	}
	step("kick", `[]`, 0)
	ns.mu.Lock()
	kicked := ns.kicked
	ns.mu.Unlock()
	if len(kicked) != 1 || strings.Join(kicked[0].Rooms, ",") != "room2" {
		t.Fatalf("disconnect_sockets = %+v", kicked)
	}
	if r := p.eventMiddleware(s, ev("blocked", `[5]`, 1)); r == nil || r.Message != "no" || string(r.Data) != `{"why":5}` {
		t.Fatalf("event middleware (blocked) = %+v", r)
	}
	if r := p.eventMiddleware(s, ev("plain", `[]`, 0)); r == nil || r.Message != "nope" || r.Data != nil {
		t.Fatalf("event middleware (plain) = %+v", r)
	}
	if r := p.eventMiddleware(s, ev("fine", `[]`, 0)); r != nil || string(s.Data()) != `{"seen":"fine"}` {
		t.Fatalf("event middleware (fine) = %+v, data %s", r, s.Data())
	}

	got = one(t, step("ask", `["q?"]`, 0))
	if got.kind != "emitack" || got.name != "question" || got.args != `["q?"]` {
		t.Fatalf("ask = %+v", got)
	}
	s.mu.Lock()
	cb := s.ackCB
	s.mu.Unlock()
	cb(socketio.AckResponse{Args: []byte(`["yes"]`)})
	if got := one(t, waitSent(s)); got.name != "answered" || got.args != `[0,true,2,9,["yes"]]` {
		t.Fatalf("answered = %+v", got)
	}

	if a := ackOf("other", `[1,{"a":null}]`); a != `["other",[1,{"a":null}]]` {
		t.Fatalf("any = %s", a)
	}

	before := p.Stats().Faults
	if a := ackOf("abort", `[]`); a != `[{"error":"handler failed"}]` {
		t.Fatalf("abort = %s", a)
	}
	if p.Stats().Faults != before+1 {
		t.Fatalf("abort: faults %d → %d", before, p.Stats().Faults)
	}
	// A fresh instance serves the next call.
	if a := ackOf("other", `[]`); a != `["other",[]]` {
		t.Fatalf("after abort = %s", a)
	}

	p.disconnect(s, "transport close", []string{"aa", "zz"})
	if got := one(t, ns.take()); got.name != "gone" || got.args != `["S1","transport close",["aa","zz"]]` {
		t.Fatalf("gone = %+v", got)
	}

	sess := &fakeSession{}
	r := p.engineOpen(sess)
	r.OnMessage([]byte("ping"), false)
	r.OnMessage([]byte{0, 1, 2}, true)
	r.OnClose("transport close")
	if len(sess.out) != 3 || string(sess.out[0].Data) != "open sess1 polling" || string(sess.out[1].Data) != "ping" ||
		sess.out[1].Binary || !bytes.Equal(sess.out[2].Data, []byte{0, 1, 2}) || !sess.out[2].Binary {
		t.Fatalf("engine = %+v", sess.out)
	}
}

// waitSent waits up to 5 s for packets sent to s by a later call.
func waitSent(s *fakeSock) []sent {
	deadline := time.Now().Add(5 * time.Second)
	var out []sent
	for len(out) == 0 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
		out = s.take()
	}
	return out
}

// TestASSDKState runs the plugin-state part of the AssemblyScript SDK:
// INIT and config, the key-value store, timers.
func TestASSDKState(t *testing.T) {
	grants := []string{CapKV, CapTimers}
	path := asGuestPath(t, "sdk-as-state")
	if _, err := LoadFile(context.Background(), path, Options{Logger: testLogger(t),
		Settings: map[string]Settings{"sdk-as-state": {Grants: grants, Config: []byte(`{"refuse":true}`)}}}, testCache); err == nil {
		t.Fatal("INIT refusal: loaded")
	}
	srv := socketio.New(socketio.Options{Logger: testLogger(t)})
	srv.Handle("/", nsHandler{})
	p := loadASGuest(t, "sdk-as-state", Options{Settings: map[string]Settings{
		"sdk-as-state": {Grants: append(grants, "emit:/nope"), Config: []byte(`{"greeting":"hi"}`)}},
		Namespaces: srv.Of, Serves: func(_, nsp string) bool { return nsp == "/" }})
	s := newNS("/").sock("A", "")
	ack := func(event string) string {
		t.Helper()
		s.acked = map[uint64]bool{}
		p.event(s, ev(event, `[]`, 1))
		got := one(t, s.take())
		if got.kind != "ack" {
			t.Fatalf("%s: %+v", event, got)
		}
		return got.args
	}
	if a := ack("cfg"); a != `[{"greeting":"hi"},{"greeting":"hi"}]` {
		t.Fatalf("cfg = %s", a)
	}
	if a := ack("kv"); a != `[0,42,"42",true,-3,1,0,1,1,1,0,2,0,-2]` {
		t.Fatalf("kv = %s", a)
	}
	if a := ack("timer"); a != `[true,0,-3]` {
		t.Fatalf("timer = %s", a)
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		a := ack("fired")
		if a == `["ok!"]` {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("timer did not fire: %s", a)
		}
		time.Sleep(5 * time.Millisecond)
	}
	// The TIMER call broadcast to "/" and got ERR_NOT_FOUND for "/nope".
	if a := ack("nsb"); a != `[0,-3]` {
		t.Fatalf("nsb = %s", a)
	}
}
