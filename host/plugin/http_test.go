package plugin

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// httpServer is a real local HTTP server for the outbound HTTP tests:
// paths under /ok/ are the plugins' allowlist, /no/ is outside it.
type httpServer struct {
	*httptest.Server
	other   *httptest.Server // another host (another port), outside the allowlist
	release chan struct{}    // closed to let /ok/slow answer
	gone    atomic.Int32     // /ok/slow requests whose context ended (canceled)
	hits    atomic.Int32     // requests served
	// otherHits counts the requests the other host served.
	otherHits atomic.Int32
}

func newHTTPServer(t *testing.T) *httpServer {
	t.Helper()
	s := &httpServer{release: make(chan struct{})}
	s.other = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.otherHits.Add(1)
		io.WriteString(w, "other host")
	}))
	mux := http.NewServeMux()
	mux.HandleFunc("/ok/echo", func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		w.Header().Set("X-Reply", r.Header.Get("X-Test"))
		w.WriteHeader(201)
		fmt.Fprintf(w, "%s %s ua=%s ct=%s", r.Method, body, r.UserAgent(), r.Header.Get("Content-Type"))
	})
	mux.HandleFunc("/ok/redirect-out", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, s.other.URL+"/ok/echo", http.StatusFound)
	})
	mux.HandleFunc("/ok/redirect-no", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/no/x", http.StatusFound)
	})
	mux.HandleFunc("/ok/redirect-in", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/ok/echo", http.StatusTemporaryRedirect)
	})
	mux.HandleFunc("/ok/slow", func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-s.release:
			io.WriteString(w, "late")
		case <-r.Context().Done():
			s.gone.Add(1)
		}
	})
	mux.HandleFunc("/ok/big", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", "5000")
		w.Write(make([]byte, 5000))
	})
	mux.HandleFunc("/ok/stream", func(w http.ResponseWriter, r *http.Request) {
		chunk := make([]byte, 512)
		for r.Context().Err() == nil {
			if _, err := w.Write(chunk); err != nil {
				return
			}
			w.(http.Flusher).Flush()
		}
	})
	mux.HandleFunc("/ok/chain", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Next", s.URL+"/ok/echo")
		io.WriteString(w, "first")
	})
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "anything") })
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.hits.Add(1)
		mux.ServeHTTP(w, r)
	}))
	t.Cleanup(func() {
		select {
		case <-s.release:
		default:
			close(s.release)
		}
		s.Server.Close()
		s.other.Close()
	})
	return s
}

// httpSettings grants the http guest what it uses, its allowlist srv's
// /ok/ and the given limits.
func httpSettings(srv *httpServer, lim Limits) Settings {
	return Settings{Grants: []string{CapHTTP, CapKV, CapTimers}, HTTPAllow: []string{srv.URL + "/ok/"}, Limits: lim}
}

func loadHTTPGuest(t *testing.T, srv *httpServer, lim Limits) *Plugin {
	t.Helper()
	return loadGuest(t, "http", Options{Settings: map[string]Settings{"http": httpSettings(srv, lim)}})
}

// httpReply is what the guest reports of an HTTP_RESPONSE call.
type httpReply struct {
	Version, Failure, Detail, Body, X, Ctx string
	ID, Status                             int
}

// waitReply waits for the guest to emit "http-response" to s.
func waitReply(t *testing.T, s *fakeSock) httpReply {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		s.mu.Lock()
		if len(s.out) == 0 {
			s.mu.Unlock()
			time.Sleep(5 * time.Millisecond)
			continue
		}
		p := s.out[0]
		s.out = s.out[1:]
		s.mu.Unlock()
		if p.kind != "emit" || p.name != "http-response" {
			t.Fatalf("unexpected packet %+v", p)
		}
		var r []httpReply
		if err := json.Unmarshal([]byte(p.args), &r); err != nil || len(r) != 1 {
			t.Fatalf("http-response %s: %v", p.args, err)
		}
		return r[0]
	}
	t.Fatal("no http-response")
	return httpReply{}
}

// start asks the guest for a request from s and returns the ack (the id or
// the error).
func startHTTP(t *testing.T, p *Plugin, s *fakeSock, req, ctx string) string {
	t.Helper()
	return httpAck(t, p, s, "http", `[`+req+`,"`+ctx+`"]`)
}

// httpAck makes an EVENT call that starts a request and returns its ack.
// The response call about the same socket may come before the test looks
// (a local server is quick): what else the socket was sent stays queued
// for waitReply.
func httpAck(t *testing.T, p *Plugin, s *fakeSock, name, args string) string {
	t.Helper()
	id := ackSeq.Add(1)
	p.event(s, ev(name, args, id))
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, o := range s.out {
		if o.kind == "ack" && o.ackID == id {
			s.out = append(s.out[:i:i], s.out[i+1:]...)
			return o.args
		}
	}
	t.Fatalf("%s %s: no ack in %+v", name, args, s.out)
	return ""
}

// A request and its response reach the plugin: method, headers, body and
// context out, status, headers and body back, in a call about the socket
// that started it.
func TestHTTPRequestResponse(t *testing.T) {
	srv := newHTTPServer(t)
	p := loadHTTPGuest(t, srv, Limits{})
	s := newNS("/").sock("A", "")
	id := startHTTP(t, p, s, `{"method":"POST","url":"`+srv.URL+`/ok/echo#frag","headers":{"X-Test":"hi","Content-Type":"text/plain"},"body":"payload"}`, "c1")
	if !regexp.MustCompile(`^\[\d+\]$`).MatchString(id) {
		t.Fatalf("http = %s, want an id", id)
	}
	r := waitReply(t, s)
	want := httpReply{Version: "v1", ID: r.ID, Status: 201, Body: "POST payload ua=sockwasm ct=text/plain", X: "hi", Ctx: "c1"}
	if r != want || fmt.Sprintf("[%d]", r.ID) != id {
		t.Fatalf("reply = %+v, want %+v (id %s)", r, want, id)
	}
	// A redirect inside the allowlist is followed (307: the body again).
	startHTTP(t, p, s, `{"method":"PUT","url":"`+srv.URL+`/ok/redirect-in","body":"again"}`, "c2")
	if r := waitReply(t, s); r.Status != 201 || r.Body != "PUT again ua=sockwasm ct=" || r.Ctx != "c2" {
		t.Fatalf("after a redirect in the allowlist: %+v", r)
	}
	// The response call may start the next request (its slot is free).
	startHTTP(t, p, s, `{"url":"`+srv.URL+`/ok/chain"}`, "chain")
	if r := waitReply(t, s); r.Body != "first" {
		t.Fatalf("chain = %+v", r)
	}
	if r := waitReply(t, s); r.Ctx != "chained" || r.Status != 201 {
		t.Fatalf("chained = %+v", r)
	}
	waitInFlight(t, p, 0)
}

func waitInFlight(t *testing.T, p *Plugin, n int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for p.Stats().HTTPInFlight != n {
		if time.Now().After(deadline) {
			t.Fatalf("in flight = %d, want %d", p.Stats().HTTPInFlight, n)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// A URL outside http_allow, or any URL with an empty allowlist, is
// refused with ERR_NOT_ALLOWED before anything is sent; so is
// http_request in a connection middleware and in INIT.
func TestHTTPNotAllowed(t *testing.T) {
	srv := newHTTPServer(t)
	p := loadHTTPGuest(t, srv, Limits{})
	s := newNS("/").sock("A", "")
	host := strings.TrimPrefix(srv.URL, "http://")
	for _, u := range []string{
		srv.URL + "/no/x", srv.URL + "/ok", srv.URL + "/okx/", srv.other.URL + "/ok/echo",
		"https://" + host + "/ok/echo", strings.Replace(srv.URL, "127.0.0.1", "127.0.0.1.evil.example", 1) + "/ok/echo",
		strings.Replace(srv.URL, "127.0.0.1", "localhost", 1) + "/ok/echo",
		"http://evil.example/" + host + "/ok/echo", srv.URL + "/ok%2Fecho",
	} {
		if got := startHTTP(t, p, s, `{"url":"`+u+`"}`, ""); got != `["sockwasm: not allowed in this call"]` {
			t.Errorf("%s: %s, want ERR_NOT_ALLOWED", u, got)
		}
	}
	if p.Stats().Refusals == 0 {
		t.Fatal("refusals not counted")
	}
	if n := srv.hits.Load(); n != 0 {
		t.Fatalf("%d requests reached the server", n)
	}

	// An empty allowlist refuses everything.
	q := loadGuest(t, "http", Options{Settings: map[string]Settings{"http": {Grants: []string{CapHTTP, CapKV, CapTimers}}}})
	if got := startHTTP(t, q, s, `{"url":"`+srv.URL+`/ok/echo"}`, ""); got != `["sockwasm: not allowed in this call"]` {
		t.Fatalf("empty allowlist: %s", got)
	}

	// Connection middleware and INIT may not start requests.
	mw := newNS("/").sock("M", `{"url":"`+srv.URL+`/ok/echo"}`)
	if rej := p.middleware(mw); rej != nil {
		t.Fatalf("middleware refused: %+v", rej)
	}
	if got := string(mw.Data()); got != `"sockwasm: not allowed in this call"` {
		t.Fatalf("in middleware: %s", got)
	}
	st := httpSettings(srv, Limits{})
	st.Config = []byte(`{"init_url":"` + srv.URL + `/ok/echo"}`)
	r := loadGuest(t, "http", Options{Settings: map[string]Settings{"http": st}})
	waitKV(t, r, "init", "sockwasm: not allowed in this call")
	if n := srv.hits.Load(); n != 0 {
		t.Fatalf("%d requests reached the server", n)
	}
}

// A module that imports http_request without the "http" grant is refused
// at load, naming the grant; an invalid http_allow entry refuses the
// version too.
func TestHTTPGrantRequired(t *testing.T) {
	m := newTestManager(t)
	path := install(t, "http", t.TempDir(), "http")
	_, err := m.Reload(context.Background(), path, Settings{Grants: []string{CapKV, CapTimers}, HTTPAllow: []string{"http://127.0.0.1/"}})
	if err == nil || !strings.Contains(err.Error(), `imports sockwasm_v1.http_request but is not granted "http" (add grants = ["kv", "timers", "http"] to [plugin.http] in server.toml)`) {
		t.Fatalf("err = %v", err)
	}
	_, err = m.Reload(context.Background(), path, Settings{Grants: []string{CapHTTP, CapKV, CapTimers}, HTTPAllow: []string{"127.0.0.1/x"}})
	if err == nil || !strings.Contains(err.Error(), `http_allow: "127.0.0.1/x"`) {
		t.Fatalf("err = %v", err)
	}
	if m.Get("http") != nil {
		t.Fatal("a refused plugin was added")
	}
}

// Malformed requests are ERR_INVALID, oversized ones ERR_LIMIT.
func TestHTTPInvalid(t *testing.T) {
	srv := newHTTPServer(t)
	p := loadHTTPGuest(t, srv, Limits{MaxHTTPRequestBytes: 10})
	s := newNS("/").sock("A", "")
	const invalid, limit = `["sockwasm: invalid argument"]`, `["sockwasm: limit exceeded"]`
	for _, tc := range []struct{ req, want string }{
		{`{"method":"TRACE","url":"` + srv.URL + `/ok/echo"}`, invalid},
		{`{"method":"get","url":"` + srv.URL + `/ok/echo"}`, invalid},
		{`{"url":"ftp://127.0.0.1/ok/"}`, invalid},
		{`{"url":"/ok/echo"}`, invalid},
		{`{"url":"` + strings.Replace(srv.URL, "http://", "http://user:pw@", 1) + `/ok/echo"}`, invalid},
		{`{"url":"` + srv.URL + `/ok/../no/x"}`, invalid},
		{`{"url":"` + srv.URL + `/ok/echo","headers":{"Host":"evil.example"}}`, invalid},
		{`{"url":"` + srv.URL + `/ok/echo","headers":{"Bad Name":"x"}}`, invalid},
		{`{"url":"` + srv.URL + `/ok/echo","headers":{"X-Test":"a\r\nInjected: 1"}}`, invalid},
		{`{"method":"POST","url":"` + srv.URL + `/ok/echo","body":"more than ten bytes"}`, limit},
	} {
		if got := startHTTP(t, p, s, tc.req, ""); got != tc.want {
			t.Errorf("%s: %s, want %s", tc.req, got, tc.want)
		}
	}
	big := strings.Repeat("x", MaxHTTPContext+1)
	if got := startHTTP(t, p, s, `{"url":"`+srv.URL+`/ok/echo"}`, big); got != limit {
		t.Errorf("context over 64 KiB: %s", got)
	}
	if n := srv.hits.Load(); n != 0 {
		t.Fatalf("%d requests reached the server", n)
	}
}

// A redirect to another host, or out of the allowlist on the same host,
// is not followed: the plugin gets a not_allowed failure.
func TestHTTPRedirectRefused(t *testing.T) {
	srv := newHTTPServer(t)
	p := loadHTTPGuest(t, srv, Limits{})
	s := newNS("/").sock("A", "")
	for _, path := range []string{"/ok/redirect-out", "/ok/redirect-no"} {
		startHTTP(t, p, s, `{"url":"`+srv.URL+path+`"}`, "r")
		r := waitReply(t, s)
		if r.Status != 0 || r.Failure != "not_allowed" || !strings.Contains(r.Detail, "is outside http_allow: not followed") || r.Ctx != "r" {
			t.Fatalf("%s: %+v", path, r)
		}
	}
	if srv.otherHits.Load() != 0 {
		t.Fatal("the redirect to another host was followed")
	}
}

// A server that never answers gets the timeout failure; one that streams
// forever, or announces too large a body, the too_large failure.
func TestHTTPTimeoutAndTooLarge(t *testing.T) {
	srv := newHTTPServer(t)
	p := loadHTTPGuest(t, srv, Limits{HTTPTimeout: 300 * time.Millisecond, MaxHTTPResponseBytes: 4096})
	s := newNS("/").sock("A", "")
	startHTTP(t, p, s, `{"url":"`+srv.URL+`/ok/slow"}`, "slow")
	if r := waitReply(t, s); r.Failure != "timeout" || r.Status != 0 || !strings.Contains(r.Detail, "http_timeout = 300ms") {
		t.Fatalf("slow: %+v", r)
	}
	// A HEAD response announces a large body without sending it.
	startHTTP(t, p, s, `{"method":"HEAD","url":"`+srv.URL+`/ok/big"}`, "head")
	if r := waitReply(t, s); r.Failure != "" || r.Status != 200 || r.Ctx != "head" {
		t.Fatalf("HEAD: %+v", r)
	}
	for _, path := range []string{"/ok/stream", "/ok/big"} {
		startHTTP(t, p, s, `{"url":"`+srv.URL+path+`"}`, "big")
		if r := waitReply(t, s); r.Failure != "too_large" || r.Body != "" || !strings.Contains(r.Detail, "max_http_response_bytes = 4096") {
			t.Fatalf("%s: %+v", path, r)
		}
	}
	waitInFlight(t, p, 0)
}

// A plugin that fires requests in a loop gets ERR_LIMIT beyond
// max_http_concurrent; slots free as responses are delivered.
func TestHTTPConcurrencyLimit(t *testing.T) {
	srv := newHTTPServer(t)
	p := loadHTTPGuest(t, srv, Limits{MaxHTTPConcurrent: 4})
	s := newNS("/").sock("A", "")
	if got := stAck(t, p, s, "flood", `["`+srv.URL+`/ok/slow",50]`); got != `[4,"sockwasm: limit exceeded"]` {
		t.Fatalf("flood = %s", got)
	}
	if n := p.Stats().HTTPInFlight; n != 4 {
		t.Fatalf("in flight = %d", n)
	}
	close(srv.release)
	for range 4 {
		if r := waitReply(t, s); r.Body != "late" || r.Ctx != "flood" {
			t.Fatalf("reply = %+v", r)
		}
	}
	waitInFlight(t, p, 0)
	if got := stAck(t, p, s, "flood", `["`+srv.URL+`/ok/echo",4]`); got != `[4,""]` {
		t.Fatalf("flood after = %s", got)
	}
	for range 4 {
		waitReply(t, s)
	}
}

// A request started in a call about no socket (a TIMER call) answers into
// a call about no socket; one whose socket has left still answers, and
// sending to that socket fails.
func TestHTTPSocketless(t *testing.T) {
	srv := newHTTPServer(t)
	p := loadHTTPGuest(t, srv, Limits{})
	s := newNS("/").sock("A", "")
	if got := stAck(t, p, s, "timer", `["`+srv.URL+`/ok/echo","t1"]`); got != `[0]` {
		t.Fatalf("timer = %s", got)
	}
	waitKV(t, p, "resp:t1", `{"version":"v1","id":1,"status":201,"failure":"","detail":"","body":"GET  ua=sockwasm ct=","x":"","ctx":"t1"}`)

	startHTTP(t, p, s, `{"url":"`+srv.URL+`/ok/slow"}`, "left")
	s.mu.Lock()
	s.gone = true
	s.mu.Unlock()
	close(srv.release)
	waitKV(t, p, "emit:left", "sockwasm: disconnected")
}

// Requests belong to the plugin: a reload lets a request in flight answer
// into the new version; Remove cancels the requests in flight, waits for
// their goroutines, and makes no call.
func TestHTTPReloadAndRemove(t *testing.T) {
	srv := newHTTPServer(t)
	loadGuest(t, "http-v2", Options{Settings: map[string]Settings{"http-v2": httpSettings(srv, Limits{})}}).Close(context.Background())
	m := newTestManager(t)
	dir := t.TempDir()
	path := install(t, "http", dir, "http")
	st := httpSettings(srv, Limits{})
	reload(t, m, path, st)
	p := m.Get("http")
	s := newNS("/").sock("A", "")
	startHTTP(t, p, s, `{"url":"`+srv.URL+`/ok/slow"}`, "across")
	install(t, "http-v2", dir, "http")
	reload(t, m, path, st)
	close(srv.release)
	if r := waitReply(t, s); r.Version != "v2" || r.Body != "late" || r.Ctx != "across" {
		t.Fatalf("across a reload: %+v", r)
	}

	srv2 := newHTTPServer(t)
	st2 := httpSettings(srv2, Limits{HTTPTimeout: time.Minute})
	reload(t, m, path, st2)
	if got := stAck(t, p, s, "flood", `["`+srv2.URL+`/ok/slow",5]`); got != `[5,""]` {
		t.Fatalf("flood = %s", got)
	}
	deadline := time.Now().Add(10 * time.Second)
	for srv2.hits.Load() < 5 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	start := time.Now()
	if err := m.Remove(context.Background(), "http"); err != nil {
		t.Fatal(err)
	}
	if took := time.Since(start); took > 5*time.Second {
		t.Fatalf("Remove took %s", took)
	}
	if n := p.http.work.Len(); n != 0 {
		t.Fatalf("%d request goroutines left after Remove", n)
	}
	for srv2.gone.Load() < 5 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	if n := srv2.gone.Load(); n != 5 {
		t.Fatalf("%d of 5 requests canceled", n)
	}
	if out := s.take(); len(out) != 0 {
		t.Fatalf("calls after Remove: %+v", out)
	}
	if _, code := p.http.reserve(16); code != ErrFailed {
		t.Fatalf("reserve after Remove = %d", code)
	}
}
