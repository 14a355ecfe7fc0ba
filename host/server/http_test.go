package server

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
)

// authService is a real local auth service for examples/auth-http:
// POST /auth/verify accepts the token "good" (user ann), holds "slow"
// until release is closed, and refuses the others.
func authService(t *testing.T) (*httptest.Server, chan struct{}) {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		switch {
		case r.URL.Path != "/auth/verify" || r.Method != "POST":
			w.WriteHeader(http.StatusNotFound)
		case r.Header.Get("Authorization") == "Bearer good" && string(body) == `{"token":"good"}`:
			io.WriteString(w, `{"sub":"ann"}`)
		case r.Header.Get("Authorization") == "Bearer slow":
			select {
			case <-release:
				io.WriteString(w, `{"sub":"slow"}`)
			case <-r.Context().Done():
			}
		default:
			w.WriteHeader(http.StatusUnauthorized)
		}
	}))
	t.Cleanup(func() {
		select {
		case <-release:
		default:
			close(release)
		}
		srv.Close()
	})
	return srv, release
}

// examples/auth-http against a real auth service: a socket is admitted
// once the service accepts its token; refused tokens are disconnected
// with the reason; events before the answer are refused.
func TestExampleAuthHTTP(t *testing.T) {
	svc, release := authService(t)
	e := startHot(t, false, `
[plugin.auth-http]
grants = ["http"]
http_allow = ["`+svc.URL+`/auth/"]
[plugin.auth-http.config]
url = "`+svc.URL+`/auth/verify"
[[namespace]]
name = "/"
middleware = ["auth-http"]
event_middleware = ["auth-http"]
handler = "chat"
[namespace.events]
whoami = "auth-http"
`, authHTTPWasm, chatWasm)

	c, m := dialRaw(t, e.addr, "/", `{"token":"good"}`)
	if !strings.HasPrefix(m, `40{"sid":`) {
		t.Fatalf("connect = %q", m)
	}
	if m := c.next(t); m != `42["authenticated",{"sub":"ann"}]` {
		t.Fatalf("got %q", m)
	}
	if got := c.call(t, 1, "whoami"); !strings.HasSuffix(got, `"user":{"sub":"ann"}}]`) {
		t.Fatalf("whoami = %s", got)
	}
	if got := c.call(t, 2, "echo", "hi"); got != `["hi"]` {
		t.Fatalf("echo = %s", got)
	}

	bad, m := dialRaw(t, e.addr, "/", `{"token":"forged"}`)
	if !strings.HasPrefix(m, `40{"sid":`) {
		t.Fatalf("connect = %q", m)
	}
	if m := bad.next(t); m != `42["unauthorized",{"reason":"rejected"}]` {
		t.Fatalf("got %q", m)
	}
	if m := bad.next(t); m != `41` {
		t.Fatalf("got %q, want the disconnect", m)
	}

	if _, m := dialRaw(t, e.addr, "/", `{}`); m != `44{"message":"unauthorized","data":{"reason":"missing token"}}` {
		t.Fatalf("no token: %q", m)
	}

	slow, m := dialRaw(t, e.addr, "/", `{"token":"slow"}`)
	if !strings.HasPrefix(m, `40{"sid":`) {
		t.Fatalf("connect = %q", m)
	}
	if got := slow.call(t, 1, "echo", "early"); got != `[{"error":"not authenticated"}]` {
		t.Fatalf("event before verification: %s", got)
	}
	close(release)
	if m := slow.next(t); m != `42["authenticated",{"sub":"slow"}]` {
		t.Fatalf("got %q", m)
	}
	if got := slow.call(t, 2, "echo", "late"); got != `["late"]` {
		t.Fatalf("echo = %s", got)
	}
}

// examples/webhook against a real webhook: each "say" reaches the room
// and is posted, signed; the sender's ack says whether the webhook took
// it.
func TestExampleWebhook(t *testing.T) {
	var mu sync.Mutex
	var posts []map[string]any
	status := http.StatusNoContent
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		mac := hmac.New(sha256.New, []byte("s3cret"))
		mac.Write(body)
		if r.URL.Path != "/hooks/chat" || r.Header.Get("X-Webhook-Signature") != "sha256="+hex.EncodeToString(mac.Sum(nil)) {
			w.WriteHeader(http.StatusForbidden)
			return
		}
		var p map[string]any
		json.Unmarshal(body, &p)
		mu.Lock()
		posts = append(posts, p)
		code := status
		mu.Unlock()
		w.WriteHeader(code)
	}))
	defer hook.Close()
	e := startHot(t, false, `
[plugin.webhook]
grants = ["http"]
http_allow = ["`+hook.URL+`/hooks/"]
[plugin.webhook.config]
url = "`+hook.URL+`/hooks/chat"
secret = "s3cret"
[[namespace]]
name = "/"
handler = "chat"
[namespace.events]
say = "webhook"
`, webhookWasm, chatWasm)
	ann := dialNsp(t, e.addr, "/")
	bob := dialNsp(t, e.addr, "/")
	for i, c := range []*sioConn{ann, bob} {
		if got := c.call(t, 1, "join", map[string]string{"room": "lobby"}); !strings.HasPrefix(got, `[{"ok":true,"room":"lobby"`) {
			t.Fatalf("join %d = %s", i, got)
		}
	}
	if got := ann.call(t, 2, "say", map[string]string{"room": "lobby", "text": "hello"}); got != `[{"ok":true,"delivered":true}]` {
		t.Fatalf("say = %s", got)
	}
	if m := bob.next(t); !strings.HasPrefix(m, `42["said",{"room":"lobby","from":`) || !strings.HasSuffix(m, `"text":"hello"}]`) {
		t.Fatalf("bob got %q", m)
	}
	mu.Lock()
	if len(posts) != 1 || posts[0]["room"] != "lobby" || posts[0]["text"] != "hello" || posts[0]["at"] == nil {
		t.Fatalf("posts = %+v", posts)
	}
	status = http.StatusInternalServerError
	mu.Unlock()
	if got := ann.call(t, 3, "say", map[string]string{"room": "lobby", "text": "again"}); got != `[{"ok":true,"delivered":false,"error":"status 500"}]` {
		t.Fatalf("say = %s", got)
	}
}
