package plugin

import (
	"context"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/sockwasm/sockwasm/host/engineio"
	"github.com/sockwasm/sockwasm/host/socketio"
)

// mwHandler runs the plugin's event middleware before its handler and
// acks a rejection, as the router does.
type mwHandler struct{ nsHandler }

func (h mwHandler) OnEvent(s *socketio.Socket, ev *socketio.Event) {
	if r := h.p.EventMiddleware(s, ev); r != nil {
		if ev.HasAck {
			_ = s.Ack(ev.AckID, r.AckArgs(), nil)
		}
		return
	}
	h.p.Event(s, ev)
}

func TestEndToEndSocketAPI(t *testing.T) {
	t.Parallel()
	p := loadGuest(t, "sockapi", Options{})
	srv := socketio.New(socketio.Options{Logger: testLogger(t)})
	srv.Handle("/", mwHandler{nsHandler{p}})
	eng := engineio.New(engineio.Options{Path: "/socket.io/", Logger: testLogger(t)}, srv)
	ts := httptest.NewServer(eng)
	defer func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		eng.Shutdown(ctx)
		ts.Close()
	}()

	a := dial(t, ts.URL)
	aid := a.connect("/", `{"user":"ann"}`)
	if d := srv.Of("/").Socket(aid).Data("sockapi"); string(d) != `{"user":"ann"}` {
		t.Fatalf("data %q", d)
	}
	a.send(`421["handshake"]`)
	got := a.read()
	if !strings.HasPrefix(got, `431["Go-http-client/1.1","4","127.0.0.1",`) || !strings.HasSuffix(got, `,{"user":"ann"},"/socket.io/?EIO=4&transport=websocket"]`) {
		t.Fatalf("handshake %q", got)
	}

	b, c := dial(t, ts.URL), dial(t, ts.URL)
	bid, cid := b.connect("/", ""), c.connect("/", "")
	a.send(`422["join",["` + bid + `","` + cid + `"],["grp"]]`)
	a.expect(`432[0]`)
	a.send(`423["fetch",["grp"]]`)
	got = a.read()
	for _, want := range []string{`["` + bid + `",`, `["` + cid + `",`, `"grp"`} {
		if !strings.Contains(got, want) || !strings.HasPrefix(got, `433[[`) {
			t.Fatalf("fetch %q lacks %s", got, want)
		}
	}

	// Broadcast with acks: b answers, c does not; the plugin acks a with
	// the status (1: timeout) and the answers.
	a.send(`424["bcastack","hi"]`)
	b.expect(`420["q","hi"]`)
	c.expect(`420["q","hi"]`)
	b.send(`430["yes"]`)
	a.expect(`434[1,"` + bid + `",["yes"]]`)

	// Event middleware: rejected with an error ack; passes otherwise.
	a.send(`425["forbidden"]`)
	a.expect(`435[{"error":"no way","data":{"code":7}}]`)
	a.send(`426["probe"]`)
	a.send(`427["getdata"]`)
	a.expect(`437[{"emit":-4,"ack":-4,"join":-4,"bcast":-4,"kick":-4,"name":"probe"}]`)

	// Volatile to a writable socket goes out.
	a.send(`428["volatile","v1"]`)
	a.expect(`42["v","v1"]`)
	a.expect(`438[0]`)

	// Disconnect the group but the caller, closing their sessions.
	a.send(`429["kick",["grp"]]`)
	a.expect(`439[0]`)
	b.expect(`41`)
	c.expect(`41`)
	deadline := time.Now().Add(3 * time.Second)
	for srv.Of("/").Len() != 1 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	if n := srv.Of("/").Len(); n != 1 {
		t.Fatalf("%d sockets left", n)
	}
}
