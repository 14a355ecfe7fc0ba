package main

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"testing"

	sockwasm "github.com/sockwasm/sockwasm/sdk/go"
	"github.com/sockwasm/sockwasm/sdk/go/plugintest"
)

const hookURL = "https://hooks.example.com/chat"

func TestSayPostsToTheWebhook(t *testing.T) {
	h := plugintest.New(t)
	h.SetHTTPAllow("https://hooks.example.com/")
	if _, err := h.Init(`{"url":"` + hookURL + `","secret":"s3"}`); err != nil {
		t.Fatal(err)
	}
	ann := h.Socket(plugintest.SocketOptions{ID: "ann", Rooms: []string{"lobby"}})
	bob := h.Socket(plugintest.SocketOptions{ID: "bob", Rooms: []string{"lobby"}})
	c := ann.EmitWithAck("say", `[{"room":"lobby","text":"hello"}]`)
	if e := c.Emitted("said"); e == nil || e.Args != `[{"room":"lobby","from":"ann","text":"hello"}]` || len(e.Receivers) != 1 || e.Receivers[0] != bob.ID() {
		t.Fatalf("said: %+v", c.Emits)
	}
	if c.Ack() != nil || len(c.HTTPRequests) != 1 {
		t.Fatalf("say: %+v", c)
	}
	req := c.HTTPRequests[0]
	var got struct {
		Room, From, Text string
		At               int64
	}
	if err := json.Unmarshal(req.Body, &got); err != nil || got.Room != "lobby" || got.From != "ann" || got.Text != "hello" || got.At == 0 ||
		req.Method != "POST" || req.URL != hookURL {
		t.Fatalf("request: %+v (%s)", req, req.Body)
	}
	h.RoundTrip(req, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		mac := hmac.New(sha256.New, []byte("s3"))
		mac.Write(body)
		if r.Header.Get("X-Webhook-Signature") != "sha256="+hex.EncodeToString(mac.Sum(nil)) {
			w.WriteHeader(http.StatusForbidden)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	}))
	if a := ann.Ack(c.AckID); a == nil || a.Args != `[{"ok":true,"delivered":true}]` {
		t.Fatalf("ack: %+v", a)
	}

	// The webhook's failure reaches the client's ack.
	c = ann.EmitWithAck("say", `[{"room":"lobby","text":"again"}]`)
	h.FailHTTP(c.HTTPRequests[0], sockwasm.HTTPTimeout, "no complete response within http_timeout = 10s")
	if a := ann.Ack(c.AckID); a == nil || a.Args != `[{"ok":true,"delivered":false,"error":"timeout"}]` {
		t.Fatalf("ack after a timeout: %+v", a)
	}
	c = ann.EmitWithAck("say", `[{"room":"lobby","text":"third"}]`)
	h.RespondHTTP(c.HTTPRequests[0], plugintest.HTTPResult{Status: 500})
	if a := ann.Ack(c.AckID); a == nil || a.Args != `[{"ok":true,"delivered":false,"error":"status 500"}]` {
		t.Fatalf("ack after a 500: %+v", a)
	}
	// Without an ack asked, the response changes nothing.
	c = ann.Emit("say", `[{"room":"lobby","text":"quiet"}]`)
	if r := h.RespondHTTP(c.HTTPRequests[0], plugintest.HTTPResult{Status: 200}); len(r.Acks) != 0 || len(r.Errors) != 0 {
		t.Fatalf("no ack: %+v", r)
	}
	// Busy: the bound on posts in flight.
	h.SetMaxHTTPConcurrent(0)
	if a := ann.EmitWithAck("say", `[{"room":"lobby","text":"busy"}]`).Ack(); a == nil || a.Args != `[{"ok":true,"delivered":false,"error":"busy"}]` {
		t.Fatalf("busy: %+v", a)
	}
	if a := ann.EmitWithAck("say", `[{"room":""}]`).Ack(); a == nil || a.Args != `[{"ok":false,"error":"bad request"}]` {
		t.Fatalf("bad request: %+v", a)
	}
}
