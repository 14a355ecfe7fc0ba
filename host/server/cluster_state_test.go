package server

import (
	"context"
	"encoding/base64"
	"encoding/json"
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

// sharedWasm is testdata/shared: a plugin using the key-value store and
// the timers that a cluster shares.
var sharedWasm string

// stateNodeConfig writes the server.toml of a cluster node on redisURL
// serving the chat example on "/" and testdata/shared on "/s" (handler and
// event middleware), pluginCfg being the body of [plugin.shared.config],
// and loads it.
func stateNodeConfig(t *testing.T, redisURL, pluginCfg string) *config.Config {
	t.Helper()
	dir := t.TempDir()
	plugins := filepath.Join(dir, "plugins")
	if err := os.Mkdir(plugins, 0o755); err != nil {
		t.Fatal(err)
	}
	copyFile(t, chatWasm, filepath.Join(plugins, "chat.wasm"))
	copyFile(t, sharedWasm, filepath.Join(plugins, "shared.wasm"))
	copyFile(t, ratelimitWasm, filepath.Join(plugins, "ratelimit.wasm"))
	copyFile(t, ratelimitWasm, filepath.Join(plugins, "ratelimit-addr.wasm"))
	file := filepath.Join(dir, "server.toml")
	writeStateConfig(t, file, redisURL, pluginCfg)
	cfg, err := config.Load(file)
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

// writeStateConfig writes the server.toml of stateNodeConfig to file.
func writeStateConfig(t *testing.T, file, redisURL, pluginCfg string) {
	t.Helper()
	toml := "plugins_dir = \"plugins\"\ncache_dir = \"" + cacheDir + "\"\nwatch = false\n" +
		"[adapter]\nkind = \"redis\"\nurl = \"" + redisURL + "\"\nrequest_timeout = \"2s\"\n" +
		"[plugin.shared]\ngrants = [\"kv\", \"timers\"]\n[plugin.shared.config]\n" + pluginCfg + "\n" +
		// examples/ratelimit, one bucket per user on "/", per address on
		// "/a": 3 and 2 events, then one per 100 s.
		"[plugin.ratelimit]\ngrants = [\"kv\"]\n[plugin.ratelimit.config]\nrate = 0.01\nburst = 3\nper = \"user\"\n" +
		"[plugin.ratelimit-addr]\ngrants = [\"kv\"]\n[plugin.ratelimit-addr.config]\nrate = 0.01\nburst = 2\nper = \"address\"\n" +
		"[[namespace]]\nname = \"/\"\nevent_middleware = [\"ratelimit\"]\nhandler = \"chat\"\n" +
		"[[namespace]]\nname = \"/a\"\nevent_middleware = [\"ratelimit-addr\"]\nhandler = \"chat\"\n" +
		"[[namespace]]\nname = \"/s\"\nhandler = \"shared\"\n"
	if err := os.WriteFile(file, []byte(toml), 0o644); err != nil {
		t.Fatal(err)
	}
}

// startStateNode starts a node with the configuration of stateNodeConfig.
func startStateNode(t *testing.T, redisURL, pluginCfg string) *clusterNode {
	t.Helper()
	return serveClusterNode(t, stateNodeConfig(t, redisURL, pluginCfg))
}

// stateClient is a raw client of one namespace that keeps the contexts
// of the "fired" events it receives.
type stateClient struct {
	*sioConn
	nsp   string // "/s," or ""
	ack   int
	fired map[string]int
}

// dialState connects to "/s" of addr with the CONNECT auth payload.
func dialState(t *testing.T, addr, auth string) *stateClient {
	t.Helper()
	return dialAuth(t, addr, "/s", auth)
}

// dialAuth connects to namespace nsp of addr with the CONNECT auth
// payload.
func dialAuth(t *testing.T, addr, nsp, auth string) *stateClient {
	t.Helper()
	s, m := dialRaw(t, addr, nsp, auth)
	if !strings.HasPrefix(m, `40`+s.prefix+`{"sid":`) {
		t.Fatalf("connect to %s: %q", nsp, m)
	}
	return &stateClient{sioConn: s, nsp: s.prefix, fired: map[string]int{}}
}

// call emits event with args asking for an ack and returns the ack's
// arguments; "fired" events arriving meanwhile are noted.
func (c *stateClient) call(t *testing.T, event string, args ...any) string {
	t.Helper()
	c.ack++
	payload, err := json.Marshal(append([]any{event}, args...))
	if err != nil {
		t.Fatal(err)
	}
	id := strconv.Itoa(c.ack)
	c.send(t, "42"+c.nsp+id+string(payload))
	for {
		m := c.next(t)
		if rest, ok := strings.CutPrefix(m, "43"+c.nsp+id); ok {
			return rest
		}
		c.note(t, m)
	}
}

// note records a "fired" event; other messages are ignored.
func (c *stateClient) note(t *testing.T, m string) {
	t.Helper()
	rest, ok := strings.CutPrefix(m, `42`+c.nsp+`["fired",`)
	if !ok {
		return
	}
	var args []json.RawMessage
	if err := json.Unmarshal([]byte("["+rest), &args); err != nil || len(args) != 2 {
		t.Fatalf("fired: %q", m)
	}
	var ctx string
	json.Unmarshal(args[0], &ctx)
	c.fired[ctx]++
}

// waitFired reads until a "fired" event with context ctx has come.
func (c *stateClient) waitFired(t *testing.T, ctx string) {
	t.Helper()
	for c.fired[ctx] == 0 {
		c.note(t, c.next(t))
	}
}

// ackID reads the number an ack carries, [n].
func ackID(t *testing.T, ack string) int {
	t.Helper()
	n, err := strconv.Atoi(strings.Trim(ack, "[]"))
	if err != nil {
		t.Fatalf("ack %q", ack)
	}
	return n
}

// Two nodes on one Redis share the plugin's key-value store and timers:
// what one writes the other reads, increments from both add up, a timer
// set on one fires once for the cluster (its broadcast reaches the
// clients of both nodes once), one node cancels the other's timer,
// examples/ratelimit limits a user (and an address) across nodes, and a
// timer whose node shuts down fires on the other.
func TestClusterSharedState(t *testing.T) {
	r := redistest.Start(t)
	a := startStateNode(t, r.URL(), "")
	b := startStateNode(t, r.URL(), "")
	waitNodes(t, r, 2)
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("logs a:\n%s\nlogs b:\n%s", a.logs.String(), b.logs.String())
		}
	})
	ca, cb := dialState(t, a.addr, `{"user":"ann"}`), dialState(t, b.addr, `{"user":"ann"}`)

	if got := ca.call(t, "kv:set", "k", "from a", 0); got != "[0]" {
		t.Fatalf("kv:set on a: %s", got)
	}
	if got := cb.call(t, "kv:get", "k"); got != `["from a"]` {
		t.Fatalf("kv:get on b: %s", got)
	}
	var wg sync.WaitGroup
	for _, n := range []*clusterNode{a, b} {
		for range 2 {
			c := dialState(t, n.addr, `{"user":"inc"}`)
			wg.Add(1)
			go func() {
				defer wg.Done()
				for range 25 {
					c.call(t, "kv:incr", "n", 1)
				}
			}()
		}
	}
	wg.Wait()
	if got := ca.call(t, "kv:get", "n"); got != `["100"]` {
		t.Fatalf("n = %s after 4×25 increments on two nodes", got)
	}

	// A one-shot timer set on a: one TIMER call in the cluster, so one
	// "fired" for each client, whichever node made it.
	if id := ackID(t, ca.call(t, "timer", 30, false, "once")); id <= 0 {
		t.Fatalf("timer id %d", id)
	}
	// Cancel from the other node.
	canceled := ackID(t, ca.call(t, "timer", 100, false, "canceled"))
	if got := cb.call(t, "cancel", canceled); got != "[0]" {
		t.Fatalf("cancel on b: %s", got)
	}
	if got := ca.call(t, "cancel", canceled); got != "[-3]" {
		t.Fatalf("cancel again on a: %s", got)
	}
	cb.call(t, "timer", 200, false, "sentinel")
	for _, c := range []*stateClient{ca, cb} {
		// Either node may claim either timer, so each "fired" reaches a
		// client directly or through Redis: on a loaded machine "once"
		// may come after the sentinel, but it must come, once.
		c.waitFired(t, "sentinel")
		c.waitFired(t, "once")
		if c.fired["once"] != 1 || c.fired["canceled"] != 0 {
			t.Fatalf("fired: %v", c.fired)
		}
	}
	if got := cb.call(t, "kv:get", "fired:once"); got != `["1"]` {
		t.Fatalf("fired:once = %s", got)
	}

	// examples/ratelimit with per = "user" counts ann's events on both
	// nodes in one bucket: 3 pass, then every node refuses; bob has his
	// own bucket. With per = "address", every socket from 127.0.0.1
	// shares one.
	annA, annB := dialAuth(t, a.addr, "/", jwtAuth("ann")), dialAuth(t, b.addr, "/", jwtAuth("ann"))
	for i, c := range []*stateClient{annA, annB, annA} {
		if got := c.call(t, "echo", i); got != "["+strconv.Itoa(i)+"]" {
			t.Fatalf("event %d of ann: %s", i, got)
		}
	}
	for i, c := range []*stateClient{annB, annA} {
		if got := c.call(t, "echo", i); !strings.HasPrefix(got, `[{"error":"rate limited","data":{"retryAfterMs":`) {
			t.Fatalf("event %d of ann, over the limit: %s", 4+i, got)
		}
	}
	if got := dialAuth(t, b.addr, "/", jwtAuth("bob")).call(t, "echo", "bob"); got != `["bob"]` {
		t.Fatalf("bob: %s", got)
	}
	addrA, addrB := dialAuth(t, a.addr, "/a", ""), dialAuth(t, b.addr, "/a", "")
	for i, c := range []*stateClient{addrB, addrA, addrB} {
		got := c.call(t, "echo", i)
		if limited := strings.HasPrefix(got, `[{"error":"rate limited"`); limited != (i == 2) {
			t.Fatalf("event %d from 127.0.0.1 (burst 2): %s", i, got)
		}
	}

	// A timer set on a node that shuts down fires on the other.
	ca.call(t, "timer", 150, false, "orphan")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := a.srv.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	cb.waitFired(t, "orphan")
	if got := cb.call(t, "kv:get", "fired:orphan"); got != `["1"]` {
		t.Fatalf("fired:orphan = %s", got)
	}
}

// jwtAuth is a CONNECT auth payload with a JWT whose subject is sub (its
// signature is not checked by examples/ratelimit).
func jwtAuth(sub string) string {
	claims := base64.RawURLEncoding.EncodeToString([]byte(`{"sub":"` + sub + `"}`))
	return `{"token":"eyJhbGciOiJIUzI1NiJ9.` + claims + `.c2ln"}`
}

// sharedKeys returns how many of plugin shared's key-value and timer
// hashes exist in Redis.
func sharedKeys(t *testing.T, r *redistest.Server) int64 {
	t.Helper()
	v, err := r.Do(context.Background(), "EXISTS", "socket.io-plugin#shared#kv", "socket.io-plugin#shared#timers")
	if err != nil {
		t.Fatal(err)
	}
	return v.(int64)
}

// INIT runs on every node at every load; the documented idiom (a one-shot
// "boot" timer per INIT, whose TIMER call starts the repeating timer
// behind a kv_cas on an absent key) makes one repeating timer for the
// cluster however many nodes load or reload the plugin. A refused INIT,
// at start or on a reload, leaves no key and no timer in Redis.
func TestClusterInitIdiomAndRefusedInit(t *testing.T) {
	r := redistest.Start(t)
	if _, err := New(context.Background(), stateNodeConfig(t, r.URL(), "fail = true"), zerolog.Nop()); err == nil ||
		!strings.Contains(err.Error(), "config says fail") {
		t.Fatalf("a refusing INIT: %v", err)
	}
	if n := sharedKeys(t, r); n != 0 {
		t.Fatalf("a refused INIT left %d keys in Redis", n)
	}

	const tickerCfg = "ticker_ms = 30"
	a := startStateNode(t, r.URL(), tickerCfg)
	b := startStateNode(t, r.URL(), tickerCfg)
	waitNodes(t, r, 2)
	c := dialState(t, b.addr, "")
	for range 3 {
		delete(c.fired, "tick")
		c.waitFired(t, "tick")
	}
	// A reload runs INIT again on a: still one ticker. One that refuses
	// leaves nothing.
	file := a.srv.Config().File
	writeStateConfig(t, file, r.URL(), tickerCfg+"\ngen = 2")
	if err := a.srv.ReloadConfig(context.Background()); err != nil {
		t.Fatal(err)
	}
	writeStateConfig(t, file, r.URL(), tickerCfg+"\nfail = true")
	if err := a.srv.ReloadConfig(context.Background()); err == nil {
		t.Fatal("a refusing INIT was accepted on reload")
	}
	c.fired = map[string]int{}
	for range 3 {
		delete(c.fired, "tick")
		c.waitFired(t, "tick")
	}
	if got := c.call(t, "kv:get", "refused"); got != "[-3]" {
		t.Fatalf("the refused INIT's write: %s", got)
	}
	if c.fired["refused"] != 0 {
		t.Fatal("the refused INIT's timer fired")
	}
	v, err := r.Do(context.Background(), "HLEN", "socket.io-plugin#shared#timers")
	if err != nil || v != int64(1) {
		t.Fatalf("pending timers: %v, %v; want the one ticker", v, err)
	}
}
