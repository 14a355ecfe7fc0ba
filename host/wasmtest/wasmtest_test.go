package wasmtest_test

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/sockwasm/sockwasm/host/wasmtest"
)

// buildChat builds examples/chat/plugin with the real toolchain.
func buildChat(t *testing.T) string {
	t.Helper()
	out := filepath.Join(t.TempDir(), "chat.wasm")
	cmd := exec.Command(filepath.Join(runtime.GOROOT(), "bin", "go"), "build", "-buildmode=c-shared", "-o", out, "./examples/chat/plugin")
	cmd.Dir = "../.."
	cmd.Env = append(os.Environ(), "GOOS=wasip1", "GOARCH=wasm")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("building the chat plugin: %v\n%s", err, b)
	}
	return out
}

func TestChatPlugin(t *testing.T) {
	h := wasmtest.LoadWasm(t, buildChat(t), `
[[namespace]]
name = "/"
middleware = ["chat"]
handler = "chat"
[[namespace]]
name = "/chat"
middleware = ["chat"]
handler = "chat"
`)
	if h.Name != "chat" {
		t.Fatalf("name %q", h.Name)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	// Connection middleware.
	_, err := h.Dial(ctx, "/chat", `{"token":"bad"}`)
	var ce *wasmtest.ConnectError
	if !errors.As(err, &ce) || ce.Message != "unauthorized" || ce.Data != `{"code":401}` {
		t.Fatalf("bad token: %v", err)
	}

	ann := h.Connect(t, "/chat", `{"name":"ann"}`)
	bob := h.Connect(t, "/chat", "")

	// echo, with a binary attachment.
	m, err := ann.EmitWithAck(ctx, "echo", `[1,{"_placeholder":true,"num":0}]`, []byte{1, 2, 3})
	if err != nil || m.Args != `[1,{"_placeholder":true,"num":0}]` || len(m.Attachments) != 1 || string(m.Attachments[0]) != "\x01\x02\x03" {
		t.Fatalf("echo ack %+v %v", m, err)
	}
	if err := ann.Emit(ctx, "echo", `["x"]`); err != nil {
		t.Fatal(err)
	}
	if m, err := ann.Wait(ctx, "echo-back"); err != nil || m.Args != `["x"]` {
		t.Fatalf("echo-back %+v %v", m, err)
	}

	// whoami.
	m, err = ann.EmitWithAck(ctx, "whoami", `[]`)
	if err != nil || !strings.Contains(m.Args, `"id":"`+ann.ID()+`"`) || !strings.Contains(m.Args, `"auth":{"name":"ann"}`) ||
		!strings.Contains(m.Args, `"transport":"websocket"`) {
		t.Fatalf("whoami %+v %v", m, err)
	}

	// join / say.
	for i, c := range []*wasmtest.Client{ann, bob} {
		m, err := c.EmitWithAck(ctx, "join", `[{"room":"lobby"}]`)
		if want := `[{"ok":true,"room":"lobby","size":` + string(rune('1'+i)) + `}]`; err != nil || m.Args != want {
			t.Fatalf("join %+v %v, want %s", m, err, want)
		}
	}
	if m, err := ann.EmitWithAck(ctx, "say", `[{"room":"lobby","text":"hi"}]`); err != nil || m.Args != `[{"ok":true}]` {
		t.Fatalf("say %+v %v", m, err)
	}
	if m, err := bob.Wait(ctx, "said"); err != nil || m.Args != `[{"room":"lobby","from":"`+ann.ID()+`","text":"hi"}]` {
		t.Fatalf("said %+v %v", m, err)
	}

	// ping-me: the plugin asks the client back and answers later.
	done := make(chan wasmtest.Message, 1)
	go func() {
		m, err := ann.EmitWithAck(ctx, "ping-me", `["q"]`)
		if err != nil {
			t.Error(err)
		}
		done <- m
	}()
	ping, err := ann.Wait(ctx, "server-ping")
	if err != nil || !ping.HasAck || ping.Args != `["q"]` {
		t.Fatalf("server-ping %+v %v", ping, err)
	}
	if err := ann.Ack(ctx, ping.AckID, `["pong"]`); err != nil {
		t.Fatal(err)
	}
	if m := <-done; m.Args != `[{"ok":true,"answer":"pong"}]` {
		t.Fatalf("ping-me ack %+v", m)
	}

	// bye: the server disconnects ann; bob hears that ann left.
	if err := ann.Emit(ctx, "bye", `[]`); err != nil {
		t.Fatal(err)
	}
	if _, err := ann.Wait(ctx, "never"); !errors.Is(err, wasmtest.ErrDisconnected) {
		t.Fatalf("after bye: %v", err)
	}
	if m, err := bob.Wait(ctx, "left"); err != nil || !strings.Contains(m.Args, `"id":"`+ann.ID()+`"`) {
		t.Fatalf("left %+v %v", m, err)
	}
}

func TestLoadWasmDefaultConfig(t *testing.T) {
	h := wasmtest.LoadWasm(t, buildChat(t), "")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c := h.Connect(t, "/", "")
	if m, err := c.EmitWithAck(ctx, "echo", `["a"]`); err != nil || m.Args != `["a"]` {
		t.Fatalf("echo %+v %v", m, err)
	}
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
}
