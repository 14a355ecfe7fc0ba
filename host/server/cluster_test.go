package server

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/sockwasm/sockwasm/host/config"
	"github.com/sockwasm/sockwasm/host/internal/redistest"
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
	dir := t.TempDir()
	plugins := filepath.Join(dir, "plugins")
	if err := os.Mkdir(plugins, 0o755); err != nil {
		t.Fatal(err)
	}
	copyFile(t, chatWasm, filepath.Join(plugins, "chat.wasm"))
	toml := "plugins_dir = \"plugins\"\ncache_dir = \"" + cacheDir + "\"\nwatch = false\n" +
		"[adapter]\nkind = \"redis\"\nurl = \"" + redisURL + "\"\nrequest_timeout = \"2s\"\n" +
		"[[namespace]]\nname = \"/\"\nhandler = \"chat\"\n" + extra
	file := filepath.Join(dir, "server.toml")
	if err := os.WriteFile(file, []byte(toml), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(file)
	if err != nil {
		t.Fatal(err)
	}
	n := &clusterNode{logs: &logBuf{}}
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
	deadline := time.Now().Add(10 * time.Second)
	for {
		v, err := r.Do(context.Background(), "PUBSUB", "NUMSUB", "socket.io-request#/#")
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
	r := redistest.Start(t)
	var nodes []*clusterNode
	for range 3 {
		nodes = append(nodes, startClusterNode(t, r.URL(), ""))
	}
	waitNodes(t, r, 3)
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
