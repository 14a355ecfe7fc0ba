package plugin

import (
	"encoding/json"
	"testing"
	"time"
)

// TestASSDKHTTP runs the outbound HTTP part of the AssemblyScript SDK
// against a real local HTTP server: a request from an event, its response
// in a call about the socket (whose auth is still the socket's), and a
// URL outside the allowlist refused.
func TestASSDKHTTP(t *testing.T) {
	srv := newHTTPServer(t)
	p := loadASGuest(t, "sdk-as-http", Options{Settings: map[string]Settings{
		"sdk-as-http": {Grants: []string{CapHTTP}, HTTPAllow: []string{srv.URL + "/ok/"}}}})
	s := newNS("/").sock("A", `{"token":"t"}`)
	fetch := func(url, ctx string) string {
		t.Helper()
		return httpAck(t, p, s, "fetch", `["`+url+`","`+ctx+`"]`)
	}
	if got := fetch(srv.URL+"/ok/echo", "as-ctx"); got != `[1]` {
		t.Fatalf("fetch = %s", got)
	}
	var r []struct {
		ID, Status                 int
		Failure, Body, X, Ctx, Sid string
		OK                         bool
		Auth                       json.RawMessage
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		out := s.take()
		if len(out) == 0 {
			if time.Now().After(deadline) {
				t.Fatal("no http-response")
			}
			time.Sleep(5 * time.Millisecond)
			continue
		}
		if out[0].name != "http-response" || json.Unmarshal([]byte(out[0].args), &r) != nil || len(r) != 1 {
			t.Fatalf("got %+v", out)
		}
		break
	}
	if g := r[0]; g.ID != 1 || g.Status != 201 || g.Failure != "" || !g.OK || g.Body != "POST from as ua=sockwasm ct=text/plain" ||
		g.X != "as" || g.Ctx != "as-ctx" || string(g.Auth) != `{"token":"t"}` || g.Sid != "A" {
		t.Fatalf("response = %+v", g)
	}
	if got := fetch(srv.URL+"/no/x", ""); got != `[-4]` {
		t.Fatalf("outside the allowlist = %s", got)
	}
}
