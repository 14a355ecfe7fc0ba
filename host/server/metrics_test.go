package server

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// scrape returns the value of the metric line starting with series (name
// and labels), or -1 when there is none.
func scrape(t *testing.T, url, series string) float64 {
	t.Helper()
	resp, err := http.Get(url + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	for _, line := range strings.Split(string(body), "\n") {
		if v, ok := strings.CutPrefix(line, series+" "); ok {
			f, err := strconv.ParseFloat(v, 64)
			if err != nil {
				t.Fatalf("%s: %v", line, err)
			}
			return f
		}
	}
	return -1
}

// The [metrics] handler: sockets by namespace (a dynamic one under its
// pattern) and transport, plugin calls counted per event, the serving
// version, and /healthz and /readyz (503 once draining).
func TestMetricsAndHealth(t *testing.T) {
	e := startHot(t, false, hotTOML+"[[namespace]]\nname = \"/t-*\"\nhandler = \"hot\"\n"+
		"[[namespace]]\nname = \"/h\"\nhandler = \"hostile\"\n[plugin.hostile]\ngrants = [\"kv\", \"timers\"]\ncall_timeout = \"50ms\"\n", hostileWasm)
	ops := httptest.NewServer(e.srv.MetricsHandler())
	defer ops.Close()
	if code, body := get(t, ops.URL+"/healthz"); code != 200 || body != "ok\n" {
		t.Fatalf("/healthz: %d %q", code, body)
	}
	if code, body := get(t, ops.URL+"/readyz"); code != 200 || body != "ready\n" {
		t.Fatalf("/readyz: %d %q", code, body)
	}

	ws1, _ := dialNsp(t, e.addr, "/"), dialNsp(t, e.addr, "/")
	dialPolling(t, e.addr)
	dialNsp(t, e.addr, "/t-1")
	dialNsp(t, e.addr, "/t-2")
	waitFor(t, "the sockets counted", func() bool {
		return scrape(t, ops.URL, `sockwasm_sockets{namespace="/",transport="websocket"}`) == 2 &&
			scrape(t, ops.URL, `sockwasm_sockets{namespace="/",transport="polling"}`) == 1 &&
			scrape(t, ops.URL, `sockwasm_sockets{namespace="/t-*",transport="websocket"}`) == 2
	})
	if got := scrape(t, ops.URL, `sockwasm_namespaces{kind="dynamic"}`); got != 2 {
		t.Errorf("dynamic namespaces: %v", got)
	}
	if got := scrape(t, ops.URL, `sockwasm_engine_sessions{path="/socket.io/"}`); got != 5 {
		t.Errorf("sessions: %v, want 5", got)
	}
	if got := scrape(t, ops.URL, `sockwasm_plugin_info{plugin="hot",version="`+e.srv.Plugins().Get("hot").Hash()+`"}`); got != 1 {
		t.Errorf("plugin_info: %v", got)
	}

	// Counters move by what happened: three events, one fault.
	if got := scrape(t, ops.URL, `sockwasm_connects_total{namespace="/",outcome="accepted"}`); got != 3 {
		t.Errorf("connects to /: %v", got)
	}
	if got := scrape(t, ops.URL, `sockwasm_connects_total{namespace="/t-*",outcome="accepted"}`); got != 2 {
		t.Errorf("connects to /t-*: %v", got)
	}
	calls := `sockwasm_plugin_calls_total{kind="event",plugin="hot"}`
	events := `sockwasm_events_total{namespace="/",outcome="routed",route="(handler)"}`
	observed := `sockwasm_plugin_call_duration_seconds_count{plugin="hot"}`
	before := []float64{scrape(t, ops.URL, calls), scrape(t, ops.URL, events), scrape(t, ops.URL, observed)}
	for i := 1; i <= 3; i++ {
		n := strconv.Itoa(i)
		ws1.send(t, `42`+n+`["echo",`+n+`]`)
		ws1.expectPrefix(t, `43`+n+`["v1",[`+n+`]]`)
	}
	for i, m := range []string{calls, events, observed} {
		if got := scrape(t, ops.URL, m); got != max(before[i], 0)+3 {
			t.Errorf("%s: %v after 3 events, from %v", m, got, before[i])
		}
	}
	h := dialNsp(t, e.addr, "/h")
	deadline := `sockwasm_plugin_faults_total{kind="deadline",plugin="hostile"}`
	if got := scrape(t, ops.URL, deadline); got != 0 {
		t.Fatalf("deadline faults before: %v", got)
	}
	h.send(t, `42/h,1["spin"]`)
	h.expectPrefix(t, `43/h,1[{"error":`)
	if got := scrape(t, ops.URL, deadline); got != 1 {
		t.Errorf("deadline faults after one: %v", got)
	}
	_ = h.c.CloseNow()
	waitFor(t, "the disconnect counted", func() bool {
		return scrape(t, ops.URL, `sockwasm_disconnects_total{namespace="/h",reason="transport close"}`) == 1 &&
			scrape(t, ops.URL, `sockwasm_engine_sessions_closed_total{path="/socket.io/",reason="transport close"}`) == 1
	})
	if got := scrape(t, ops.URL, `sockwasm_engine_sessions_opened_total{path="/socket.io/"}`); got != 6 {
		t.Errorf("sessions opened: %v, want 6", got)
	}
	if got := scrape(t, ops.URL, `sockwasm_engine_upgrades_total{path="/socket.io/"}`); got != 0 {
		t.Errorf("upgrades: %v, want 0 (every client chose its transport)", got)
	}

	var st Status
	if code, body := get(t, ops.URL+"/status"); code != 200 || json.Unmarshal([]byte(body), &st) != nil {
		t.Fatalf("/status: %d %s", code, body)
	}
	if st.Ready != "ready" || st.Adapter != "memory" || st.Sessions != 5 || len(st.Plugins) != 3 || len(st.Namespaces) != 4 {
		t.Fatalf("status %+v", st)
	}
	if n := st.Namespaces[0]; n.Name != "/" || n.Sockets != 3 || !n.Routed || n.Rooms != 3 {
		t.Errorf("namespace / %+v", n)
	}
	if n := st.Namespaces[2]; n.Name != "/t-1" || n.Pattern != "/t-*" || n.Sockets != 1 {
		t.Errorf("namespace /t-1 %+v", n)
	}
	if p := st.Plugins[2]; p.Name != "hot" || p.Version != e.srv.Plugins().Get("hot").Hash() || p.Serving.IsZero() || p.Calls == 0 {
		t.Errorf("plugin hot %+v", p)
	}

	// The drain waits for the plugins' calls in flight and their
	// instances being made, slow under -race on a loaded machine: the
	// test is about /readyz, so it allows a serving drain's 10 s and more.
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := e.srv.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	if code, body := get(t, ops.URL+"/readyz"); code != http.StatusServiceUnavailable || body != "draining\n" {
		t.Fatalf("/readyz while draining: %d %q", code, body)
	}
}

// Every line a component logs carries it ("component":NAME), so that
// [log] can set its level: engine, socket, plugin, router, reload; the
// lines about a socket carry its session, its id and its namespace.
func TestLogLinesCarryTheirComponent(t *testing.T) {
	e := startHot(t, false, hotTOML)
	c := dialNsp(t, e.addr, "/")
	c.send(t, `421["echo",1]`)
	c.expectPrefix(t, `431["v1",[1]]`)
	if err := e.srv.ReloadConfig(context.Background()); err != nil {
		t.Fatal(err)
	}
	for _, parts := range [][]string{
		{`"component":"plugin"`, `"plugin":"hot"`, "plugin loaded"},
		{`"component":"engine"`, `"sid":`, "session opened"},
		{`"component":"socket"`, `"sid":`, `"nsp":"/"`, `"socket":`, "socket connected"},
		{`"component":"router"`, `"event":"echo"`, `"plugin":"hot"`, "event routed"},
		{`"component":"reload"`, "configuration reloaded"},
	} {
		e.logs.waitFor(t, 2*time.Second, parts...)
	}
}

// Clients choose event names, not the metrics' labels: 10 000 distinct
// names add no series (they count under their route's configured key).
func TestMetricsCardinalityBounded(t *testing.T) {
	e := startHot(t, false, hotTOML+"[[namespace]]\nname = \"/r\"\n[namespace.events]\n\"chat:*\" = \"hot\"\necho = \"hot\"\n")
	ops := httptest.NewServer(e.srv.MetricsHandler())
	defer ops.Close()
	c := dialNsp(t, e.addr, "/r")
	const n = 10_000
	var b strings.Builder
	for i := range n {
		b.Reset()
		b.WriteString(`42/r,["`)
		switch i % 3 {
		case 0:
			b.WriteString("chat:")
		case 1:
			b.WriteString("echo")
		}
		b.WriteString(strconv.Itoa(i))
		b.WriteString(`"]`)
		c.send(t, b.String())
	}
	waitFor(t, "every event counted", func() bool {
		return scrape(t, ops.URL, `sockwasm_events_total{namespace="/r",outcome="routed",route="chat:*"}`)+
			scrape(t, ops.URL, `sockwasm_events_total{namespace="/r",outcome="dropped",route="(none)"}`) == n
	})
	resp, err := http.Get(ops.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	series := 0
	for _, line := range strings.Split(string(body), "\n") {
		if strings.HasPrefix(line, "sockwasm_") {
			series++
		}
	}
	if series > 100 {
		t.Fatalf("%d sockwasm_ series after %d distinct event names", series, n)
	}
}

// The Grafana dashboard of docs/ uses only metrics this server exports
// (and the process collector's), and docs/OPERATIONS.md lists them.
func TestDashboardMetricsExist(t *testing.T) {
	raw, err := os.ReadFile("../../docs/grafana-dashboard.json")
	if err != nil {
		t.Fatal(err)
	}
	var dash struct {
		Panels []struct {
			Title   string
			Targets []struct{ Expr string }
		}
	}
	if err := json.Unmarshal(raw, &dash); err != nil {
		t.Fatalf("docs/grafana-dashboard.json: %v", err)
	}
	src, err := os.ReadFile("metrics.go")
	if err != nil {
		t.Fatal(err)
	}
	plugin, _ := os.ReadFile("../plugin/plugin.go")
	ops, err := os.ReadFile("../../docs/OPERATIONS.md")
	if err != nil {
		t.Fatal(err)
	}
	name := regexp.MustCompile(`sockwasm_[a-z_]+`)
	for _, p := range dash.Panels {
		if len(p.Targets) == 0 {
			t.Errorf("panel %q has no query", p.Title)
		}
		for _, q := range p.Targets {
			for _, m := range name.FindAllString(q.Expr, -1) {
				base := strings.TrimSuffix(strings.TrimSuffix(strings.TrimSuffix(m, "_bucket"), "_count"), "_sum")
				if !strings.Contains(string(src)+string(plugin), `"`+base+`"`) {
					t.Errorf("panel %q: %s is not exported", p.Title, m)
				}
				if !strings.Contains(string(ops), "`"+base+"`") {
					t.Errorf("panel %q: %s is not in docs/OPERATIONS.md", p.Title, base)
				}
			}
		}
	}
}

// scrapeAll returns the values of series (name and labels), in order.
func scrapeAll(t *testing.T, url string, series ...string) []float64 {
	t.Helper()
	out := make([]float64, len(series))
	for i, s := range series {
		out[i] = scrape(t, url, s)
	}
	return out
}

// Engine.IO message packets and their data bytes, in and out, move by
// what clients sent and got on both transports: the frames' lengths less
// the packet type; the open packets, CONNECTs' answers aside, nothing
// else is counted.
func TestMetricsEngineTraffic(t *testing.T) {
	e := startHot(t, false, hotTOML)
	ops := httptest.NewServer(e.srv.MetricsHandler())
	defer ops.Close()
	series := []string{
		`sockwasm_engine_packets_total{direction="in",path="/socket.io/"}`,
		`sockwasm_engine_bytes_total{direction="in",path="/socket.io/"}`,
		`sockwasm_engine_packets_total{direction="out",path="/socket.io/"}`,
		`sockwasm_engine_bytes_total{direction="out",path="/socket.io/"}`,
	}
	if got := scrapeAll(t, ops.URL, series...); got[0] != 0 || got[1] != 0 || got[2] != 0 || got[3] != 0 {
		t.Fatalf("before any client: %v", got)
	}
	ws := dialNsp(t, e.addr, "/")
	poll := dialPolling(t, e.addr)
	// The CONNECTs and their answers, "40" and `40{"sid":"…"}` (socket
	// ids of 20 characters).
	if got := scrapeAll(t, ops.URL, series...); got[0] != 2 || got[1] != 2 || got[2] != 2 || got[3] != 2*float64(len(`0{"sid":"`)+20+len(`"}`)) {
		t.Fatalf("after two CONNECTs: %v", got)
	}
	before := scrapeAll(t, ops.URL, series...)
	const n = 10
	var in, out float64
	for i := 1; i <= n; i++ {
		id := strconv.Itoa(i)
		frame := `42` + id + `["echo","` + strings.Repeat("x", i) + `"]`
		var c sioClient = ws
		if i%2 == 0 {
			c = poll
		}
		c.send(t, frame)
		reply := c.next(t)
		if !strings.HasPrefix(reply, `43`+id+`["v1",`) {
			t.Fatalf("reply %q", reply)
		}
		in += float64(len(frame) - 1)
		out += float64(len(reply) - 1)
	}
	got := scrapeAll(t, ops.URL, series...)
	for i, want := range []float64{n, in, n, out} {
		if got[i]-before[i] != want {
			t.Errorf("%s: +%v after %d echoes, want +%v", series[i], got[i]-before[i], n, want)
		}
	}
}

// A broadcast to a room of three counts one broadcast and three
// deliveries; an emit with ack that the client never answers is pending
// until its timeout, then counted as timed out.
func TestMetricsBroadcastsAndAcks(t *testing.T) {
	e := startHot(t, false, "[[namespace]]\nname = \"/\"\nhandler = \"chat\"\n", chatWasm)
	ops := httptest.NewServer(e.srv.MetricsHandler())
	defer ops.Close()
	const (
		broadcasts = `sockwasm_broadcasts_total`
		deliveries = `sockwasm_deliveries_total`
		dropped    = `sockwasm_deliveries_dropped_total`
		pending    = `sockwasm_acks_pending`
		timedOut   = `sockwasm_acks_timed_out_total`
	)
	want := func(what string, wants map[string]float64) {
		t.Helper()
		for s, w := range wants {
			if got := scrape(t, ops.URL, s); got != w {
				t.Errorf("%s: %s = %v, want %v", what, s, got, w)
			}
		}
	}
	want("at first", map[string]float64{broadcasts: 0, deliveries: 0, dropped: 0, pending: 0, timedOut: 0})
	a, b, c, d := dialNsp(t, e.addr, "/"), dialNsp(t, e.addr, "/"), dialNsp(t, e.addr, "/"), dialNsp(t, e.addr, "/")
	for _, m := range []*sioConn{a, b, c} {
		joinChat(t, m, 1, "r")
	}
	d.send(t, `421["say",{"room":"r","text":"hi"}]`)
	d.expectPrefix(t, `431[{"ok":true}]`)
	for _, m := range []*sioConn{a, b, c} {
		m.expectPrefix(t, `42["said",{"room":"r"`)
	}
	want("after one broadcast to a room of 3", map[string]float64{broadcasts: 1, deliveries: 3, dropped: 0, pending: 0, timedOut: 0})

	// The chat plugin's ping-me asks the client back with a 2 s timeout;
	// the client does not answer.
	d.send(t, `422["ping-me","hello"]`)
	d.expectPrefix(t, `420["server-ping","hello"]`)
	want("with the ack pending", map[string]float64{pending: 1, timedOut: 0})
	d.expectPrefix(t, `432[{"ok":false,"error":"timeout"}]`)
	want("after its timeout", map[string]float64{broadcasts: 1, deliveries: 3, pending: 0, timedOut: 1})
}

// The plugin's instances, live and idle, and the bytes of its key-value
// store.
func TestMetricsPluginInstancesAndKV(t *testing.T) {
	e := startHot(t, false, hotTOML+"[plugin.hot]\nmax_concurrency = 1\npool_size = 1\n"+
		"[[namespace]]\nname = \"/s\"\nhandler = \"shared\"\n[plugin.shared]\ngrants = [\"kv\", \"timers\"]\n", sharedWasm)
	ops := httptest.NewServer(e.srv.MetricsHandler())
	defer ops.Close()
	c := dialNsp(t, e.addr, "/")
	c.send(t, `421["echo",1]`)
	c.expectPrefix(t, `431["v1",[1]]`)
	// One instance alive (pool_size), idle between calls, the only one
	// ever made.
	for s, want := range map[string]float64{
		`sockwasm_plugin_instances{plugin="hot"}`:               1,
		`sockwasm_plugin_instances_idle{plugin="hot"}`:          1,
		`sockwasm_plugin_instances_created_total{plugin="hot"}`: 1,
		`sockwasm_plugin_kv_bytes{plugin="hot"}`:                0,
		`sockwasm_plugin_kv_bytes{plugin="shared"}`:             0,
	} {
		if got := scrape(t, ops.URL, s); got != want {
			t.Errorf("%s = %v, want %v", s, got, want)
		}
	}
	if live, idle := scrape(t, ops.URL, `sockwasm_plugin_instances{plugin="shared"}`),
		scrape(t, ops.URL, `sockwasm_plugin_instances_idle{plugin="shared"}`); live < 1 || idle < 0 || idle > live {
		t.Errorf("shared: %v live instances, %v idle", live, idle)
	}
	s := dialNsp(t, e.addr, "/s")
	s.send(t, `42/s,1["kv:set","key","value",0]`)
	s.expectPrefix(t, `43/s,1[0]`)
	s.send(t, `42/s,2["kv:set","k2","v",0]`)
	s.expectPrefix(t, `43/s,2[0]`)
	if got := scrape(t, ops.URL, `sockwasm_plugin_kv_bytes{plugin="shared"}`); got != 3+5+2+1 {
		t.Errorf("kv bytes after two sets: %v, want 11", got)
	}
	if got := scrape(t, ops.URL, `sockwasm_plugin_kv_entries{plugin="shared"}`); got != 2 {
		t.Errorf("kv entries after two sets: %v, want 2", got)
	}
}
