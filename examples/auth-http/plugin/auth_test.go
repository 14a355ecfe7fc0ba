package main

import (
	"io"
	"net/http"
	"strings"
	"testing"

	sockwasm "github.com/sockwasm/sockwasm/sdk/go"
	"github.com/sockwasm/sockwasm/sdk/go/plugintest"
)

const verifyURL = "https://auth.example.com/verify"

// authService is a fake auth service: "good" is ann, "slow" never
// answers in these tests, anything else is refused.
var authService = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	if r.Method != "POST" || r.Header.Get("Authorization") != "Bearer good" || string(body) != `{"token":"good"}` {
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	io.WriteString(w, `{"sub":"ann","roles":["admin"]}`)
})

func setup(t *testing.T) *plugintest.Harness {
	h := plugintest.New(t)
	h.SetHTTPAllow("https://auth.example.com/")
	if _, err := h.Init(`{"url":"` + verifyURL + `"}`); err != nil {
		t.Fatal(err)
	}
	return h
}

func TestVerified(t *testing.T) {
	h := setup(t)
	s := h.Socket(plugintest.SocketOptions{Auth: `{"token":"good"}`})
	c := s.Connect()
	if c.ConnectError != nil || len(c.HTTPRequests) != 1 {
		t.Fatalf("connect: %+v", c)
	}
	// Before the answer, events are refused.
	if r := s.EventMiddleware("say", `[]`, true); r.Rejection == nil || r.Rejection.Message != "not authenticated" {
		t.Fatalf("event before verification: %+v", r)
	}
	r := h.RoundTrip(c.HTTPRequests[0], authService)
	if e := r.Emitted("authenticated"); e == nil || e.Args != `[{"sub":"ann","roles":["admin"]}]` || r.Disconnect {
		t.Fatalf("response: %+v", r)
	}
	if s.Data() != `{"user":{"sub":"ann","roles":["admin"]}}` {
		t.Fatalf("data = %s", s.Data())
	}
	if r := s.EventMiddleware("say", `[]`, true); r.Rejection != nil {
		t.Fatalf("event after verification: %+v", r.Rejection)
	}
	if a := s.EmitWithAck("whoami", `[]`).Ack(); a == nil || a.Args != `[{"id":"`+s.ID()+`","user":{"sub":"ann","roles":["admin"]}}]` {
		t.Fatalf("whoami = %+v", a)
	}
}

func TestRefused(t *testing.T) {
	h := setup(t)
	if c := h.Socket(plugintest.SocketOptions{}).Connect(); c.ConnectError == nil || string(c.ConnectError.Data) != `{"reason":"missing token"}` {
		t.Fatalf("no token: %+v", c)
	}
	for _, tc := range []struct {
		name, want string
		answer     func(h *plugintest.Harness, r plugintest.HTTPRequest) *plugintest.Call
	}{
		{"rejected", "rejected", func(h *plugintest.Harness, r plugintest.HTTPRequest) *plugintest.Call {
			return h.RoundTrip(r, authService)
		}},
		{"server error", "auth service unavailable", func(h *plugintest.Harness, r plugintest.HTTPRequest) *plugintest.Call {
			return h.RespondHTTP(r, plugintest.HTTPResult{Status: 503})
		}},
		{"not JSON", "auth service unavailable", func(h *plugintest.Harness, r plugintest.HTTPRequest) *plugintest.Call {
			return h.RespondHTTP(r, plugintest.HTTPResult{Status: 200, Body: []byte("yes")})
		}},
		{"timeout", "auth service unavailable", func(h *plugintest.Harness, r plugintest.HTTPRequest) *plugintest.Call {
			return h.FailHTTP(r, sockwasm.HTTPTimeout, "no complete response within http_timeout = 10s")
		}},
	} {
		s := h.Socket(plugintest.SocketOptions{Auth: `{"token":"` + tc.name + `"}`})
		c := s.Connect()
		r := tc.answer(h, c.HTTPRequests[0])
		if e := r.Emitted("unauthorized"); e == nil || e.Args != `[{"reason":"`+tc.want+`"}]` || !r.Disconnect || s.Connected() {
			t.Errorf("%s: %+v", tc.name, r)
		}
		if s.Data() != "" {
			t.Errorf("%s: data %s", tc.name, s.Data())
		}
	}
	// A check that cannot start (outside the allowlist) refuses at once.
	h.SetHTTPAllow("https://other.example.com/")
	s := h.Socket(plugintest.SocketOptions{Auth: `{"token":"good"}`})
	if c := s.Connect(); c.Emitted("unauthorized") == nil || !c.Disconnect || !strings.Contains(c.Logs[0].Message, "not allowed") {
		t.Fatalf("not allowed: %+v", c)
	}
}

func TestConfigRequired(t *testing.T) {
	h := plugintest.New(t)
	if _, err := h.Init(`{}`); err == nil || !strings.Contains(err.Error(), "url is required") {
		t.Fatalf("init = %v", err)
	}
}
