package plugintest_test

import (
	"testing"
	"time"

	sockwasm "github.com/sockwasm/sockwasm/sdk/go"
	"github.com/sockwasm/sockwasm/sdk/go/plugintest"
)

// Server-side events: answering another node, asking the others.
func init() {
	sockwasm.OnServerEvent(func(e *sockwasm.ServerEvent) {
		if e.Name == "who" && e.HasAck() {
			e.Ack([]byte(`["node-a",{"ignored":true}]`))
		}
		sockwasm.KV.Set("last-server-event", []byte(e.Namespace+" "+e.Name+" "+string(e.Args().Raw())), 0)
	})
	sockwasm.OnEvent("census", func(s *sockwasm.Socket, e *sockwasm.Event) {
		err := sockwasm.Of("/").ServerSideEmitWithAck("who", []byte(`[1]`), 2*time.Second, []byte("census"))
		if err != nil {
			e.Ack([]byte(`["error"]`))
			return
		}
		sockwasm.Of("/").ServerSideEmit("hello", []byte(`["all"]`))
		e.Ack([]byte(`["asked"]`))
	})
	sockwasm.OnServerAck(func(r *sockwasm.ServerAckResponse) {
		sockwasm.KV.Set("census", append(append([]byte(string(r.Context)+" "), r.Answers.Raw()...), []byte(map[bool]string{true: " timeout", false: ""}[r.TimedOut])...), 0)
	})
}

func TestServerSideEvents(t *testing.T) {
	h := plugintest.New(t)
	c := h.ServerEvent("/", "who", `[1,"x"]`, true)
	if !c.Answered || c.ServerAnswer != `"node-a"` || c.Kind != plugintest.KindServerEvent {
		t.Fatalf("answer: %+v", c)
	}
	if v, _ := h.KV("last-server-event"); v != `/ who [1,"x"]` {
		t.Fatalf("last event %q", v)
	}
	// No answer expected: Ack says so.
	if c := h.ServerEvent("/", "who", `[]`, false); c.Answered {
		t.Fatalf("answered an event that expected none: %+v", c)
	}
	s := h.Socket(plugintest.SocketOptions{})
	c = s.EmitWithAck("census", `[]`)
	if c.Ack().Args != `["asked"]` || len(c.Emits) != 2 {
		t.Fatalf("census: %+v", c)
	}
	ask, hello := c.Emits[0], c.Emits[1]
	if !ask.Server || !ask.WithAck || ask.Name != "who" || ask.Namespace != "/" || ask.Timeout != 2*time.Second ||
		!hello.Server || hello.WithAck || hello.Args != `["all"]` {
		t.Fatalf("server emits: %+v", c.Emits)
	}
	h.ServerAnswers(ask, `["b","c"]`, true)
	if v, _ := h.KV("census"); v != `census ["b","c"] timeout` {
		t.Fatalf("answers %q", v)
	}
}
