package socketio

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sockwasm/sockwasm/host/engineio"
)

// connectN connects n clients to "/" and returns them with their socket ids.
func connectN(t *testing.T, e *env, n int) ([]*wsClient, []string) {
	t.Helper()
	var ws []*wsClient
	var ids []string
	for range n {
		w := e.dial(t)
		ws = append(ws, w)
		ids = append(ids, w.connect("", ""))
	}
	return ws, ids
}

func TestFetchSocketsAndRoomOperations(t *testing.T) {
	h := newHandler()
	h.onConnect = func(*Socket) {}
	e := newEnv(t, Options{}, map[string]NamespaceHandler{"/": h})
	n := e.srv.Of("/")
	ws, ids := connectN(t, e, 3)
	n.Socket(ids[0]).Join("a")
	n.Socket(ids[1]).Join("a", "b")
	n.Socket(ids[1]).SetData("auth", []byte(`{"user":"bob"}`))

	got, err := n.FetchSockets(context.Background(), BroadcastOptions{Rooms: []string{"a"}})
	if err != nil {
		t.Fatal(err)
	}
	slices.SortFunc(got, func(x, y SocketInfo) int { return strings.Compare(x.ID, y.ID) })
	want := sortedCopy(ids[:2])
	if len(got) != 2 || got[0].ID != want[0] || got[1].ID != want[1] {
		t.Fatalf("FetchSockets %+v", got)
	}
	for _, si := range got {
		if si.ID == ids[1] {
			if len(si.Data) != 1 || string(si.Data["auth"]) != `{"user":"bob"}` || strings.Join(si.Rooms, ",") != strings.Join(sortedCopy([]string{ids[1], "a", "b"}), ",") {
				t.Fatalf("socket 1: %+v", si)
			}
		} else if si.Data != nil {
			t.Fatalf("socket 0 data %q", si.Data)
		}
	}
	if all, _ := n.FetchSockets(context.Background(), BroadcastOptions{Except: []string{"a"}}); len(all) != 1 || all[0].ID != ids[2] {
		t.Fatalf("except: %+v", all)
	}

	// Room a except socket 0 joins c and d; then leaves d.
	n.SocketsJoin(BroadcastOptions{Rooms: []string{"a"}, Except: []string{ids[0]}}, "c", "d")
	if n.RoomSize("c") != 1 || n.RoomSize("d") != 1 || !slices.Contains(n.Socket(ids[1]).Rooms(), "c") {
		t.Fatal("SocketsJoin", n.Socket(ids[1]).Rooms())
	}
	n.SocketsJoin(BroadcastOptions{}, "everyone")
	if n.RoomSize("everyone") != 3 {
		t.Fatal("SocketsJoin all")
	}
	n.SocketsLeave(BroadcastOptions{Rooms: []string{"c"}}, "d", "a")
	if n.RoomSize("d") != 0 || n.RoomSize("a") != 1 || n.RoomSize("c") != 1 {
		t.Fatal("SocketsLeave", n.RoomSize("d"), n.RoomSize("a"), n.RoomSize("c"))
	}

	// Disconnect everyone but socket 2.
	n.DisconnectSockets(BroadcastOptions{Except: []string{ids[2]}}, false)
	ws[0].expect("41")
	ws[1].expect("41")
	for range 2 {
		if d := h.waitDisconnect(t); d.reason != ReasonServerNamespaceDisconnect || d.id == ids[2] {
			t.Fatalf("%+v", d)
		}
	}
	if n.Len() != 1 || n.Socket(ids[2]) == nil {
		t.Fatal("Len", n.Len())
	}
	// With closeSession the session goes too.
	n.DisconnectSockets(BroadcastOptions{Rooms: []string{ids[2]}}, true)
	ws[2].expect("41")
	ws[2].waitClosed()
}

// Each owner has its own data slot: one cannot overwrite another's.
func TestSocketData(t *testing.T) {
	h := newHandler()
	h.authorize = func(s *Socket) *ConnectError {
		s.SetData("auth", []byte(`{"claims":1}`))
		if err := s.Join("from-middleware"); err != nil {
			t.Error(err)
		}
		return nil
	}
	h.onConnect = func(*Socket) {}
	e := newEnv(t, Options{}, map[string]NamespaceHandler{"/": h})
	_, ids := connectN(t, e, 1)
	s := e.srv.Of("/").Socket(ids[0])
	if string(s.Data("auth")) != `{"claims":1}` {
		t.Fatalf("data %q", s.Data("auth"))
	}
	if got := s.Rooms(); !slices.Contains(got, "from-middleware") {
		t.Fatalf("rooms joined in middleware: %v", got)
	}
	b := []byte(`"x"`)
	s.SetData("limiter", b)
	b[1] = 'y'
	if string(s.Data("limiter")) != `"x"` {
		t.Fatal("SetData did not copy")
	}
	if string(s.Data("auth")) != `{"claims":1}` {
		t.Fatal("one owner's SetData changed another's data")
	}
	s.SetData("limiter", nil)
	if s.Data("limiter") != nil || s.Data("auth") == nil {
		t.Fatal("not cleared, or cleared the other's")
	}
}

// Rooms a refused connection's middleware joined are dropped.
func TestRefusedConnectLeavesNoRooms(t *testing.T) {
	h := newHandler()
	h.authorize = func(s *Socket) *ConnectError {
		_ = s.Join("lobby")
		return &ConnectError{Message: "no"}
	}
	e := newEnv(t, Options{}, map[string]NamespaceHandler{"/": h})
	w := e.dial(t)
	w.send("0")
	w.expect(`44{"message":"no"}`)
	if n := e.srv.Of("/").RoomSize("lobby"); n != 0 {
		t.Fatalf("lobby has %d members after a refused connect", n)
	}
}

type ackResult struct {
	replies []AckReply
	err     error
}

func TestBroadcastWithAck(t *testing.T) {
	h := newHandler()
	h.onConnect = func(*Socket) {}
	e := newEnv(t, Options{}, map[string]NamespaceHandler{"/": h})
	n := e.srv.Of("/")
	ws, ids := connectN(t, e, 3)

	// Everyone but socket 2; both answer: done before the timeout.
	res := make(chan ackResult, 1)
	cb := func(r []AckReply, err error) { res <- ackResult{r, err} }
	if err := n.BroadcastWithAck(BroadcastOptions{Except: []string{ids[2]}}, "q", []byte(`[1]`), nil, time.Minute, cb); err != nil {
		t.Fatal(err)
	}
	ws[0].expect(`420["q",1]`)
	ws[1].expect(`420["q",1]`)
	ws[1].send(`30["b"]`)
	ws[0].send(`30["a",2]`)
	select {
	case r := <-res:
		// Two connections: either may arrive first.
		slices.SortFunc(r.replies, func(x, y AckReply) int { return strings.Compare(string(x.Args), string(y.Args)) })
		if r.err != nil || len(r.replies) != 2 || r.replies[0].SocketID != ids[0] || string(r.replies[0].Args) != `["a",2]` ||
			r.replies[1].SocketID != ids[1] || string(r.replies[1].Args) != `["b"]` {
			t.Fatalf("%+v", r)
		}
	case <-time.After(3 * time.Second):
		t.Fatal("no callback")
	}

	// Timeout with one answer of three.
	start := time.Now()
	if err := n.BroadcastWithAck(BroadcastOptions{}, "q2", nil, nil, 200*time.Millisecond, cb); err != nil {
		t.Fatal(err)
	}
	ws[0].expect(`421["q2"]`)
	ws[1].expect(`421["q2"]`)
	ws[2].expect(`420["q2"]`)
	ws[2].send(`30[true]`)
	select {
	case r := <-res:
		if !errors.Is(r.err, ErrAckTimeout) || len(r.replies) != 1 || r.replies[0].SocketID != ids[2] || string(r.replies[0].Args) != `[true]` {
			t.Fatalf("%+v", r)
		}
		if time.Since(start) < 200*time.Millisecond {
			t.Fatal("callback before the timeout")
		}
	case <-time.After(3 * time.Second):
		t.Fatal("no callback")
	}

	// No socket selected: at once, no error.
	if err := n.BroadcastWithAck(BroadcastOptions{Rooms: []string{"nobody"}}, "q3", nil, nil, time.Second, cb); err != nil {
		t.Fatal(err)
	}
	if r := <-res; r.err != nil || len(r.replies) != 0 {
		t.Fatalf("%+v", r)
	}
	if err := n.BroadcastWithAck(BroadcastOptions{}, "q3", []byte(`{}`), nil, time.Second, cb); !errors.Is(err, ErrInvalidArgs) {
		t.Fatal(err)
	}

	// A socket leaving is not waited for.
	if err := n.BroadcastWithAck(BroadcastOptions{Rooms: []string{ids[0], ids[1]}}, "q4", nil, nil, time.Minute, cb); err != nil {
		t.Fatal(err)
	}
	ws[0].expect(`422["q4"]`)
	ws[1].expect(`422["q4"]`)
	ws[0].send(`32["ok"]`)
	ws[1].send(`1`)
	if r := <-res; r.err != nil || len(r.replies) != 1 || r.replies[0].SocketID != ids[0] {
		t.Fatalf("%+v", r)
	}
}

// TestSocketBroadcastWithAckSerialized: called from a handler, the
// callback waits for that handler to return.
func TestSocketBroadcastWithAckSerialized(t *testing.T) {
	h := newHandler()
	h.onConnect = func(*Socket) {}
	res := make(chan ackResult, 1)
	var inHandler bool
	h.onEvent = func(s *Socket, ev *Event) {
		inHandler = true
		defer func() { inHandler = false }()
		immediate, err := s.BroadcastWithAck(BroadcastOptions{Rooms: []string{"nobody"}}, "x", nil, nil, time.Second, func(r []AckReply, err error) {
			if inHandler {
				t.Error("callback ran inside the handler")
			}
			res <- ackResult{r, err}
		})
		if err != nil || !immediate {
			t.Error(immediate, err)
		}
	}
	e := newEnv(t, Options{}, map[string]NamespaceHandler{"/": h})
	ws, _ := connectN(t, e, 1)
	ws[0].send(`2["go"]`)
	select {
	case r := <-res:
		if r.err != nil || r.replies != nil {
			t.Fatalf("%+v", r)
		}
	case <-time.After(3 * time.Second):
		t.Fatal("no callback")
	}
}

// pollGet does one polling GET and returns the body.
func pollGet(t *testing.T, base, sid string) string {
	t.Helper()
	resp, err := http.Get(base + "&sid=" + sid)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}

func TestVolatileBroadcast(t *testing.T) {
	h := newHandler()
	h.onConnect = func(*Socket) {}
	srv := New(Options{})
	n := srv.Handle("/", h)
	eng := engineio.New(engineio.Options{Path: "/socket.io/", PingInterval: 10 * time.Second, PingTimeout: 5 * time.Second}, srv)
	hs := httptest.NewServer(eng)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
		_ = eng.Shutdown(ctx)
		hs.Close()
	})
	base := hs.URL + "/socket.io/?EIO=4&transport=polling"
	resp, err := http.Get(base)
	if err != nil {
		t.Fatal(err)
	}
	open, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	_, rest, _ := strings.Cut(string(open), `"sid":"`)
	sid, _, _ := strings.Cut(rest, `"`)
	if sid == "" {
		t.Fatalf("open %q", open)
	}
	post, err := http.Post(base+"&sid="+sid, "text/plain", strings.NewReader("40"))
	if err != nil {
		t.Fatal(err)
	}
	post.Body.Close()
	// The CONNECT reply waits for a GET: the session is not writable, so
	// the volatile packet is dropped and the other one is queued.
	deadline := time.Now().Add(3 * time.Second)
	for n.Len() == 0 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	n.Broadcast(BroadcastOptions{Volatile: true}, "dropped", nil, nil)
	n.Broadcast(BroadcastOptions{}, "kept", nil, nil)
	if st := srv.Stats(); st.Broadcasts != 2 || st.Deliveries != 1 || st.DeliveriesDropped != 1 {
		t.Fatalf("stats %+v: want 2 broadcasts, 1 delivery, 1 dropped", st)
	}
	body := pollGet(t, base, sid)
	if strings.Contains(body, "dropped") || !strings.Contains(body, `42["kept"]`) {
		t.Fatalf("body %q", body)
	}
	// Nothing queued now: a volatile packet is sent.
	n.Broadcast(BroadcastOptions{Volatile: true}, "sent", nil, nil)
	if body := pollGet(t, base, sid); body != `42["sent"]` {
		t.Fatalf("body %q", body)
	}
	if st := srv.Stats(); st.Broadcasts != 3 || st.Deliveries != 2 || st.DeliveriesDropped != 1 {
		t.Fatalf("stats %+v: want 3 broadcasts, 2 deliveries, 1 dropped", st)
	}
}

// clusterAdapter is a MemoryAdapter whose broadcasts with acks also "reach"
// other servers, played by the test through remote.
type clusterAdapter struct {
	*MemoryAdapter
	servers int
	wait    time.Duration
	remote  chan *AckBroadcast
}

func (a *clusterAdapter) BroadcastWithAck(opts BroadcastOptions, b *AckBroadcast) {
	b.ExpectServers(a.servers, a.wait)
	b.Deliver(a.Select(opts))
	a.remote <- b
}

// A broadcast with acks that other servers received waits for each one's
// client count and for that many answers; a server that never reports
// ends it at the deadline, with the answers received so far.
func TestAckBroadcastAcrossServers(t *testing.T) {
	for _, silent := range []bool{false, true} {
		remote := make(chan *AckBroadcast, 1)
		h := newHandler()
		h.onConnect = func(*Socket) {}
		e := newEnv(t, Options{NewAdapter: func(n *Namespace) Adapter {
			return &clusterAdapter{MemoryAdapter: NewLocalAdapter(n), servers: 2, wait: 300 * time.Millisecond, remote: remote}
		}}, map[string]NamespaceHandler{"/": h})
		ws, _ := connectN(t, e, 1)
		done := make(chan error, 1)
		var got []AckReply
		err := e.srv.Of("/").BroadcastWithAck(BroadcastOptions{}, "q", nil, nil, 5*time.Second, func(r []AckReply, err error) {
			got = r
			done <- err
		})
		if err != nil {
			t.Fatal(err)
		}
		b := <-remote
		if name, _, _ := b.Event(); name != "q" {
			t.Fatalf("event %q", name)
		}
		ws[0].expect(`420["q"]`)
		ws[0].send(`30["local"]`)
		b.ServerCount(1)
		b.RemoteAnswer(AckReply{Args: []byte(`["remote"]`)})
		if !silent {
			b.ServerCount(0)
		}
		select {
		case err = <-done:
		case <-time.After(5 * time.Second):
			t.Fatal("broadcast never completed")
		}
		if silent != errors.Is(err, ErrAckTimeout) || len(got) != 2 {
			t.Fatalf("silent=%v: err %v, %d answers", silent, err, len(got))
		}
		// Late news changes nothing.
		b.ServerCount(3)
		b.RemoteAnswer(AckReply{Args: []byte(`["late"]`)})
	}
}

// lateCountAdapter holds its broadcasts with acks (Hold) and hands them
// to the test, which plays the other servers and the adapter's late count
// of them.
type lateCountAdapter struct {
	*MemoryAdapter
	remote chan heldBroadcast
}

type heldBroadcast struct {
	b       *AckBroadcast
	release func()
}

func (a *lateCountAdapter) BroadcastWithAck(opts BroadcastOptions, b *AckBroadcast) {
	release := b.Hold()
	b.Deliver(a.Select(opts))
	a.remote <- heldBroadcast{b, release}
}

// A fast server's count and answer may come before the adapter knows how
// many servers to expect (it asks Redis after delivering): the broadcast
// still waits for every server's answers.
func TestAckBroadcastCountBeforeExpect(t *testing.T) {
	remote := make(chan heldBroadcast, 1)
	n := newEnv(t, Options{NewAdapter: func(n *Namespace) Adapter {
		return &lateCountAdapter{MemoryAdapter: NewLocalAdapter(n), remote: remote}
	}}, map[string]NamespaceHandler{"/": newHandler()}).srv.Of("/")
	done := make(chan []AckReply, 1)
	if err := n.BroadcastWithAck(BroadcastOptions{}, "q", nil, nil, 5*time.Second, func(r []AckReply, err error) {
		done <- r
	}); err != nil {
		t.Fatal(err)
	}
	h := <-remote
	h.b.ServerCount(1) // the first server, before ExpectServers
	h.b.RemoteAnswer(AckReply{Args: []byte(`["first"]`)})
	h.b.ExpectServers(2, 5*time.Second)
	h.release()
	select {
	case r := <-done:
		t.Fatalf("completed with %d answers while a server had not answered", len(r))
	case <-time.After(50 * time.Millisecond):
	}
	h.b.ServerCount(1)
	h.b.RemoteAnswer(AckReply{Args: []byte(`["second"]`)})
	select {
	case r := <-done:
		if len(r) != 2 {
			t.Fatalf("%d answers, want 2", len(r))
		}
	case <-time.After(5 * time.Second):
		t.Fatal("broadcast never completed")
	}

	// The servers could not be counted (Redis away): a server that
	// counted a client early and never answers still ends it, at wait.
	errs := make(chan error, 1)
	if err := n.BroadcastWithAck(BroadcastOptions{}, "q", nil, nil, 5*time.Second, func(r []AckReply, err error) {
		errs <- err
	}); err != nil {
		t.Fatal(err)
	}
	h = <-remote
	h.b.ServerCount(1)
	h.b.ExpectServers(0, 100*time.Millisecond)
	h.release()
	select {
	case err := <-errs:
		if !errors.Is(err, ErrAckTimeout) {
			t.Fatalf("err %v, want a timeout", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("broadcast never completed")
	}
}

// Stats count the broadcasts started, the packets they queued to
// sessions, and the server→client acks pending and timed out, by exactly
// what was done.
func TestStatsBroadcastsAndAcks(t *testing.T) {
	h := newHandler()
	sockets := make(chan *Socket, 4)
	h.onConnect = func(s *Socket) { sockets <- s }
	e := newEnv(t, Options{}, map[string]NamespaceHandler{"/": h})
	n := e.srv.Of("/")
	ws, ids := connectN(t, e, 4)
	socks := map[string]*Socket{}
	for range ids {
		s := <-sockets
		socks[s.ID()] = s
	}
	want := func(what string, w Stats) {
		t.Helper()
		if got := e.srv.Stats(); got != w {
			t.Fatalf("%s: %+v, want %+v", what, got, w)
		}
	}
	want("at first", Stats{})
	for _, id := range ids[:3] {
		if err := socks[id].Join("r"); err != nil {
			t.Fatal(err)
		}
	}

	// One broadcast to a room of three.
	if err := n.Broadcast(BroadcastOptions{Rooms: []string{"r"}}, "news", []byte(`[1]`), nil); err != nil {
		t.Fatal(err)
	}
	for _, w := range ws[:3] {
		w.expect(`42["news",1]`)
	}
	want("after a broadcast to 3", Stats{Broadcasts: 1, Deliveries: 3})
	// Invalid args start no broadcast.
	if err := n.Broadcast(BroadcastOptions{}, "bad", []byte(`{}`), nil); !errors.Is(err, ErrInvalidArgs) {
		t.Fatal(err)
	}
	want("after a refused broadcast", Stats{Broadcasts: 1, Deliveries: 3})

	// An ack answered, one timed out, one pending until its socket left.
	s := socks[ids[3]]
	resp := make(chan AckResponse, 3)
	if err := s.EmitWithAck("q", nil, nil, time.Minute, func(r AckResponse) { resp <- r }); err != nil {
		t.Fatal(err)
	}
	ws[3].expect(`420["q"]`)
	want("with an ack pending", Stats{Broadcasts: 1, Deliveries: 3, AcksPending: 1})
	ws[3].send(`30[]`)
	if r := <-resp; r.Err != nil {
		t.Fatal(r.Err)
	}
	want("after its answer", Stats{Broadcasts: 1, Deliveries: 3})
	if err := s.EmitWithAck("q", nil, nil, 20*time.Millisecond, func(r AckResponse) { resp <- r }); err != nil {
		t.Fatal(err)
	}
	ws[3].expect(`421["q"]`)
	if r := <-resp; !errors.Is(r.Err, ErrAckTimeout) {
		t.Fatal(r)
	}
	want("after a timeout", Stats{Broadcasts: 1, Deliveries: 3, AcksTimedOut: 1})
	if err := s.EmitWithAck("q", nil, nil, 0, func(r AckResponse) { resp <- r }); err != nil {
		t.Fatal(err)
	}
	ws[3].expect(`422["q"]`)
	want("with an ack pending again", Stats{Broadcasts: 1, Deliveries: 3, AcksPending: 1, AcksTimedOut: 1})
	ws[3].send("1")
	if r := <-resp; !errors.Is(r.Err, ErrDisconnected) {
		t.Fatal(r)
	}
	want("after its socket left", Stats{Broadcasts: 1, Deliveries: 3, AcksTimedOut: 1})

	// Broadcasts with acks to the room: one ack per socket. Answered:
	res := make(chan ackResult, 1)
	cb := func(r []AckReply, err error) { res <- ackResult{r, err} }
	if err := n.BroadcastWithAck(BroadcastOptions{Rooms: []string{"r"}}, "all", nil, nil, time.Minute, cb); err != nil {
		t.Fatal(err)
	}
	want("with a broadcast's acks pending", Stats{Broadcasts: 2, Deliveries: 6, AcksPending: 3, AcksTimedOut: 1})
	for _, w := range ws[:3] {
		w.expect(`420["all"]`)
		w.send(`30[]`)
	}
	if r := <-res; r.err != nil || len(r.replies) != 3 {
		t.Fatalf("%+v", r)
	}
	want("after the broadcast's answers", Stats{Broadcasts: 2, Deliveries: 6, AcksTimedOut: 1})
	// Unanswered: three acks time out. The callback comes with the last
	// timeout; each was counted before its own callback ran.
	if err := n.BroadcastWithAck(BroadcastOptions{Rooms: []string{"r"}}, "all", nil, nil, 20*time.Millisecond, cb); err != nil {
		t.Fatal(err)
	}
	if r := <-res; !errors.Is(r.err, ErrAckTimeout) || len(r.replies) != 0 {
		t.Fatalf("%+v", r)
	}
	want("after the broadcast timed out", Stats{Broadcasts: 3, Deliveries: 9, AcksTimedOut: 4})
}
