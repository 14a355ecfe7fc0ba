package server

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
)

// The plugin boundary, tried as an attacker would: each test gives a
// hostile guest (host/plugin/testdata/hostile) one thing to do that it
// must not get away with, and checks that the host refuses it, says so
// once in its log, and keeps serving.

// named returns a copy of the guest file src named name.wasm, for a test
// that loads one guest under several plugin names.
func named(t *testing.T, src, name string) string {
	t.Helper()
	dst := filepath.Join(t.TempDir(), name+".wasm")
	copyFile(t, src, dst)
	return dst
}

// call sends event name with args on c and returns the ack's args.
func (s *sioConn) call(t *testing.T, id int, name string, args ...any) string {
	t.Helper()
	all := append([]any{name}, args...)
	b, err := json.Marshal(all)
	if err != nil {
		t.Fatal(err)
	}
	n := strconv.Itoa(id)
	s.send(t, "42"+s.prefix+n+string(b))
	m := s.expectPrefix(t, "43"+s.prefix+n)
	return strings.TrimPrefix(m, "43"+s.prefix+n)
}

// countLines counts the log lines that contain every one of subs.
func (l *logBuf) countLines(subs ...string) int {
	n := 0
	for _, line := range strings.Split(l.String(), "\n") {
		ok := line != ""
		for _, s := range subs {
			ok = ok && strings.Contains(line, s)
		}
		if ok {
			n++
		}
	}
	return n
}

const hostileTOML = `
[plugin.hostile]
grants = ["kv", "timers"]
[[namespace]]
name = "/"
handler = "hostile"
`

// A broadcast with acks that reaches nobody is answered at once; asking
// again from each answer is a loop no deadline ends. The chain is cut at
// max_call_chain calls with ERR_LIMIT, logged once, and the client and
// the server carry on.
func TestCallChainBounded(t *testing.T) {
	e := startHot(t, false, hostileTOML, hostileWasm)
	c := dialNsp(t, e.addr, "/")
	if got := c.call(t, 1, "chain"); got != "[1,0]" {
		t.Fatalf("chain = %s", got)
	}
	e.logs.waitFor(t, 5*time.Second, "host call refused", "broadcast_with_ack", "max_call_chain")
	if got := c.call(t, 2, "getdata"); got != `[{"n":16,"err":-6}]` {
		t.Fatalf("after the chain: %s", got)
	}
	if n := e.logs.countLines("host call refused"); n != 1 {
		t.Fatalf("%d refusal lines, want 1:\n%s", n, e.logs.String())
	}
	if got := c.call(t, 3, "echo", "still"); got != `["still"]` {
		t.Fatalf("echo = %s", got)
	}
}

// A call that asks four times from each at-once answer grows a tree of
// calls; the tree shares one budget: max_call_chain calls in all.
func TestCallTreeBounded(t *testing.T) {
	e := startHot(t, false, hostileTOML, hostileWasm)
	c := dialNsp(t, e.addr, "/")
	if got := c.call(t, 1, "fan"); got != "[4,0]" {
		t.Fatalf("fan = %s", got)
	}
	e.logs.waitFor(t, 5*time.Second, "host call refused", "broadcast_with_ack", "max_call_chain")
	// The calls of the tree come before the next event (one executor).
	if got := c.call(t, 2, "getdata"); got != `[{"n":16}]` {
		t.Fatalf("after the tree: %s", got)
	}
}

// Per-call budgets: sends, deferred operations.
func TestCallBudgets(t *testing.T) {
	e := startHot(t, false, hostileTOML+"[plugins]\nmax_sends_per_call = 100\n", hostileWasm)
	c := dialNsp(t, e.addr, "/")
	if got := c.call(t, 1, "defer", 100); got != "[64,-6]" {
		t.Fatalf("defer = %s", got)
	}
	c.send(t, `421["flood",500]`)
	for i := range 100 {
		if m := c.next(t); m != `42["x"]` {
			t.Fatalf("flood message %d = %q", i, m)
		}
	}
	if m := c.next(t); m != "431[100,-6]" {
		t.Fatalf("flood = %q", m)
	}
	e.logs.waitFor(t, time.Second, "host call refused", "max_sends_per_call")
	e.logs.waitFor(t, time.Second, "host call refused", "max_deferred_per_call")
}

// One send carries at most max_emit_bytes of args and attachments; over
// it the send is ERR_LIMIT, logged, and smaller sends go on.
func TestEmitBytesBounded(t *testing.T) {
	e := startHot(t, false, hostileTOML+"[plugins]\nmax_emit_bytes = 1000\n", hostileWasm)
	c := dialNsp(t, e.addr, "/")
	if got := c.call(t, 1, "join", "lobby"); got != "[1,0]" {
		t.Fatalf("join = %s", got)
	}
	if got := c.call(t, 2, "shout", strings.Repeat("x", 2000)); got != "[-6]" {
		t.Fatalf("a 2000-byte broadcast = %s", got)
	}
	e.logs.waitFor(t, time.Second, "host call refused", "max_emit_bytes")
	c.send(t, `423["shout","short"]`)
	if m := c.next(t); m != `42["shout","short"]` {
		t.Fatalf("a short broadcast: %q", m)
	}
	if m := c.next(t); m != "433[0]" {
		t.Fatalf("its ack: %q", m)
	}
}

// Rooms: per socket and per name bytes.
func TestRoomLimitsForPlugins(t *testing.T) {
	e := startHot(t, false, hostileTOML, hostileWasm)
	c := dialNsp(t, e.addr, "/")
	// The socket's own id room counts: 255 more fit in 256.
	if got := c.call(t, 1, "rooms", 300, 10); got != "[255,-6]" {
		t.Fatalf("300 rooms = %s", got)
	}
	c2 := dialNsp(t, e.addr, "/")
	if got := c2.call(t, 1, "rooms", 1, 257); got != "[0,-2]" {
		t.Fatalf("a 257-byte room name = %s", got)
	}
	if got := c2.call(t, 2, "rooms", 1, 256); got != "[1,0]" {
		t.Fatalf("a 256-byte room name = %s", got)
	}
}

// Ack contexts: per context and per plugin; released when the ACK_RESPONSE
// calls are made (here: the socket leaves).
func TestAckContextsBounded(t *testing.T) {
	e := startHot(t, false, hostileTOML+"[plugins]\nmax_pending_ack_bytes = 1000000\n", hostileWasm)
	c := dialNsp(t, e.addr, "/")
	if got := c.call(t, 1, "ackctx", 70000, 1); got != "[0,-6]" {
		t.Fatalf("a 70000-byte context = %s", got)
	}
	c.send(t, `422["ackctx",60000,20]`)
	for range 16 {
		if m := c.next(t); !strings.HasPrefix(m, `42`) || !strings.Contains(m, `["hold"]`) {
			t.Fatalf("hold event %q", m)
		}
	}
	if m := c.expectPrefix(t, "432"); m != "432[16,-6]" {
		t.Fatalf("20 contexts of 60000 bytes = %s", m)
	}
	p := e.srv.Plugins().Get("hostile")
	if n := p.Stats().PendingAckBytes; n != 16*60000 {
		t.Fatalf("pending ack bytes %d", n)
	}
	_ = c.c.CloseNow()
	deadline := time.Now().Add(5 * time.Second)
	for p.Stats().PendingAckBytes != 0 {
		if time.Now().After(deadline) {
			t.Fatalf("pending ack bytes after the socket left: %d", p.Stats().PendingAckBytes)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// ns_broadcast into a namespace the plugin does not serve needs a grant
// naming it; without one nothing reaches that namespace.
func TestNsBroadcastNeedsGrant(t *testing.T) {
	for _, granted := range []bool{false, true} {
		t.Run(fmt.Sprint("granted=", granted), func(t *testing.T) {
			toml := "[plugin.hostile]\ngrants = [\"kv\", \"timers\"]\n"
			if granted {
				toml = "[plugin.hostile]\ngrants = [\"kv\", \"timers\", \"emit:/other*\"]\n"
			}
			toml += "[[namespace]]\nname = \"/\"\nhandler = \"hostile\"\n[[namespace]]\nname = \"/other\"\nhandler = \"hot\"\n"
			e := startHot(t, false, toml, hostileWasm)
			victim := dialNsp(t, e.addr, "/other")
			c := dialNsp(t, e.addr, "/")
			got := c.call(t, 1, "nsemit", "/other")
			if !granted {
				if got != "[0,-4]" {
					t.Fatalf("ns_broadcast into a namespace not served = %s", got)
				}
				e.logs.waitFor(t, time.Second, "host call refused", "ns_broadcast", "emit:/other")
				// Nothing arrived: the next message is the echo's ack.
				victim.send(t, `42/other,7["echo",1]`)
				if m := victim.next(t); !strings.HasPrefix(m, "43/other,7") {
					t.Fatalf("the namespace got %q", m)
				}
				return
			}
			if got != "[1,0]" {
				t.Fatalf("granted ns_broadcast = %s", got)
			}
			if m := victim.next(t); m != `42/other,["forged","from another plugin"]` {
				t.Fatalf("granted emit: %q", m)
			}
		})
	}
}

// Names a plugin hands the host are bounded before they are copied or
// logged: 100 KB of namespace name is ERR_LIMIT, and the log says so
// in a short line.
func TestHugeNamesRefused(t *testing.T) {
	e := startHot(t, false, hostileTOML, hostileWasm)
	c := dialNsp(t, e.addr, "/")
	before := len(e.logs.String())
	if got := c.call(t, 1, "nsemit", "/"+strings.Repeat("n", 100_000)); got != "[0,-6]" {
		t.Fatalf("a 100 KB namespace name = %s", got)
	}
	e.logs.waitFor(t, time.Second, "host call refused", "ns_broadcast")
	if grew := len(e.logs.String()) - before; grew > 4096 {
		t.Fatalf("the refusal took %d bytes of log", grew)
	}
}

// A plugin closes whole connections (disconnect(1), disconnect_sockets
// with close) only when it is routed in every namespace: otherwise a
// connection may hold sockets of namespaces it has no part in, and its
// sockets only leave their namespace, the connection and the other
// namespaces staying.
func TestClosingConnectionsNeedsEveryNamespace(t *testing.T) {
	other := named(t, hostileWasm, "other")
	two := func(second string) string {
		return hostileTOML + `[plugin.other]
grants = ["kv", "timers"]
[[namespace]]
name = "/other"
handler = "` + second + `"
`
	}
	joinOther := func(c *sioConn) {
		c.send(t, "40/other,")
		if m := c.next(t); !strings.HasPrefix(m, `40/other,{"sid":`) {
			t.Fatalf("connect to /other: %q", m)
		}
	}
	otherEcho := func(c *sioConn, id int) {
		c.send(t, `42/other,`+strconv.Itoa(id)+`["echo","still"]`)
		if m := c.next(t); m != `43/other,`+strconv.Itoa(id)+`["still"]` {
			t.Fatalf("/other after the kick: %q", m)
		}
	}
	for _, all := range []bool{false, true} {
		// "/other" is another plugin's: the connection stays.
		e := startHot(t, false, two("other"), hostileWasm, other)
		c := dialNsp(t, e.addr, "/")
		joinOther(c)
		// Both take effect after the call: its ack comes first.
		if got := c.call(t, 1, "kick", all); got != "[1,0]" {
			t.Fatalf("kick(%v) = %s", all, got)
		}
		if m := c.next(t); m != "41" {
			t.Fatalf("kick(%v): %q, want the socket disconnected from /", all, m)
		}
		otherEcho(c, 2)
		e.logs.waitFor(t, time.Second, "session kept open")

		// Routed in both namespaces, the plugin closes the connection.
		e = startHot(t, false, two("hostile"), hostileWasm, other)
		c = dialNsp(t, e.addr, "/")
		joinOther(c)
		if got := c.call(t, 1, "kick", all); got != "[1,0]" {
			t.Fatalf("kick(%v) = %s", all, got)
		}
		select {
		case <-c.closed:
		case <-time.After(5 * time.Second):
			t.Fatalf("kick(%v) by a plugin routed everywhere: connection still open", all)
		}
	}
}

// Socket data is per plugin: one plugin's set_socket_data never
// overwrites another's.
func TestSocketDataPerPlugin(t *testing.T) {
	a, b := named(t, hostileWasm, "guard"), named(t, hostileWasm, "app")
	toml := `
[plugin.guard]
grants = ["kv", "timers"]
[plugin.guard.config]
owner = "guard"
[plugin.app]
grants = ["kv", "timers"]
[plugin.app.config]
owner = "app"
[[namespace]]
name = "/"
middleware = ["guard"]
event_middleware = ["guard"]
handler = "app"
`
	e := startHot(t, false, toml, a, b)
	c := dialNsp(t, e.addr, "/")
	if got := c.call(t, 1, "getdata"); got != `[null]` {
		t.Fatalf("app's data before it set any = %s (guard's leaked?)", got)
	}
	if got := c.call(t, 2, "setdata", map[string]string{"owner": "app, overwriting"}); got != "[1,0]" {
		t.Fatalf("setdata = %s", got)
	}
	if got := c.call(t, 3, "getdata"); got != `[{"owner":"app, overwriting"}]` {
		t.Fatalf("app's data = %s", got)
	}
	if got := c.call(t, 4, "mwdata"); got != `[{"error":"{\"owner\":\"guard\"}"}]` {
		t.Fatalf("guard's data = %s", got)
	}
}

// Guest log text cannot forge host log lines, and its volume is bounded
// per call (bytes) and per plugin (lines a second).
func TestPluginLogsEscapedAndBounded(t *testing.T) {
	e := startHot(t, false, hostileTOML, hostileWasm)
	c := dialNsp(t, e.addr, "/")
	c.call(t, 1, "log", "forge")
	line := e.logs.waitFor(t, time.Second, "innocent")
	var rec map[string]any
	if err := json.Unmarshal([]byte(line), &rec); err != nil {
		t.Fatal(err)
	}
	if msg := rec["message"].(string); msg != `innocent\n12:00AM INF forged line plugin=host` {
		t.Fatalf("message %q: a newline would start a forged line on the console", msg)
	}

	before := len(e.logs.String())
	c.call(t, 2, "log", "big") // 40 MiB of log text
	e.logs.waitFor(t, time.Second, "went over its budget", "log_bytes_dropped")
	if grew := len(e.logs.String()) - before; grew > 100_000 {
		t.Fatalf("40 MiB of guest log made the host log grow by %d bytes", grew)
	}

	c.call(t, 3, "log", "many") // 5000 lines in one call
	line = e.logs.waitFor(t, 3*time.Second, "plugin log lines over the rate limit dropped")
	if err := json.Unmarshal([]byte(line), &rec); err != nil {
		t.Fatal(err)
	}
	if n := e.logs.countLines(`"message":"line `); n > 110 {
		t.Fatalf("%d of 5000 lines logged, want at most the burst (100)", n)
	}
	if dropped := rec["dropped"].(float64); dropped < 4800 {
		t.Fatalf("summary says %v dropped", dropped)
	}
}

// A version whose INIT is refused leaves nothing behind: the timer it set
// never fires, its key-value write is not there.
func TestRefusedInitLeavesNoState(t *testing.T) {
	e := startHot(t, true, hostileTOML, hostileWasm)
	c := dialNsp(t, e.addr, "/")
	cfg := e.head(true) + hostileTOML + "[plugin.hostile.config]\nrefuse = true\n"
	if err := os.WriteFile(e.cfgFile, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := e.srv.ReloadConfig(context.Background()); err == nil {
		t.Fatal("a reload whose INIT refuses was applied")
	}
	time.Sleep(100 * time.Millisecond) // ten periods of the refused version's timer
	for i, key := range []string{"init", "fired"} {
		if got := c.call(t, i+1, "kvget", key); got != "[null,-3]" {
			t.Fatalf("key %q after the refused INIT: %s", key, got)
		}
	}
	if n := e.srv.Plugins().Get("hostile").Stats().Timers; n != 0 {
		t.Fatalf("%d timers after the refused INIT", n)
	}
}

// A plugin with 1000 repeating timers whose calls loop gets one core at
// most: a neighbour plugin's events keep their latency.
func TestLoopingTimersDoNotStarveNeighbours(t *testing.T) {
	toml := `
[plugin.hostile]
grants = ["kv", "timers"]
call_timeout = "200ms"
[[namespace]]
name = "/"
handler = "hot"
[[namespace]]
name = "/hog"
handler = "hostile"
`
	e := startHot(t, false, toml, hostileWasm)
	canary := dialNsp(t, e.addr, "/")
	hog := dialNsp(t, e.addr, "/hog")
	if got := hog.call(t, 1, "hog", 1000, 10); got != "[1000,0]" {
		t.Fatalf("hog = %s", got)
	}
	e.logs.waitFor(t, 2*time.Second, `"plugin":"hostile"`, "deadline exceeded")
	canaryLatency(t, canary, "a plugin with 1000 looping timers")
}

// canaryLatency measures 40 acked echoes of canary, a client of a
// neighbour plugin, and fails when their p50 passes 50 ms or their
// slowest 500 ms.
func canaryLatency(t *testing.T, canary *sioConn, beside string) {
	t.Helper()
	var lat []time.Duration
	for i := range 40 {
		start := time.Now()
		canary.call(t, i+1, "echo", i)
		lat = append(lat, time.Since(start))
	}
	slices.Sort(lat)
	p50, worst := lat[len(lat)/2], lat[len(lat)-1]
	t.Logf("canary latency beside %s: p50 %v, max %v", beside, p50, worst)
	if p50 > 50*time.Millisecond || worst > 500*time.Millisecond {
		t.Fatalf("canary latency p50 %v, max %v: %s starves its neighbour", p50, worst, beside)
	}
}

// Instances are made ahead of need under a bounded deadline: a guest whose
// instances take 700 ms to create and whose handler traps (so each call
// needs a fresh one) answers each event within its call timeout, never
// after an instantiation.
func TestSlowInstantiationNotOnTheCallPath(t *testing.T) {
	toml := `
[plugin.slowinit]
call_timeout = "50ms"
[[namespace]]
name = "/"
handler = "slowinit"
`
	e := startHot(t, false, toml, slowInitWasm)
	c := dialNsp(t, e.addr, "/")
	for i := range 6 {
		start := time.Now()
		if got := c.call(t, i+1, "trap"); got != `[{"error":"handler failed"}]` {
			t.Fatalf("trap %d = %s", i, got)
		}
		if d := time.Since(start); d > 400*time.Millisecond {
			t.Fatalf("event %d took %v: it waited for an instantiation", i, d)
		}
	}
}

// A guest whose instances take longer than the instantiation deadline to
// create is refused at load, the file and the reason named.
func TestInstantiationDeadline(t *testing.T) {
	dir := t.TempDir()
	copyFile(t, slowInit3sWasm, filepath.Join(dir, "slowinit3s.wasm"))
	_, err := newTestServer(t, "", dir)
	if err == nil || !strings.Contains(err.Error(), "slowinit3s.wasm") || !strings.Contains(err.Error(), "took longer than 1s") {
		t.Fatalf("err = %v", err)
	}
}

// Outgoing args with invalid UTF-8 (which would drop every JavaScript
// client receiving them), and KV TTLs out of range, are refused.
func TestInvalidArgumentsRefused(t *testing.T) {
	e := startHot(t, false, hostileTOML, hostileWasm)
	c := dialNsp(t, e.addr, "/")
	if got := c.call(t, 1, "badutf8"); got != "[0,-2]" {
		t.Fatalf("badutf8 = %s", got)
	}
	if got := c.call(t, 2, "kvttl", 31); got != "[0,-2]" {
		t.Fatalf("a 31-day TTL = %s", got)
	}
	if got := c.call(t, 3, "kvttl", 30); got != "[1,0]" {
		t.Fatalf("a 30-day TTL = %s", got)
	}
}

// A member of a room that stops reading is closed by its write queue's
// byte budget; the other members keep receiving everything, in order and
// without waiting for it (the reference server's backpressure is its
// ping timeout; here the byte budget acts within seconds).
func TestSlowConsumerDoesNotStallRoom(t *testing.T) {
	const n, size = 3000, 8 << 10 // 24 MiB through the room, three times the queue budget
	e := startHot(t, false, hostileTOML, hostileWasm)
	stalled, reader, sender := dialNsp(t, e.addr, "/"), dialNsp(t, e.addr, "/"), dialNsp(t, e.addr, "/")
	for i, c := range []*sioConn{stalled, reader} {
		if got := c.call(t, i+1, "join", "lobby"); got != "[1,0]" {
			t.Fatalf("join = %s", got)
		}
	}
	stalled.stopReading()
	text := strings.Repeat("x", size)
	received := make(chan int, 1)
	go func() { // the reader reads as fast as it can and checks the order
		want := 0
		for want < n {
			m, ok := <-reader.msgs
			if !ok {
				break
			}
			if strings.HasPrefix(m, `42["shout",`) {
				if !strings.HasPrefix(m, `42["shout",`+strconv.Itoa(want)+`,`) {
					t.Errorf("message %d out of order: %.40q", want, m)
					break
				}
				want++
			}
		}
		received <- want
	}()
	start := time.Now()
	for i := range n {
		sender.send(t, `42`+strconv.Itoa(i)+`["shout",`+strconv.Itoa(i)+`,"`+text+`"]`)
	}
	for range n { // every shout was broadcast (the acks)
		if m := sender.next(t); !strings.HasSuffix(m, "[0]") {
			t.Fatalf("shout ack %q", m)
		}
	}
	sent := time.Since(start)
	select {
	case got := <-received:
		if got != n {
			t.Fatalf("the reader got %d of %d", got, n)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the reader did not get every message")
	}
	t.Logf("%d × %d KiB: sent in %v, all received %v after the last send", n, size>>10, sent, time.Since(start)-sent)
	e.logs.waitFor(t, 5*time.Second, "write queue full, closing session")
	deadline := time.Now().Add(5 * time.Second)
	for e.srv.SocketIO().Of("/").Len() != 2 {
		if time.Now().After(deadline) {
			t.Fatalf("%d sockets: the stalled one is still there", e.srv.SocketIO().Of("/").Len())
		}
		time.Sleep(10 * time.Millisecond)
	}
	// The operator sees it: one slow consumer closed.
	ops := httptest.NewServer(e.srv.MetricsHandler())
	defer ops.Close()
	if got := scrape(t, ops.URL, `sockwasm_engine_sessions_closed_total{path="/socket.io/",reason="write queue full"}`); got != 1 {
		t.Errorf("sessions closed for a full write queue: %v, want 1", got)
	}
}

// Clients flooding a plugin with calls that loop until their deadline:
// each such call is faulted, and the plugin, over its budget, is throttled
// to fewer call slots than there are cores, so a neighbour plugin's events
// keep their latency.
func TestLoopingEventFloodDoesNotStarveNeighbours(t *testing.T) {
	toml := `
[plugin.hostile]
grants = ["kv", "timers"]
call_timeout = "200ms"
[[namespace]]
name = "/"
handler = "hot"
[[namespace]]
name = "/hog"
handler = "hostile"
`
	e := startHot(t, false, toml, hostileWasm)
	canary := dialNsp(t, e.addr, "/")
	stop := make(chan struct{})
	defer close(stop)
	for range 4 {
		hog := dialNsp(t, e.addr, "/hog")
		go func() {
			for i := 1; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				hog.send(t, `42/hog,`+strconv.Itoa(i)+`["spin"]`)
				select {
				case <-hog.msgs: // the "handler failed" ack
				case <-stop:
					return
				case <-hog.closed:
					return
				}
			}
		}()
	}
	e.logs.waitFor(t, 3*time.Second, `"plugin":"hostile"`, "deadline exceeded")
	canaryLatency(t, canary, "a plugin flooded with looping calls")
}

// A refusal's text is bounded; one over the bound still refuses.
func TestRejectBounded(t *testing.T) {
	for _, tt := range []struct {
		size int
		want string
	}{
		{10, `44{"message":"xxxxxxxxxx"}`},
		{70000, `44{"message":"internal error"}`},
	} {
		t.Run(strconv.Itoa(tt.size), func(t *testing.T) {
			toml := "[plugin.hostile]\ngrants = [\"kv\", \"timers\"]\n[plugin.hostile.config]\nreject_size = " + strconv.Itoa(tt.size) +
				"\n[[namespace]]\nname = \"/\"\nmiddleware = [\"hostile\"]\nhandler = \"hostile\"\n"
			e := startHot(t, false, toml, hostileWasm)
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			c, _, err := websocket.Dial(ctx, "ws://"+e.addr+"/socket.io/?EIO=4&transport=websocket", nil)
			if err != nil {
				t.Fatal(err)
			}
			defer c.CloseNow()
			if _, m, err := c.Read(ctx); err != nil || !strings.HasPrefix(string(m), "0{") {
				t.Fatalf("open: %q %v", m, err)
			}
			if err := c.Write(ctx, websocket.MessageText, []byte("40")); err != nil {
				t.Fatal(err)
			}
			if _, m, err := c.Read(ctx); err != nil || string(m) != tt.want {
				t.Fatalf("connect answer %.60q (%v), want %q", m, err, tt.want)
			}
		})
	}
}
