package plugin

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"
	"github.com/tetratelabs/wazero"

	"github.com/sockwasm/sockwasm/host/engineio"
	"github.com/sockwasm/sockwasm/host/socketio"
)

// guests maps a guest name to its package, built once per test binary.
var guests = map[string]string{
	"chat":        "github.com/sockwasm/sockwasm/examples/chat/plugin",
	"conformance": "github.com/sockwasm/sockwasm/examples/conformance/sio",
	"engine-echo": "github.com/sockwasm/sockwasm/examples/conformance/engine",
	"faults":      "./testdata/faults",
	"nomarker":    "./testdata/nomarker",
	"badimport":   "./testdata/badimport",
	// Plugin-state guests; extra build flags go before the package.
	"state":    "./testdata/state",
	"state-v2": "-ldflags=-X=main.version=v2 ./testdata/state",
	"sandbox":  "./testdata/sandbox",
	"sockapi":  "./testdata/sockapi",
	"nsbcast":  "./testdata/nsbcast",
	"hostile":  "./testdata/hostile",
	"http":     "./testdata/http",
	"http-v2":  "-ldflags=-X=main.version=v2 ./testdata/http",
}

// testCache shares compiled guests between the tests of this binary and,
// through a folder in the temporary directory, between runs: compiling Go
// guests is the slowest part of these tests under -race.
var testCache = newTestCache()

func newTestCache() wazero.CompilationCache {
	c, err := wazero.NewCompilationCacheWithDir(filepath.Join(os.TempDir(), "sockwasm-test-wazero-cache"))
	if err != nil {
		return wazero.NewCompilationCache()
	}
	return c
}

var (
	buildOnce sync.Once
	buildDir  string
	buildErr  error
)

// guestPath builds every test guest with the real Go toolchain (once) and
// returns the .wasm of name.
func guestPath(t testing.TB, name string) string {
	t.Helper()
	buildOnce.Do(func() {
		buildDir, buildErr = os.MkdirTemp("", "sockwasm-guests-")
		if buildErr != nil {
			return
		}
		var wg sync.WaitGroup
		var mu sync.Mutex
		for n, pkg := range guests {
			wg.Add(1)
			go func() {
				defer wg.Done()
				args := append([]string{"build", "-buildmode=c-shared", "-o", filepath.Join(buildDir, n+".wasm")}, strings.Fields(pkg)...)
				cmd := exec.Command("go", args...)
				cmd.Env = append(os.Environ(), "GOOS=wasip1", "GOARCH=wasm")
				if out, err := cmd.CombinedOutput(); err != nil {
					mu.Lock()
					buildErr = fmt.Errorf("build %s: %v\n%s", n, err, out)
					mu.Unlock()
				}
			}()
		}
		wg.Wait()
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return filepath.Join(buildDir, name+".wasm")
}

func TestMain(m *testing.M) {
	code := m.Run()
	if buildDir != "" {
		os.RemoveAll(buildDir)
	}
	os.Exit(code)
}

func testLogger(t testing.TB) *zerolog.Logger {
	l := zerolog.New(zerolog.NewTestWriter(t)).Level(zerolog.WarnLevel)
	return &l
}

func loadGuest(t testing.TB, name string, opts Options) *Plugin {
	t.Helper()
	if opts.Logger == nil {
		opts.Logger = testLogger(t)
	}
	p, err := LoadFile(context.Background(), guestPath(t, name), opts, testCache)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close(context.Background()) })
	return p
}

// sent is one packet the fake socket or namespace sent.
type sent struct {
	kind   string // emit, ack, broadcast, emitack
	name   string
	args   string
	atts   [][]byte
	ackID  uint64
	rooms  []string
	except []string
}

// fakeNS is a namespace of fake sockets with rooms.
type fakeNS struct {
	name  string
	mu    sync.Mutex
	rooms map[string]map[string]bool
	socks map[string]*fakeSock
	out   []sent
	// bcastAck is the callback of the last BroadcastWithAck.
	bcastAck func([]socketio.AckReply, error)
	// kicked records DisconnectSockets calls.
	kicked []socketio.BroadcastOptions
}

func newNS(name string) *fakeNS {
	return &fakeNS{name: name, rooms: map[string]map[string]bool{}, socks: map[string]*fakeSock{}}
}

type fakeSock struct {
	ns        *fakeNS
	id        string
	auth      []byte
	mu        sync.Mutex
	out       []sent
	acked     map[uint64]bool
	gone      bool
	ackCB     func(socketio.AckResponse)
	disc      chan bool
	transport string
	data      []byte // SetData
}

func (ns *fakeNS) sock(id string, auth string) *fakeSock {
	s := &fakeSock{ns: ns, id: id, auth: []byte(auth), acked: map[uint64]bool{}, disc: make(chan bool, 1), transport: "websocket"}
	ns.mu.Lock()
	ns.socks[id] = s
	ns.mu.Unlock()
	_ = s.Join(id)
	return s
}

func (s *fakeSock) ID() string        { return s.id }
func (s *fakeSock) Namespace() string { return s.ns.name }
func (s *fakeSock) Auth() []byte {
	if len(s.auth) == 0 {
		return []byte("{}")
	}
	return s.auth
}
func (s *fakeSock) Transport() string { return s.transport }
func (s *fakeSock) Rooms() []string {
	s.ns.mu.Lock()
	defer s.ns.mu.Unlock()
	var out []string
	for r, m := range s.ns.rooms {
		if m[s.id] {
			out = append(out, r)
		}
	}
	sort.Strings(out)
	return out
}
func (s *fakeSock) Connected() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return !s.gone
}
func (s *fakeSock) Join(room string) error {
	s.ns.mu.Lock()
	defer s.ns.mu.Unlock()
	if s.ns.rooms[room] == nil {
		s.ns.rooms[room] = map[string]bool{}
	}
	s.ns.rooms[room][s.id] = true
	return nil
}
func (s *fakeSock) Leave(room string) {
	s.ns.mu.Lock()
	defer s.ns.mu.Unlock()
	delete(s.ns.rooms[room], s.id)
}
func (s *fakeSock) record(p sent) {
	s.mu.Lock()
	s.out = append(s.out, p)
	s.mu.Unlock()
}

// checkArgs is the check of args every sending method of
// *socketio.Socket makes (target's contract): nil, or one JSON array
// within the default nesting limit, its strings valid UTF-8.
func checkArgs(args []byte) error {
	if len(args) == 0 {
		return nil
	}
	if !isJSONArray(args) {
		return socketio.ErrInvalidArgs
	}
	return nil
}

func (s *fakeSock) Emit(name string, args []byte, atts [][]byte) error {
	if err := checkArgs(args); err != nil {
		return err
	}
	s.record(sent{kind: "emit", name: name, args: string(args), atts: atts})
	return nil
}
func (s *fakeSock) EmitWithAck(name string, args []byte, atts [][]byte, timeout time.Duration, cb func(socketio.AckResponse)) error {
	if err := checkArgs(args); err != nil {
		return err
	}
	s.mu.Lock()
	s.ackCB = cb
	s.mu.Unlock()
	s.record(sent{kind: "emitack", name: name, args: string(args), atts: atts})
	return nil
}
func (s *fakeSock) Ack(id uint64, args []byte, atts [][]byte) error {
	if err := checkArgs(args); err != nil {
		return err
	}
	s.mu.Lock()
	if s.acked[id] {
		s.mu.Unlock()
		return socketio.ErrUnknownAck
	}
	s.acked[id] = true
	s.mu.Unlock()
	s.record(sent{kind: "ack", args: string(args), atts: atts, ackID: id})
	return nil
}
func (s *fakeSock) Disconnect(closeSession bool) { s.disc <- closeSession }
func (s *fakeSock) Broadcast(opts socketio.BroadcastOptions, name string, args []byte, atts [][]byte) error {
	if err := checkArgs(args); err != nil {
		return err
	}
	s.ns.mu.Lock()
	s.ns.out = append(s.ns.out, sent{kind: "broadcast", name: name, args: string(args), atts: atts, rooms: opts.Rooms, except: opts.Except})
	s.ns.mu.Unlock()
	return nil
}
func (s *fakeSock) RoomSize(_ context.Context, room string) (int, error) {
	s.ns.mu.Lock()
	defer s.ns.mu.Unlock()
	return len(s.ns.rooms[room]), nil
}
func (s *fakeSock) ClientCount(context.Context) (int, error) {
	s.ns.mu.Lock()
	defer s.ns.mu.Unlock()
	return len(s.ns.socks), nil
}

// take returns and clears what the socket was sent.
func (s *fakeSock) take() []sent {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := s.out
	s.out = nil
	return out
}

func (ns *fakeNS) take() []sent {
	ns.mu.Lock()
	defer ns.mu.Unlock()
	out := ns.out
	ns.out = nil
	return out
}

// fakeSession is a bare Engine.IO session.
type fakeSession struct {
	mu  sync.Mutex
	out []engineio.Message
}

func (f *fakeSession) ID() string        { return "sess1" }
func (f *fakeSession) Transport() string { return "polling" }
func (f *fakeSession) Send(msgs ...engineio.Message) error {
	f.mu.Lock()
	f.out = append(f.out, msgs...)
	f.mu.Unlock()
	return nil
}

func ev(name, args string, ack uint64, atts ...[]byte) *socketio.Event {
	return &socketio.Event{Name: name, Args: []byte(args), AckID: ack, HasAck: ack != 0, Attachments: atts}
}
