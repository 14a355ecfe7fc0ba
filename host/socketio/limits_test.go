package socketio

import (
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/sockwasm/sockwasm/host/engineio"
)

// A call posted to a client from another client's goroutine (here: B's
// answer completes A's broadcast with acks) runs on A's own executor,
// never on B's receiver: while A's callback is stuck, B is still served.
func TestExecutorRunsPostedCallsOnTheClientsOwnGoroutine(t *testing.T) {
	release := make(chan struct{})
	running := make(chan struct{})
	h := newHandler()
	h.onConnect = func(*Socket) {}
	h.onEvent = func(s *Socket, ev *Event) {
		switch ev.Name {
		case "ask":
			_, err := s.BroadcastWithAck(BroadcastOptions{Except: []string{s.ID()}}, "q", nil, nil, 10*time.Second, func([]AckReply, error) {
				close(running)
				<-release // a slow callback of A
			})
			if err != nil {
				t.Error(err)
			}
		case "message":
			_ = s.Emit("message-back", ev.Args, nil)
		}
	}
	e := newEnv(t, Options{}, map[string]NamespaceHandler{"/": h})
	ws, _ := connectN(t, e, 2)
	a, b := ws[0], ws[1]
	a.send(`2["ask"]`)
	b.expect(`420["q"]`)
	b.send(`30["yes"]`) // B's answer completes A's broadcast
	select {
	case <-running:
	case <-time.After(3 * time.Second):
		t.Fatal("A's callback did not run")
	}
	b.send(`2["message","still served"]`)
	b.expect(`42["message-back","still served"]`)
	close(release)
	a.send(`2["message","a too"]`)
	a.expect(`42["message-back","a too"]`)
}

func TestRoomLimits(t *testing.T) {
	h := newHandler()
	h.onConnect = func(*Socket) {}
	e := newEnv(t, Options{MaxRoomsPerSocket: 3, MaxRoomName: 8}, map[string]NamespaceHandler{"/": h})
	n := e.srv.Of("/")
	_, ids := connectN(t, e, 2)
	s := n.Socket(ids[0])
	// The socket's own id room counts: two more fit.
	if err := s.Join("a", "b"); err != nil {
		t.Fatal(err)
	}
	if err := s.Join("a", "b"); err != nil {
		t.Fatalf("joining rooms already joined: %v", err)
	}
	if err := s.Join("c"); !errors.Is(err, ErrTooManyRooms) {
		t.Fatalf("fourth room: %v", err)
	}
	if got := s.Rooms(); len(got) != 3 {
		t.Fatalf("rooms %v", got)
	}
	for _, bad := range []string{"", "123456789", "bad\xff"} {
		if err := n.Socket(ids[1]).Join(bad); !errors.Is(err, ErrInvalidRoom) {
			t.Errorf("Join(%q) = %v", bad, err)
		}
	}
	// All or none: a refused join adds nothing.
	if err := n.Socket(ids[1]).Join("x", ""); !errors.Is(err, ErrInvalidRoom) || n.RoomSize("x") != 0 {
		t.Fatalf("partial join: %v, size %d", err, n.RoomSize("x"))
	}
	// Server-side joins skip the socket that is full.
	n.SocketsJoin(BroadcastOptions{}, "z")
	if n.RoomSize("z") != 1 || len(n.Socket(ids[1]).Rooms()) != 2 {
		t.Fatalf("room z has %d members", n.RoomSize("z"))
	}
	s.Leave("a")
	if err := s.Join("c"); err != nil {
		t.Fatalf("after leaving one: %v", err)
	}
}

func TestEmitAttachmentLimit(t *testing.T) {
	h := newHandler()
	h.onConnect = func(*Socket) {}
	e := newEnv(t, Options{}, map[string]NamespaceHandler{"/": h})
	_, ids := connectN(t, e, 1)
	s := e.srv.Of("/").Socket(ids[0])
	atts := make([][]byte, 11)
	args := "["
	for i := range atts {
		atts[i] = []byte{byte(i)}
		if i > 0 {
			args += ","
		}
		args += fmt.Sprintf(`{"_placeholder":true,"num":%d}`, i)
	}
	args += "]"
	if err := s.Emit("x", []byte(args), atts); !errors.Is(err, ErrTooManyAttachments) {
		t.Fatalf("11 attachments: %v", err)
	}
	if err := e.srv.Of("/").Broadcast(BroadcastOptions{}, "x", []byte(args), atts); !errors.Is(err, ErrTooManyAttachments) {
		t.Fatalf("broadcast with 11 attachments: %v", err)
	}
}

func TestBroadcastWithAckPendingLimit(t *testing.T) {
	h := newHandler()
	h.onConnect = func(*Socket) {}
	e := newEnv(t, Options{MaxPendingAcks: 2}, map[string]NamespaceHandler{"/": h})
	ws, ids := connectN(t, e, 2)
	n := e.srv.Of("/")
	s := n.Socket(ids[0])
	done := make(chan error, 3)
	cb := func(_ []AckReply, err error) { done <- err }
	sel := BroadcastOptions{Rooms: []string{ids[1]}}
	for i := range 2 {
		if _, err := s.BroadcastWithAck(sel, "q", nil, nil, 10*time.Second, cb); err != nil {
			t.Fatalf("broadcast %d: %v", i, err)
		}
	}
	if _, err := s.BroadcastWithAck(sel, "q", nil, nil, 10*time.Second, cb); !errors.Is(err, ErrTooManyAcks) {
		t.Fatalf("third pending broadcast: %v", err)
	}
	ws[1].expect(`420["q"]`)
	ws[1].expect(`421["q"]`)
	ws[1].send(`30[]`)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if _, err := s.BroadcastWithAck(sel, "q", nil, nil, 10*time.Second, cb); err != nil {
		t.Fatalf("after one completed: %v", err)
	}
}

// Dynamic namespaces: freed when their last socket leaves (and when the
// CONNECT that made them is refused), capped in number, names bounded.
func TestDynamicNamespacesFreedAndCapped(t *testing.T) {
	tenants := newHandler()
	tenants.authorize = func(s *Socket) *ConnectError {
		if string(s.Auth()) == `{"bad":1}` {
			return &ConnectError{Message: "no"}
		}
		return nil
	}
	e := newEnv(t, Options{MaxDynamicNamespaces: 2, MaxNamespaceName: 32}, map[string]NamespaceHandler{"/": newHandler()})
	e.srv.SetResolver(func(name string) NamespaceHandler {
		if strings.HasPrefix(name, "/t-") {
			return tenants
		}
		return nil
	})
	w := e.dial(t)
	w.connect("/t-a", "")
	w.expect(`42/t-a,["auth",{}]`)
	w2 := e.dial(t)
	w2.connect("/t-b", "")
	w2.expect(`42/t-b,["auth",{}]`)
	w3 := e.dial(t)
	w3.send("0/t-c,")
	w3.expect(`44/t-c,{"message":"Too many namespaces"}`)
	// /t-b empties: it is removed, and /t-c fits.
	w2.send("1/t-b,")
	tenants.waitDisconnect(t)
	for deadline := time.Now().Add(5 * time.Second); e.srv.Of("/t-b") != nil; time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("empty dynamic namespace kept")
		}
	}
	w3.connect("/t-c", "")
	w3.expect(`42/t-c,["auth",{}]`)
	// A refused CONNECT leaves no namespace behind.
	w3.send("1/t-c,")
	tenants.waitDisconnect(t)
	w4 := e.dial(t)
	w4.send(`0/t-d,{"bad":1}`)
	w4.expect(`44/t-d,{"message":"no"}`)
	// The handler hears of the disconnect before the namespace is
	// removed: wait for that.
	for deadline := time.Now().Add(5 * time.Second); e.srv.Of("/t-d") != nil || e.srv.Of("/t-c") != nil; time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("namespace left behind")
		}
	}
	// Names are bounded.
	long := "/t-" + strings.Repeat("x", 40)
	w4.send("0" + long + ",")
	w4.expect(`44` + long + `,{"message":"Invalid namespace"}`)
	if e.srv.Of(long) != nil {
		t.Fatal("over-long namespace created")
	}
	// A namespace with sockets stays.
	if e.srv.Of("/t-a") == nil {
		t.Fatal("/t-a removed while in use")
	}
}

func TestKeepEmptyDynamicNamespaces(t *testing.T) {
	e := newEnv(t, Options{KeepEmptyDynamicNamespaces: true}, nil)
	h := newHandler()
	e.srv.SetResolver(func(string) NamespaceHandler { return h })
	w := e.dial(t)
	w.connect("/x", "")
	w.expect(`42/x,["auth",{}]`)
	w.send("1/x,")
	h.waitDisconnect(t)
	if e.srv.Of("/x") == nil {
		t.Fatal("namespace removed despite KeepEmptyDynamicNamespaces")
	}
}

// EmitWithAck either fails or calls cb, never both: an emit whose send
// fails after the ack timed out (or the socket left) reports through cb.
func TestEmitWithAckErrorOrCallbackNotBoth(t *testing.T) {
	var errs, cbs atomic.Int64
	done := make(chan struct{})
	h := newHandler()
	h.onConnect = func(*Socket) {}
	h.onEvent = func(s *Socket, ev *Event) {
		defer close(done)
		s.c.es.Close(engineio.ReasonForcedClose) // the socket leaves after this call
		for range 20000 {
			if err := s.EmitWithAck("q", nil, nil, time.Nanosecond, func(AckResponse) { cbs.Add(1) }); err != nil {
				errs.Add(1)
			}
		}
	}
	e := newEnv(t, Options{}, map[string]NamespaceHandler{"/": h})
	ws, _ := connectN(t, e, 1)
	ws[0].send(`2["go"]`)
	<-done
	deadline := time.Now().Add(3 * time.Second)
	for errs.Load()+cbs.Load() != 20000 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	if n := errs.Load() + cbs.Load(); n != 20000 {
		t.Fatalf("%d errors + %d callbacks for 20000 emits", errs.Load(), cbs.Load())
	}
}

// The warnings a client can cause as often as it likes are sampled: 200
// CONNECTs over the dynamic namespace limit log at most ClientLogBurst
// lines.
func TestClientCausedWarningsSampled(t *testing.T) {
	var buf syncBuffer
	lg := zerolog.New(&buf)
	e := newEnv(t, Options{Logger: &lg, MaxDynamicNamespaces: 1}, map[string]NamespaceHandler{"/": newHandler()})
	e.srv.SetResolver(func(string) NamespaceHandler { return newHandler() })
	w := e.dial(t)
	w.connect("/t-0", "")
	w.expect(`42/t-0,["auth",{}]`)
	for i := 1; i <= 200; i++ {
		w.send(fmt.Sprintf("0/t-%d,", i))
	}
	for i := 1; i <= 200; i++ {
		w.expect(fmt.Sprintf(`44/t-%d,{"message":"Too many namespaces"}`, i))
	}
	if n := strings.Count(buf.String(), "dynamic namespace refused"); n == 0 || n > ClientLogBurst {
		t.Fatalf("%d log lines for 200 refusals, want 1..%d", n, ClientLogBurst)
	}
}

// What one session holds in sockets is bounded: their number and their
// auth payloads together. A CONNECT over either is refused and the
// session carries on; a socket that leaves makes room.
func TestSocketsAndAuthPerSessionBounded(t *testing.T) {
	e := newEnv(t, Options{MaxSocketsPerSession: 3, MaxAuthBytes: 100}, map[string]NamespaceHandler{"/": newHandler()})
	e.srv.SetResolver(func(string) NamespaceHandler { return newHandler() })
	w := e.dial(t)
	big := `{"t":"` + strings.Repeat("x", 80) + `"}`
	w.connect("/a", big)
	w.expect(`42/a,["auth",` + big + `]`)
	// 88 bytes held: 20 more would be 108.
	w.send(`0/b,{"t":"` + strings.Repeat("y", 12) + `"}`)
	w.expect(`44/b,{"message":"Auth payload too large"}`)
	w.connect("/b", `{"t":1}`)
	w.expect(`42/b,["auth",{"t":1}]`)
	w.connect("/c", "")
	w.expect(`42/c,["auth",{}]`)
	w.send("0/d,")
	w.expect(`44/d,{"message":"Too many sockets on this connection"}`)
	if e.srv.Of("/d") != nil {
		t.Fatal("a refused CONNECT created its namespace")
	}
	// /a leaves: a socket and its 88 bytes are free again.
	w.send("1/a,")
	w.connect("/d", `{"t":"`+strings.Repeat("z", 60)+`"}`)
	w.expect(`42/d,["auth",{"t":"` + strings.Repeat("z", 60) + `"}]`)
}

// A broadcast with acks holds its answers until the last one, at most
// MaxBroadcastAckBytes of them: an answer beyond is dropped as if its
// socket had left, and the broadcast still completes.
func TestBroadcastAckAnswersBounded(t *testing.T) {
	var buf syncBuffer
	lg := zerolog.New(&buf)
	h := newHandler()
	h.onConnect = func(*Socket) {}
	e := newEnv(t, Options{MaxBroadcastAckBytes: 1000, Logger: &lg}, map[string]NamespaceHandler{"/": h})
	ws, _ := connectN(t, e, 3)
	done := make(chan []AckReply, 1)
	err := e.srv.Of("/").BroadcastWithAck(BroadcastOptions{}, "q", nil, nil, 10*time.Second, func(r []AckReply, err error) {
		if err != nil {
			t.Errorf("broadcast: %v", err)
		}
		done <- r
	})
	if err != nil {
		t.Fatal(err)
	}
	big := `["` + strings.Repeat("x", 600) + `"]`
	for _, w := range ws {
		w.expect(`420["q"]`)
		w.send(`30` + big)
	}
	r := <-done
	if len(r) != 1 || string(r[0].Args) != big {
		t.Fatalf("%d answers kept, want the first one only", len(r))
	}
	if n := strings.Count(buf.String(), "max_broadcast_ack_bytes"); n != 1 {
		t.Fatalf("logged %d times, want once", n)
	}
}
