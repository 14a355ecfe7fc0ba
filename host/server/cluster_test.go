package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"
	"github.com/rs/zerolog"

	"github.com/sockwasm/sockwasm/host/config"
	"github.com/sockwasm/sockwasm/host/internal/nodetest"
	"github.com/sockwasm/sockwasm/host/internal/redistest"
	"github.com/sockwasm/sockwasm/host/socketio"
)

// clusterNode is a sockwasm server serving the chat example in a cluster.
type clusterNode struct {
	srv  *Server
	addr string
	logs *logBuf
}

// startClusterNode starts a node of the cluster on redisURL, with the chat
// example on "/" and extra appended to its server.toml.
func startClusterNode(t *testing.T, redisURL, extra string) *clusterNode {
	t.Helper()
	return startClusterNodeWith(t, redisURL, chatWasm, extra)
}

// startClusterNodeWith is startClusterNode with the plugin in file wasm
// handling "/".
func startClusterNodeWith(t *testing.T, redisURL, wasm, extra string) *clusterNode {
	t.Helper()
	return startKindNode(t, config.AdapterRedis, redisURL, wasm, extra)
}

// clusterKinds are the adapter kinds the cluster tests run with: classic
// and sharded pub/sub.
var clusterKinds = []string{config.AdapterRedis, config.AdapterRedisSharded}

// nodeEnv is the environment of test/cluster/node.mjs for an adapter of
// kind on redisURL, plus extra.
func nodeEnv(kind, redisURL string, extra map[string]string) map[string]string {
	env := map[string]string{"REDIS_URL": redisURL}
	if kind == config.AdapterRedisSharded {
		env["ADAPTER"] = "sharded"
	}
	for k, v := range extra {
		env[k] = v
	}
	return env
}

// startKindNode is startClusterNodeWith with an adapter of kind.
func startKindNode(t *testing.T, kind, redisURL, wasm, extra string) *clusterNode {
	t.Helper()
	dir := t.TempDir()
	plugins := filepath.Join(dir, "plugins")
	if err := os.Mkdir(plugins, 0o755); err != nil {
		t.Fatal(err)
	}
	name := strings.TrimSuffix(filepath.Base(wasm), ".wasm")
	copyFile(t, wasm, filepath.Join(plugins, name+".wasm"))
	adapter := ""
	if redisURL != "" {
		adapter = "[adapter]\nkind = \"" + kind + "\"\nurl = \"" + redisURL + "\"\nrequest_timeout = \"2s\"\n"
	}
	toml := "plugins_dir = \"plugins\"\ncache_dir = \"" + cacheDir + "\"\nwatch = false\n" + adapter +
		"[[namespace]]\nname = \"/\"\nhandler = \"" + name + "\"\n" + extra
	file := filepath.Join(dir, "server.toml")
	if err := os.WriteFile(file, []byte(toml), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(file)
	if err != nil {
		t.Fatal(err)
	}
	return serveClusterNode(t, cfg)
}

// serveClusterNode starts a server with cfg on a random loopback port, its
// log kept; the test's cleanup shuts it down.
func serveClusterNode(t *testing.T, cfg *config.Config) *clusterNode {
	t.Helper()
	n := &clusterNode{logs: &logBuf{}}
	var err error
	n.srv, err = New(context.Background(), cfg, zerolog.New(n.logs))
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	n.addr = ln.Addr().String()
	served := make(chan struct{})
	go func() {
		defer close(served)
		_ = n.srv.Serve(ln)
	}()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := n.srv.Shutdown(ctx); err != nil {
			t.Errorf("shutdown: %v", err)
		}
		<-served
	})
	return n
}

// waitNodes waits until n nodes serve namespace "/" of the cluster (the
// subscribers of its request channel, as the adapter counts them).
func waitNodes(t *testing.T, r *redistest.Server, n int) {
	t.Helper()
	waitKindNodes(t, r, config.AdapterRedis, n)
}

// waitKindNodes is waitNodes for adapters of kind (sharded: SHARDNUMSUB
// of the namespace's channel).
func waitKindNodes(t *testing.T, r *redistest.Server, kind string, n int) {
	t.Helper()
	count := []string{"PUBSUB", "NUMSUB", "socket.io-request#/#"}
	if kind == config.AdapterRedisSharded {
		count = []string{"PUBSUB", "SHARDNUMSUB", "socket.io#/#"}
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		v, err := r.Do(context.Background(), count...)
		if list, ok := v.([]any); err == nil && ok && len(list) == 2 && fmt.Sprint(list[1]) == strconv.Itoa(n) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("PUBSUB NUMSUB = %v, %v; want %d nodes", v, err, n)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// sioClient is a raw Socket.IO client on "/" over either transport.
type sioClient interface {
	send(t *testing.T, m string)
	next(t *testing.T) string
}

// pollConn is a raw Socket.IO client over long-polling: a goroutine keeps
// a GET pending, answers pings and queues every other message.
type pollConn struct {
	url  string
	msgs chan string
	quit chan struct{}
	done chan struct{}
}

func dialPolling(t *testing.T, addr string) *pollConn {
	t.Helper()
	base := "http://" + addr
	u := handshake(t, base, "/socket.io/")
	p := &pollConn{url: u, msgs: make(chan string, 4096), quit: make(chan struct{}), done: make(chan struct{})}
	go p.loop()
	t.Cleanup(func() {
		close(p.quit)
		req, _ := http.NewRequest(http.MethodPost, p.url, strings.NewReader("1"))
		if resp, err := http.DefaultClient.Do(req); err == nil {
			resp.Body.Close()
		}
		<-p.done
	})
	p.send(t, "40")
	if m := p.next(t); !strings.HasPrefix(m, `40{"sid":`) {
		t.Fatalf("connect: %q", m)
	}
	return p
}

func (p *pollConn) loop() {
	defer close(p.done)
	for {
		select {
		case <-p.quit:
			return
		default:
		}
		resp, err := http.Get(p.url)
		if err != nil {
			return
		}
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil || resp.StatusCode != http.StatusOK {
			return
		}
		for _, m := range strings.Split(string(body), "\x1e") {
			switch {
			case m == "2":
				req, _ := http.NewRequest(http.MethodPost, p.url, strings.NewReader("3"))
				if r, err := http.DefaultClient.Do(req); err == nil {
					r.Body.Close()
				}
			case m == "6" || m == "":
			case m == "1":
				return
			default:
				p.msgs <- m
			}
		}
	}
}

func (p *pollConn) send(t *testing.T, m string) {
	t.Helper()
	if code, body := post(t, p.url, m); code != http.StatusOK || body != "ok" {
		t.Fatalf("POST %q: %d %q", m, code, body)
	}
}

func (p *pollConn) next(t *testing.T) string {
	t.Helper()
	select {
	case m := <-p.msgs:
		return m
	case <-time.After(5 * time.Second):
		t.Fatal("timeout waiting for a message")
	}
	return ""
}

// said is one "said" event as a client received it.
type said struct {
	Room, From, Text string
}

// collectSaid reads c's messages until it has want "said" events, or
// fails; other messages (acks) are skipped.
func collectSaid(t *testing.T, c sioClient, want int) []said {
	t.Helper()
	var out []said
	for len(out) < want {
		m := c.next(t)
		rest, ok := strings.CutPrefix(m, `42["said",`)
		if !ok {
			continue
		}
		var s said
		if err := json.Unmarshal([]byte(strings.TrimSuffix(rest, "]")), &s); err != nil {
			t.Fatalf("said %q: %v", m, err)
		}
		out = append(out, s)
	}
	return out
}

// Three nodes, a WebSocket and a polling client on each, all in room "r",
// plus one client per node that is not: every message said into the room
// reaches every other member exactly once, in the order its sender sent
// it, never its sender, never a non-member.
func TestClusterRoomBroadcast(t *testing.T) {
	for _, kind := range clusterKinds {
		t.Run(kind, func(t *testing.T) { testClusterRoomBroadcast(t, kind) })
	}
}

func testClusterRoomBroadcast(t *testing.T, kind string) {
	r := redistest.Start(t)
	var nodes []*clusterNode
	for range 3 {
		nodes = append(nodes, startKindNode(t, kind, r.URL(), chatWasm, ""))
	}
	waitKindNodes(t, r, kind, 3)
	type member struct {
		c    sioClient
		id   string
		name string
	}
	var members []member
	var outsiders []sioClient
	for i, n := range nodes {
		for j, c := range []sioClient{dialNsp(t, n.addr, "/"), dialPolling(t, n.addr)} {
			c.send(t, `420["whoami"]`)
			var who []struct{ ID string }
			m := c.next(t)
			if !strings.HasPrefix(m, "430") || json.Unmarshal([]byte(m[3:]), &who) != nil || len(who) != 1 {
				t.Fatalf("whoami: %q", m)
			}
			c.send(t, `421["join",{"room":"r"}]`)
			if m := c.next(t); !strings.HasPrefix(m, `431[{"ok":true`) {
				t.Fatalf("join: %q", m)
			}
			members = append(members, member{c, who[0].ID, fmt.Sprintf("n%d-%d", i, j)})
		}
		outsiders = append(outsiders, dialNsp(t, n.addr, "/"))
	}
	const each = 20
	var wg sync.WaitGroup
	for _, m := range members {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				m.c.send(t, `42["say",{"room":"r","text":"`+m.name+`:`+strconv.Itoa(i)+`"}]`)
			}
		}()
	}
	wg.Wait()
	for _, m := range members {
		got := collectSaid(t, m.c, each*(len(members)-1))
		next := map[string]int{}
		for _, s := range got {
			sender, seq, _ := strings.Cut(s.Text, ":")
			if sender == m.name || s.From == m.id {
				t.Fatalf("%s received its own message %q", m.name, s.Text)
			}
			if n, _ := strconv.Atoi(seq); n != next[sender] {
				t.Fatalf("%s: from %s got #%s, want #%d (order or duplicate)", m.name, sender, seq, next[sender])
			}
			next[sender]++
		}
		if len(next) != len(members)-1 {
			t.Fatalf("%s heard %d senders, want %d", m.name, len(next), len(members)-1)
		}
	}
	// Nothing more comes: no duplicates, and nothing for non-members.
	for _, o := range outsiders {
		o.(*sioConn).send(t, `429["whoami"]`)
		if m := o.next(t); !strings.HasPrefix(m, "439") {
			t.Fatalf("a client outside the room got %q", m)
		}
	}
	for _, m := range members {
		m.c.send(t, `429["whoami"]`)
		if got := m.c.next(t); !strings.HasPrefix(got, "439") {
			t.Fatalf("%s got more: %q", m.name, got)
		}
	}
}

// joinChat joins c to room with the chat example's "join", ack id id.
func joinChat(t *testing.T, c sioClient, id int, room string) {
	t.Helper()
	n := strconv.Itoa(id)
	c.send(t, `42`+n+`["join",{"room":"`+room+`"}]`)
	if m := c.next(t); !strings.HasPrefix(m, `43`+n+`[{"ok":true`) {
		t.Fatalf("join %s: %q", room, m)
	}
}

// expectMsg reads c's messages until one equal to want, failing on a
// timeout; acks and events in between are skipped.
func expectMsg(t *testing.T, c sioClient, want string) {
	t.Helper()
	for {
		if m := c.next(t); m == want {
			return
		}
	}
}

// A mixed cluster: two sockwasm nodes and a Node.js socket.io 4.8 node
// with @socket.io/redis-adapter 8.3.0 on one Redis. Broadcasts, fetch,
// remote join/leave/disconnect and broadcasts with acks cross in both
// directions.
func TestMixedCluster(t *testing.T) {
	for _, kind := range clusterKinds {
		t.Run(kind, func(t *testing.T) { testMixedCluster(t, kind) })
	}
}

func testMixedCluster(t *testing.T, kind string) {
	r := redistest.Start(t)
	a := startKindNode(t, kind, r.URL(), chatWasm, "")
	b := startKindNode(t, kind, r.URL(), chatWasm, "")
	node := nodetest.Start(t, "node.mjs", nodeEnv(kind, r.URL(), nil))
	waitKindNodes(t, r, kind, 3)
	nodeAddr := "127.0.0.1:" + strconv.Itoa(node.Port())

	ca, cb := dialNsp(t, a.addr, "/"), dialPolling(t, b.addr)
	cn := dialNsp(t, nodeAddr, "/")
	joinChat(t, ca, 1, "r")
	joinChat(t, cb, 1, "r")
	cn.send(t, `421["join","r"]`)
	expectMsg(t, cn, `431["ok"]`)

	// Node → sockwasm: socket.to("r").emit on the Node node.
	cn.send(t, `42["shout","r","from node",{"n":1.5}]`)
	expectMsg(t, ca, `42["shout","from node",{"n":1.5}]`)
	expectMsg(t, cb, `42["shout","from node",{"n":1.5}]`)

	// sockwasm → Node and the other sockwasm node: the chat's "say".
	ca.send(t, `422["say",{"room":"r","text":"from sockwasm"}]`)
	for _, c := range []sioClient{cb, cn} {
		m := ""
		for !strings.HasPrefix(m, `42["said",`) {
			m = c.next(t)
		}
		if !strings.Contains(m, `"text":"from sockwasm"`) {
			t.Fatalf("said: %q", m)
		}
	}

	// Binary from Node reaches sockwasm clients as a binary event.
	node.Call(t, "broadcast", map[string]any{"rooms": []string{"r"}, "event": "bin", "args": []any{"base64:AQID"}})
	expectMsg(t, ca, `451-["bin",{"_placeholder":true,"num":0}]`)

	// fetchSockets from Node sees the sockwasm sockets, their rooms and
	// their handshake; from sockwasm, the Node socket.
	var fetched []struct {
		ID        string
		Rooms     []string
		Handshake struct {
			Query map[string]any
			Time  string
		}
	}
	if err := json.Unmarshal(node.Call(t, "fetchSockets", map[string]any{"rooms": []string{"r"}}), &fetched); err != nil || len(fetched) != 3 {
		t.Fatalf("Node's fetchSockets: %d sockets, %v", len(fetched), err)
	}
	for _, f := range fetched {
		if f.Handshake.Query["EIO"] != "4" || f.Handshake.Time == "" || len(f.Rooms) != 2 {
			t.Fatalf("fetched %+v", f)
		}
	}
	infos, err := a.srv.SocketIO().Of("/").FetchSockets(context.Background(), socketio.BroadcastOptions{Rooms: []string{"r"}})
	if err != nil || len(infos) != 3 {
		t.Fatalf("sockwasm's FetchSockets: %d sockets, %v", len(infos), err)
	}

	// Remote join from Node, then a broadcast to the new room reaches
	// the sockwasm clients; remote leave, and it does not.
	node.Call(t, "socketsJoin", map[string]any{"rooms": []string{"r"}, "join": []string{"x"}})
	waitFor(t, "the remote join", func() bool {
		return a.srv.SocketIO().Of("/").RoomSize("x") == 1 && b.srv.SocketIO().Of("/").RoomSize("x") == 1
	})
	node.Call(t, "socketsLeave", map[string]any{"rooms": []string{"x"}, "leave": []string{"x"}})
	waitFor(t, "the remote leave", func() bool {
		return a.srv.SocketIO().Of("/").RoomSize("x") == 0 && b.srv.SocketIO().Of("/").RoomSize("x") == 0
	})

	// Remote join from sockwasm: the Node socket joins "y".
	if err := a.srv.SocketIO().Of("/").SocketsJoin(socketio.BroadcastOptions{Rooms: []string{"r"}}, "y"); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the join on the Node node", func() bool {
		var all []string
		_ = json.Unmarshal(node.Call(t, "allRooms", nil), &all)
		return slices.Contains(all, "y")
	})

	// Broadcast with acks from Node: the sockwasm clients answer.
	pending := node.Async("broadcastWithAck", map[string]any{"rooms": []string{"r"}, "event": "q", "args": []any{1}, "timeout": 3000})
	for _, c := range []sioClient{ca, cb, cn} {
		m := ""
		for !strings.Contains(m, `["q",1]`) {
			m = c.next(t)
		}
		id := strings.TrimSuffix(strings.TrimPrefix(m, "42"), `["q",1]`)
		c.send(t, `43`+id+`["pong"]`)
	}
	got, err := pending.Wait(t)
	if err != nil || strings.Count(string(got), `"pong"`) != 3 {
		t.Fatalf("Node's broadcastWithAck: %s, %v", got, err)
	}

	// Broadcast with acks from sockwasm: the Node client answers too.
	done := make(chan []socketio.AckReply, 1)
	err = a.srv.SocketIO().Of("/").BroadcastWithAck(socketio.BroadcastOptions{Rooms: []string{"r"}}, "q2", nil, nil, 3*time.Second, func(rs []socketio.AckReply, err error) {
		if err != nil {
			t.Errorf("sockwasm's broadcastWithAck: %v", err)
		}
		done <- rs
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []sioClient{ca, cb, cn} {
		m := ""
		for !strings.Contains(m, `["q2"]`) {
			m = c.next(t)
		}
		id := strings.TrimSuffix(strings.TrimPrefix(m, "42"), `["q2"]`)
		c.send(t, `43`+id+`["ok"]`)
	}
	if rs := <-done; len(rs) != 3 {
		t.Fatalf("sockwasm's broadcastWithAck: %d answers", len(rs))
	}

	// Remote disconnect from Node: every socket of the room leaves.
	node.Call(t, "disconnectSockets", map[string]any{"rooms": []string{"r"}, "close": false})
	expectMsg(t, ca, "41")
	expectMsg(t, cb, "41")
}

// waitFor polls cond until it holds, failing the test after 5 s.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); !cond(); time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}

// @socket.io/redis-emitter 5.1.0 emits into sockwasm rooms (with except),
// and makes sockwasm sockets join, leave and disconnect.
func TestEmitterToCluster(t *testing.T) {
	r := redistest.Start(t)
	a := startClusterNode(t, r.URL(), "")
	b := startClusterNode(t, r.URL(), "")
	em := nodetest.Start(t, "emitter.mjs", map[string]string{"REDIS_URL": r.URL()})
	waitNodes(t, r, 2)
	ca, cb, cc := dialNsp(t, a.addr, "/"), dialNsp(t, b.addr, "/"), dialPolling(t, b.addr)
	joinChat(t, ca, 1, "news")
	joinChat(t, cb, 1, "news")
	joinChat(t, cc, 1, "news")
	joinChat(t, cc, 2, "muted")

	em.Call(t, "emit", map[string]any{"rooms": []string{"news"}, "except": []string{"muted"}, "event": "headline", "args": []any{"go", map[string]any{"n": 2}}})
	expectMsg(t, ca, `42["headline","go",{"n":2}]`)
	expectMsg(t, cb, `42["headline","go",{"n":2}]`)
	// cc is in "muted": the next thing it sees is this ack, not the headline.
	cc.send(t, `429["whoami"]`)
	if m := cc.next(t); !strings.HasPrefix(m, "439") {
		t.Fatalf("a client in an except room got %q", m)
	}

	em.Call(t, "socketsJoin", map[string]any{"rooms": []string{"muted"}, "join": []string{"vip"}})
	waitFor(t, "the emitter's join", func() bool { return b.srv.SocketIO().Of("/").RoomSize("vip") == 1 })
	em.Call(t, "emit", map[string]any{"rooms": []string{"vip"}, "event": "only-vip", "args": []any{}})
	expectMsg(t, cc, `42["only-vip"]`)
	em.Call(t, "socketsLeave", map[string]any{"rooms": []string{"vip"}, "leave": []string{"vip"}})
	waitFor(t, "the emitter's leave", func() bool { return b.srv.SocketIO().Of("/").RoomSize("vip") == 0 })

	em.Call(t, "disconnectSockets", map[string]any{"rooms": []string{"news"}, "except": []string{"muted"}, "close": true})
	for _, c := range []*sioConn{ca, cb} {
		select {
		case <-c.closed:
		case <-time.After(5 * time.Second):
			t.Fatal("the emitter's disconnectSockets(close) left a connection open")
		}
	}
	// The chat tells the room who left; then cc answers, still connected.
	cc.send(t, `4210["whoami"]`)
	for m := cc.next(t); !strings.HasPrefix(m, "4310"); m = cc.next(t) {
		if !strings.HasPrefix(m, `42["left",`) {
			t.Fatalf("the excepted client after the disconnect: %q", m)
		}
	}
}

// Redis killed and restarted under load (20 clients per node): local
// delivery never stops and loses nothing, no plugin call waits for Redis,
// the outage and its end are logged once each, and cross-node traffic
// resumes once Redis is back.
func TestClusterSurvivesRedisRestart(t *testing.T) {
	r := redistest.Start(t)
	nodes := []*clusterNode{startClusterNode(t, r.URL(), ""), startClusterNode(t, r.URL(), "")}
	waitNodes(t, r, 2)
	const perNode = 20
	clients := make([][]*sioConn, len(nodes))
	for i, n := range nodes {
		for range perNode {
			c := dialNsp(t, n.addr, "/")
			joinChat(t, c, 1, "r")
			clients[i] = append(clients[i], c)
		}
	}
	goroutines := runtime.NumGoroutine()
	// Node 0's first client says a message every 5 ms, acked by the
	// plugin; Redis goes away after 100 and comes back after 300.
	const total = 500
	sender := clients[0][0]
	var slowest time.Duration
	for i := range total {
		switch i {
		case 100:
			r.Kill()
		case 300:
			r.Restart(t)
		}
		start := time.Now()
		sender.send(t, `42`+strconv.Itoa(1000+i)+`["say",{"room":"r","text":"`+strconv.Itoa(i)+`"}]`)
		ack := `43` + strconv.Itoa(1000+i) + `[{"ok":true}]`
		for m := sender.next(t); m != ack; m = sender.next(t) {
		}
		slowest = max(slowest, time.Since(start))
		time.Sleep(5 * time.Millisecond)
	}
	if slowest > 2*time.Second {
		t.Fatalf("a plugin call waited %v (request_timeout 2s)", slowest)
	}
	// Every local member got every message, in order.
	for _, c := range clients[0][1:] {
		got := collectSaid(t, c, total)
		for i, s := range got {
			if s.Text != strconv.Itoa(i) {
				t.Fatalf("local member: message %d is %q", i, s.Text)
			}
		}
	}
	nodes[0].logs.waitFor(t, 5*time.Second, "redis unreachable")
	nodes[0].logs.waitFor(t, 10*time.Second, "redis reachable again")
	if n := nodes[0].logs.countLines("redis unreachable"); n != 1 {
		t.Fatalf("the outage was logged %d times", n)
	}
	// Cross-node traffic resumes: a message from node 1 reaches node 0.
	waitNodes(t, r, 2)
	other := clients[1][0]
	deadline := time.Now().Add(10 * time.Second)
	for i := 0; ; i++ {
		text := "after-" + strconv.Itoa(i)
		other.send(t, `42["say",{"room":"r","text":"`+text+`"}]`)
		if waitSaid(clients[0][0], text, 300*time.Millisecond) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("cross-node traffic did not resume after Redis came back")
		}
	}
	if n := runtime.NumGoroutine(); n > goroutines+20 {
		t.Fatalf("%d goroutines, %d before the outage", n, goroutines)
	}
}

// waitSaid reports whether c receives a "said" with text within d.
func waitSaid(c *sioConn, text string, d time.Duration) bool {
	deadline := time.After(d)
	for {
		select {
		case m := <-c.msgs:
			if strings.HasPrefix(m, `42["said",`) && strings.Contains(m, `"text":"`+text+`"`) {
				return true
			}
		case <-deadline:
			return false
		}
	}
}

// Counts and fetches that need the other nodes count on every node, and
// a node that never answers makes them fail within half the call's
// deadline (ERR_TIMEOUT: the chat shows null), not hold the plugin.
func TestClusterQueriesBounded(t *testing.T) {
	r := redistest.Start(t)
	a := startClusterNode(t, r.URL(), "")
	b := startClusterNode(t, r.URL(), "")
	waitNodes(t, r, 2)
	ca := dialNsp(t, a.addr, "/")
	cb1, cb2 := dialNsp(t, b.addr, "/"), dialNsp(t, b.addr, "/")
	joinChat(t, cb1, 1, "r")
	joinChat(t, cb2, 1, "r")
	ca.send(t, `422["join",{"room":"r"}]`)
	expectMsg(t, ca, `432[{"ok":true,"room":"r","size":3}]`)
	ca.send(t, `423["stats"]`)
	expectMsg(t, ca, `433[{"clients":3}]`)

	// A third "node" subscribes to the request channel and never answers.
	silent := goredis.NewClient(&goredis.Options{Addr: r.Addr()})
	defer silent.Close()
	ps := silent.Subscribe(context.Background(), "socket.io-request#/#")
	defer ps.Close()
	if _, err := ps.Receive(context.Background()); err != nil {
		t.Fatal(err)
	}
	waitNodes(t, r, 3)
	start := time.Now()
	ca.send(t, `424["stats"]`)
	expectMsg(t, ca, `434[{"clients":null}]`)
	if d := time.Since(start); d > 2*time.Second {
		t.Fatalf("the count waited %v for a silent node (bound: half of the 1 s call deadline)", d)
	}
	a.logs.waitFor(t, time.Second, "host call refused", "client_count", "ERR_TIMEOUT")
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	if _, err := a.srv.SocketIO().Of("/").FetchSockets(ctx, socketio.BroadcastOptions{}); !errors.Is(err, socketio.ErrClusterTimeout) {
		t.Fatalf("FetchSockets with a silent node: %v", err)
	}
}

// Server-side events cross a mixed cluster both ways: Node.js's
// serverSideEmit with acks reaches the plugins of both sockwasm nodes,
// which answer; a plugin's server_emit with acks reaches the Node.js node
// and the other sockwasm node, and their answers come back in one
// SERVER_ACK call.
func TestServerSideEvents(t *testing.T) {
	for _, kind := range clusterKinds {
		t.Run(kind, func(t *testing.T) { testServerSideEvents(t, kind) })
	}
}

func testServerSideEvents(t *testing.T, kind string) {
	r := redistest.Start(t)
	a := startKindNode(t, kind, r.URL(), sseWasm, "")
	b := startKindNode(t, kind, r.URL(), sseWasm, "")
	node := nodetest.Start(t, "node.mjs", nodeEnv(kind, r.URL(), map[string]string{"SERVER_EVENTS": "hello"}))
	waitKindNodes(t, r, kind, 3)
	wa, wb := dialNsp(t, a.addr, "/"), dialNsp(t, b.addr, "/")
	for _, w := range []*sioConn{wa, wb} {
		if got := w.call(t, 1, "watch"); got != `["ok"]` {
			t.Fatalf("watch: %s", got)
		}
	}

	// Node.js → sockwasm, with acks.
	got := node.Call(t, "serverSideEmit", map[string]any{"event": "hello", "args": []any{1, "x"}, "ack": true, "timeout": 2000})
	if string(got) != `["sockwasm-ack","sockwasm-ack"]` {
		t.Fatalf("Node's serverSideEmit answers: %s", got)
	}
	expectMsg(t, wa, `42["server-event","hello",[1,"x"]]`)
	expectMsg(t, wb, `42["server-event","hello",[1,"x"]]`)

	// sockwasm → Node.js and the other sockwasm node, with acks.
	if got := wa.call(t, 2, "ask", "hello", []any{2}, 2000, "q"); got != "[0]" {
		t.Fatalf("ask: %s", got)
	}
	node.WaitEvent(t, nodetest.Field("serverSideEvent", "hello"), 5*time.Second)
	expectMsg(t, wb, `42["server-event","hello",[2]]`)
	m := ""
	for !strings.HasPrefix(m, `42["answers",`) {
		m = wa.next(t)
	}
	if !strings.Contains(m, `"node-ack"`) || !strings.Contains(m, `"sockwasm-ack"`) || !strings.HasSuffix(m, `,false,"q"]`) {
		t.Fatalf("answers: %q", m)
	}
}

// With one node (the memory adapter) a server-side emit with acks is
// answered at once, with no answers; asking again from each answer is a
// chain that max_call_chain cuts.
func TestServerSideEmitAloneIsChained(t *testing.T) {
	n := startClusterNodeWith(t, "", sseWasm, "")
	w := dialNsp(t, n.addr, "/")
	if got := w.call(t, 1, "watch"); got != `["ok"]` {
		t.Fatalf("watch: %s", got)
	}
	if got := w.call(t, 2, "ask", "again", []any{}, 1000, "loop:0"); got != "[0]" {
		t.Fatalf("ask: %s", got)
	}
	rounds := 0
	for {
		m := w.next(t)
		if strings.HasPrefix(m, `42["answers",[],false,"loop:`) {
			rounds++
			continue
		}
		if m == `42["loop-refused",-6]` {
			break
		}
		t.Fatalf("unexpected %q", m)
	}
	if rounds != 16 {
		t.Fatalf("%d rounds before the chain was cut, want 16 (max_call_chain)", rounds)
	}
	n.logs.waitFor(t, time.Second, "host call refused", "server_emit", "max_call_chain")
}

// A node that stops closes its sessions and leaves the cluster: the
// others stop counting it at once, and its sockets.
func TestClusterNodeLeavesCleanly(t *testing.T) {
	r := redistest.Start(t)
	a := startClusterNode(t, r.URL(), "")
	b := startClusterNode(t, r.URL(), "")
	waitNodes(t, r, 2)
	ca, cb := dialNsp(t, a.addr, "/"), dialNsp(t, b.addr, "/")
	ca.send(t, `421["stats"]`)
	expectMsg(t, ca, `431[{"clients":2}]`)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := b.srv.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	select {
	case <-cb.closed:
	case <-time.After(5 * time.Second):
		t.Fatal("the stopped node's client is still connected")
	}
	waitNodes(t, r, 1)
	ca.send(t, `422["stats"]`)
	expectMsg(t, ca, `432[{"clients":1}]`)
}

// In the sharded adapter's dynamic mode a node subscribes to a room's own
// channel while the room has members here, and only then: a public room
// gets one when its first socket joins and loses it when its last one
// leaves; a socket's own room never has one. After Redis restarts, the
// node subscribes to it again.
func TestShardedRoomChannels(t *testing.T) {
	r := redistest.Start(t)
	a := startKindNode(t, config.AdapterRedisSharded, r.URL(), chatWasm, "")
	waitKindNodes(t, r, config.AdapterRedisSharded, 1)
	subscribers := func(ch string) string {
		v, err := r.Do(context.Background(), "PUBSUB", "SHARDNUMSUB", ch)
		if list, ok := v.([]any); err == nil && ok && len(list) == 2 {
			return fmt.Sprint(list[1])
		}
		return fmt.Sprint(v, err)
	}
	waitSubs := func(ch, want string) {
		t.Helper()
		waitFor(t, ch+" subscribed by "+want, func() bool { return subscribers(ch) == want })
	}
	c1, c2 := dialNsp(t, a.addr, "/"), dialNsp(t, a.addr, "/")
	joinChat(t, c1, 1, "lobby")
	waitSubs("socket.io#/#lobby#", "1")
	joinChat(t, c2, 1, "lobby")
	infos, err := a.srv.SocketIO().Of("/").FetchSockets(context.Background(), socketio.BroadcastOptions{})
	if err != nil || len(infos) != 2 {
		t.Fatalf("FetchSockets: %d, %v", len(infos), err)
	}
	for _, si := range infos {
		if got := subscribers("socket.io#/#" + si.ID + "#"); got != "0" {
			t.Fatalf("a socket's own room %s has %s subscribers", si.ID, got)
		}
	}
	_ = c1.c.CloseNow()
	// Still one member: the channel stays.
	waitFor(t, "c1 gone", func() bool { return a.srv.SocketIO().Of("/").RoomSize("lobby") == 1 })
	if got := subscribers("socket.io#/#lobby#"); got != "1" {
		t.Fatalf("lobby with one member left: %s subscribers", got)
	}
	r.Restart(t)
	waitSubs("socket.io#/#lobby#", "1")
	waitSubs("socket.io#/#", "1")
	_ = c2.c.CloseNow()
	waitSubs("socket.io#/#lobby#", "0")
}

// Whoever can publish on Redis is a peer, but what it publishes is still
// input: garbage, a message nested too deep, and one over
// max_message_bytes (16 MiB) are dropped (logged) and the node keeps
// serving its clients and the cluster, in both modes. (The decoders'
// other bounds are fuzzed in protocol/redisadapter.)
func TestClusterRefusesHostileMessages(t *testing.T) {
	for _, kind := range clusterKinds {
		t.Run(kind, func(t *testing.T) {
			r := redistest.Start(t)
			a := startKindNode(t, kind, r.URL(), chatWasm, "")
			b := startKindNode(t, kind, r.URL(), chatWasm, "")
			waitKindNodes(t, r, kind, 2)
			publish, channels := "PUBLISH", []string{"socket.io#/#", "socket.io-request#/#", "socket.io-response#/#"}
			if kind == config.AdapterRedisSharded {
				publish, channels = "SPUBLISH", []string{"socket.io#/#"}
			}
			deep := strings.Repeat("[", 100_000) // JSON or msgpack: far over the nesting bound
			huge := strings.Repeat("x", 16<<20+1)
			for _, ch := range channels {
				for _, payload := range []string{"\xc1garbage", "{not json", deep, "\x9f" + deep, huge} {
					if _, err := r.Do(context.Background(), publish, ch, payload); err != nil {
						t.Fatal(err)
					}
				}
			}
			a.logs.waitFor(t, 5*time.Second, "message over max_message_bytes dropped")
			// Both nodes still serve, and still reach each other.
			ca, cb := dialNsp(t, a.addr, "/"), dialNsp(t, b.addr, "/")
			joinChat(t, ca, 1, "r")
			joinChat(t, cb, 1, "r")
			ca.send(t, `422["say",{"room":"r","text":"still here"}]`)
			m := ""
			for !strings.HasPrefix(m, `42["said",`) {
				m = cb.next(t)
			}
			if !strings.Contains(m, "still here") {
				t.Fatalf("said: %q", m)
			}
		})
	}
}

// A client naming a dynamic namespace with '#' cannot take over another
// namespace's channels (channel names are '#'-separated: "/chat-a#b"
// would be room "b" of "/chat-a"): that namespace stays on its node, and
// the room keeps receiving from the other nodes after it is gone.
func TestClusterHashInNamespaceName(t *testing.T) {
	for _, kind := range clusterKinds {
		t.Run(kind, func(t *testing.T) {
			r := redistest.Start(t)
			extra := "[[namespace]]\nname = \"/chat-*\"\nhandler = \"chat\"\n"
			a := startKindNode(t, kind, r.URL(), chatWasm, extra)
			b := startKindNode(t, kind, r.URL(), chatWasm, extra)
			waitKindNodes(t, r, kind, 2)
			cx, cy := dialNsp(t, a.addr, "/chat-a"), dialNsp(t, b.addr, "/chat-a")
			for _, c := range []*sioConn{cx, cy} {
				c.send(t, `42/chat-a,1["join",{"room":"b"}]`)
				c.expectPrefix(t, `43/chat-a,1[{"ok":true`)
			}
			cz := dialNsp(t, a.addr, "/chat-a#b")
			a.logs.waitFor(t, 5*time.Second, "served on this node only")
			_ = cz.c.CloseNow()
			waitFor(t, "/chat-a#b gone", func() bool { return a.srv.SocketIO().Of("/chat-a#b") == nil })
			for i := range 3 {
				n := strconv.Itoa(i + 2)
				cy.send(t, `42/chat-a,`+n+`["say",{"room":"b","text":"t`+n+`"}]`)
				m := ""
				for !strings.HasPrefix(m, `42/chat-a,["said",`) {
					m = cx.next(t)
				}
				if !strings.Contains(m, `"text":"t`+n+`"`) {
					t.Fatalf("said: %q", m)
				}
			}
		})
	}
}
