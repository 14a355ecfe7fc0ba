package plugin

import (
	"sync"
	"testing"
	"time"

	"github.com/sockwasm/sockwasm/host/socketio"
)

// sseAdapter is the memory adapter of one namespace that records what a
// plugin sends through it: broadcasts (ns_broadcast) and server-side emits
// (server_emit), whose answers the test gives by calling their cb. With
// immediate it answers server-side emits as the memory adapter does (at
// once, with none).
type sseAdapter struct {
	*socketio.MemoryAdapter
	immediate bool

	mu     sync.Mutex
	bcasts []sseSent
	emits  []sseEmit
}

type sseSent struct{ name, args string }

type sseEmit struct {
	name, args string
	timeout    time.Duration
	cb         func([][]byte, error)
}

func (a *sseAdapter) Broadcast(p *socketio.Packet, opts socketio.BroadcastOptions) {
	a.mu.Lock()
	a.bcasts = append(a.bcasts, sseSent{p.Name, string(p.Args)})
	a.mu.Unlock()
	a.MemoryAdapter.Broadcast(p, opts)
}

func (a *sseAdapter) ServerSideEmit(name string, args []byte, timeout time.Duration, cb func([][]byte, error)) (bool, error) {
	a.mu.Lock()
	a.emits = append(a.emits, sseEmit{name, string(args), timeout, cb})
	a.mu.Unlock()
	if a.immediate {
		return a.MemoryAdapter.ServerSideEmit(name, args, timeout, cb)
	}
	return false, nil
}

// broadcast waits up to 5 s for a broadcast of event name, removes it and
// returns its args.
func (a *sseAdapter) broadcast(t *testing.T, name string) string {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		a.mu.Lock()
		for i, b := range a.bcasts {
			if b.name == name {
				a.bcasts = append(a.bcasts[:i], a.bcasts[i+1:]...)
				a.mu.Unlock()
				return b.args
			}
		}
		got := a.bcasts
		a.mu.Unlock()
		if time.Now().After(deadline) {
			t.Fatalf("no broadcast %q; got %+v", name, got)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// takeEmits returns the recorded server-side emits and forgets them.
func (a *sseAdapter) takeEmits() []sseEmit {
	a.mu.Lock()
	defer a.mu.Unlock()
	out := a.emits
	a.emits = nil
	return out
}

// sseHandler is nsHandler taking server-side events, as the router does.
type sseHandler struct{ nsHandler }

func (h sseHandler) OnServerEvent(n *socketio.Namespace, name string, args []byte, ack func([]byte)) {
	h.p.ServerEvent(n.Name(), name, args, ack)
}

// TestASSDKServerEvents runs the server-side events of the AssemblyScript
// SDK (onServerEvent, ServerEvent.ack, serverEmit, onServerAck) through
// the Socket.IO server's namespaces, with each runtime.
func TestASSDKServerEvents(t *testing.T) {
	for _, name := range []string{"sdk-as", "sdk-as-minimal", "sdk-as-incremental"} {
		t.Run(name, func(t *testing.T) { testASSDKServerEvents(t, name) })
	}
}

func testASSDKServerEvents(t *testing.T, name string) {
	adapters := map[string]*sseAdapter{}
	srv := socketio.New(socketio.Options{Logger: testLogger(t), NewAdapter: func(n *socketio.Namespace) socketio.Adapter {
		a := &sseAdapter{MemoryAdapter: socketio.NewLocalAdapter(n), immediate: n.Name() == "/mem"}
		adapters[n.Name()] = a
		return a
	}})
	// It serves / and /mem; /nope is granted but does not exist;
	// /elsewhere is neither served nor granted.
	p := loadASGuest(t, name, Options{
		Settings:   map[string]Settings{name: {Grants: []string{"emit:/nope"}}},
		Namespaces: srv.Of,
		Serves:     func(_, nsp string) bool { return nsp == "/" || nsp == "/mem" },
	})
	srv.Handle("/", sseHandler{nsHandler{p}})
	srv.Handle("/mem", sseHandler{nsHandler{p}})
	root, mem := adapters["/"], adapters["/mem"]

	// SERVER_EVENT with an ack, as an adapter hands it over: the answer
	// (server_ack) is the first element of the guest's args; a second ack
	// is ERR_UNKNOWN_ACK (-7).
	answer := make(chan []byte, 2)
	srv.Of("/").ServerEvent("who", []byte(`[1,"x"]`), func(a []byte) { answer <- a })
	select {
	case a := <-answer:
		if string(a) != `"as-ack"` {
			t.Fatalf("server_ack answer = %s", a)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the SERVER_EVENT was not answered")
	}
	if got := root.broadcast(t, "server-event"); got != `["who",[1,"x"],1,true,0,-7,1]` {
		t.Fatalf("server event (ack) = %s", got)
	}

	// Without an ack, ack is ERR_UNKNOWN_ACK.
	srv.Of("/").ServerEvent("note", []byte(`[{"a":null}]`), nil)
	if got := root.broadcast(t, "server-event"); got != `["note",[{"a":null}],{"a":null},false,-7,-7,1]` {
		t.Fatalf("server event (no ack) = %s", got)
	}

	// A SERVER_EVENT call may emit to the other nodes itself.
	srv.Of("/").ServerEvent("relay", []byte(`["r"]`), nil)
	if got := root.broadcast(t, "server-event"); got != `["relay",["r"],"r",false,-7,-7,0]` {
		t.Fatalf("server event (relay) = %s", got)
	}
	if e := root.takeEmits(); len(e) != 1 || e[0].name != "relayed" || e[0].args != `["r"]` || e[0].timeout != 0 || e[0].cb != nil {
		t.Fatalf("relayed server_emit = %+v", e)
	}

	// server_emit from an EVENT call: with answers (2 s), without, and the
	// refusals: args not a JSON array and a timeout over 600000 ms
	// (ERR_INVALID), a namespace neither served nor granted
	// (ERR_NOT_ALLOWED), a granted namespace that does not exist
	// (ERR_NOT_FOUND).
	s := newNS("/").sock("A", "")
	sse := func(s *fakeSock, args string) {
		t.Helper()
		s.acked = map[uint64]bool{}
		p.event(s, ev("sse", args, 5))
		if got := one(t, s.take()); got.kind != "ack" || got.ackID != 5 || got.args != `[0,0,-2,-2,-4,-3]` {
			t.Fatalf("sse = %+v", got)
		}
	}
	for _, tc := range []struct {
		answers [][]byte
		err     error
		want    string
	}{
		{[][]byte{[]byte(`"n1"`), []byte(`{"n":2}`)}, nil, `["/",0,["n1",{"n":2}],2,"c:1"]`},
		// Not every node answered in time; an absent answer is null.
		{[][]byte{[]byte(`"n1"`), nil}, socketio.ErrClusterTimeout, `["/",1,["n1",null],2,"c:1"]`},
	} {
		sse(s, `[{"q":1}]`)
		e := root.takeEmits()
		if len(e) != 2 || e[0].name != "who" || e[0].args != `[{"q":1}]` || e[0].timeout != 2*time.Second || e[0].cb == nil ||
			e[1].name != "hello" || e[1].args != `["all"]` || e[1].timeout != 0 || e[1].cb != nil {
			t.Fatalf("server_emit = %+v", e)
		}
		// The other nodes answer: a SERVER_ACK call with them and the context.
		e[0].cb(tc.answers, tc.err)
		if got := root.broadcast(t, "server-answers"); got != tc.want {
			t.Fatalf("server answers = %s, want %s", got, tc.want)
		}
	}

	// With the memory adapter (no other node) the SERVER_ACK call comes
	// at once, with no answers.
	sse(newNS("/mem").sock("B", ""), `[]`)
	if e := mem.takeEmits(); len(e) != 2 || e[0].name != "who" || e[1].name != "hello" {
		t.Fatalf("server_emit (/mem) = %+v", e)
	}
	if got := mem.broadcast(t, "server-answers"); got != `["/mem",0,[],0,"c:1"]` {
		t.Fatalf("server answers (/mem) = %s", got)
	}

	if st := p.Stats(); st.Faults != 0 {
		t.Fatalf("faults: %+v", st)
	}
}
