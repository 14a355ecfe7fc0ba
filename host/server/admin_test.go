package server

import (
	"encoding/json"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"
)

// adminTOML enables the admin namespace with user "admin", password
// "s3cret" (a cheap bcrypt cost: the test is not about its strength).
func adminTOML(t *testing.T, extra string) string {
	t.Helper()
	h, err := bcrypt.GenerateFromPassword([]byte("s3cret"), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	return hotTOML + "[admin]\nenabled = true\nusername = \"admin\"\npassword_hash = \"" + string(h) + "\"\n" + extra
}

// dialAdmin connects to /admin with the auth payload and returns the
// connection and the server's answer to the CONNECT (40… or 44…).
func dialAdmin(t *testing.T, addr, auth string) (*sioConn, string) {
	t.Helper()
	return dialRaw(t, addr, "/admin", auth)
}

// adminEvent reads the admin socket's events until one named name,
// skipping others (server_stats, the feed) and acks, and returns its
// arguments.
func adminEvent(t *testing.T, s *sioConn, name string) []json.RawMessage {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		m := s.next(t)
		if strings.HasPrefix(m, "43/admin,") {
			continue // an ack of a request
		}
		if !strings.HasPrefix(m, "42/admin,") {
			t.Fatalf("admin socket got %q", m)
		}
		var ev []json.RawMessage
		if err := json.Unmarshal([]byte(strings.TrimPrefix(m, "42/admin,")), &ev); err != nil {
			t.Fatalf("admin event %q: %v", m, err)
		}
		var got string
		_ = json.Unmarshal(ev[0], &got)
		if got == name {
			return ev[1:]
		}
	}
	t.Fatalf("no %q event", name)
	return nil
}

// adminAck reads the admin socket's messages until the ack of request
// n, skipping events and other acks.
func adminAck(t *testing.T, s *sioConn, n int) {
	t.Helper()
	want := "43/admin," + strconv.Itoa(n) + "[]"
	for {
		m := s.next(t)
		if m == want {
			return
		}
		if !strings.HasPrefix(m, "42/admin,") && !strings.HasPrefix(m, "43/admin,") {
			t.Fatalf("admin socket got %q, want %q", m, want)
		}
	}
}

func str(t *testing.T, raw json.RawMessage) string {
	t.Helper()
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		t.Fatalf("%s is not a string", raw)
	}
	return s
}

// The admin namespace speaks @socket.io/admin-ui 0.5.1's protocol:
// credentials against the bcrypt hash, then a session id; the config,
// every socket, the live feed (connections, rooms, events,
// disconnections), the periodic server stats; and the UI's actions.
func TestAdminNamespace(t *testing.T) {
	e := startHot(t, false, adminTOML(t, ""))

	for _, auth := range []string{``, `{"username":"admin","password":"nope"}`, `{"username":"root","password":"s3cret"}`, `{"sessionId":"0123456789abcdef"}`} {
		if _, m := dialAdmin(t, e.addr, auth); m != `44/admin,{"message":"invalid credentials"}` {
			t.Fatalf("auth %s: %q", auth, m)
		}
	}
	admin, m := dialAdmin(t, e.addr, `{"username":"admin","password":"s3cret"}`)
	if !strings.HasPrefix(m, `40/admin,{"sid":`) {
		t.Fatalf("login: %q", m)
	}
	session := str(t, adminEvent(t, admin, "session")[0])
	if !regexp.MustCompile(`^[0-9a-f]{16}$`).MatchString(session) {
		t.Fatalf("session id %q", session)
	}
	var cfg struct {
		SupportedFeatures []string `json:"supportedFeatures"`
	}
	if err := json.Unmarshal(adminEvent(t, admin, "config")[0], &cfg); err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(cfg.SupportedFeatures, ","); got != "EMIT,JOIN,LEAVE,DISCONNECT,MJOIN,MLEAVE,MDISCONNECT,AGGREGATED_EVENTS,ALL_EVENTS" {
		t.Fatalf("features %s", got)
	}
	var all []struct {
		ID, Nsp, Transport, ClientID string
		Rooms                        []string
	}
	if err := json.Unmarshal(adminEvent(t, admin, "all_sockets")[0], &all); err != nil {
		t.Fatal(err)
	}
	if len(all) != 1 || all[0].Nsp != "/admin" || len(all[0].ClientID) != 12 || all[0].Transport != "websocket" {
		t.Fatalf("all_sockets: %+v", all)
	}

	// The session id logs in without the password.
	if _, m := dialAdmin(t, e.addr, `{"sessionId":"`+session+`"}`); !strings.HasPrefix(m, `40/admin,{"sid":`) {
		t.Fatalf("session login: %q", m)
	}
	adminEvent(t, admin, "socket_connected") // that second admin socket

	// A client arrives: its own room, then the connection, with its
	// handshake (no auth payload).
	c := dialNsp(t, e.addr, "/")
	joined := adminEvent(t, admin, "room_joined")
	id := str(t, joined[2])
	if str(t, joined[0]) != "/" || str(t, joined[1]) != id {
		t.Fatalf("room_joined %s", joined)
	}
	conn := adminEvent(t, admin, "socket_connected")
	var sock struct {
		ID, Nsp   string
		Rooms     []string
		Handshake map[string]any
	}
	if err := json.Unmarshal(conn[0], &sock); err != nil {
		t.Fatal(err)
	}
	if sock.ID != id || sock.Nsp != "/" || len(sock.Rooms) != 1 || sock.Handshake["address"] != "127.0.0.1" || sock.Handshake["auth"] != nil {
		t.Fatalf("socket_connected %s", conn[0])
	}
	if h, _ := sock.Handshake["headers"].(map[string]any); h["host"] != e.addr {
		t.Fatalf("handshake headers %v: want host %s", h, e.addr)
	}

	// Its events, with their arguments.
	c.send(t, `421["echo",{"n":1},"x"]`)
	c.expectPrefix(t, "431")
	got := adminEvent(t, admin, "event_received")
	if str(t, got[0]) != "/" || str(t, got[1]) != id || string(got[2]) != `["echo",{"n":1},"x"]` {
		t.Fatalf("event_received %s", got)
	}

	// The UI's actions: join a room, emit to it, leave, disconnect. A
	// request is acked once carried out.
	admin.send(t, `42/admin,1["join","/","vip","`+id+`"]`)
	if j := adminEvent(t, admin, "room_joined"); str(t, j[1]) != "vip" || str(t, j[2]) != id {
		t.Fatalf("room_joined %s", j)
	}
	admin.send(t, `42/admin,2["emit","/","vip","hello",{"from":"admin"}]`)
	if m := c.expectPrefix(t, `42["hello"`); m != `42["hello",{"from":"admin"}]` {
		t.Fatalf("client got %q", m)
	}
	admin.send(t, `42/admin,3["leave","/","vip","`+id+`"]`)
	if l := adminEvent(t, admin, "room_left"); str(t, l[1]) != "vip" {
		t.Fatalf("room_left %s", l)
	}
	// Requests for a namespace that does not exist create none.
	admin.send(t, `42/admin,4["join","/nope","r"]`)
	adminAck(t, admin, 4)
	if e.srv.SocketIO().Of("/nope") != nil {
		t.Fatal("an admin request created a namespace")
	}

	admin.send(t, `42/admin,5["_disconnect","/",false,"`+id+`"]`)
	if m := c.expectPrefix(t, "41"); m != "41" {
		t.Fatalf("client got %q", m)
	}
	d := adminEvent(t, admin, "socket_disconnected")
	if str(t, d[0]) != "/" || str(t, d[1]) != id || str(t, d[2]) != "server namespace disconnect" {
		t.Fatalf("socket_disconnected %s", d)
	}

	// Every two seconds: the stats. The aggregated events of the reports
	// add up to what happened: seven sessions opened, and messages both
	// ways (CONNECTs, events, acks, the feed).
	type stats struct {
		ServerID         string
		ClientsCount     int
		AggregatedEvents []struct {
			Type  string
			Count int
		}
		Namespaces []struct {
			Name         string
			SocketsCount int
		}
	}
	var st stats
	events := map[string]int{}
	for deadline := time.Now().Add(10 * time.Second); events["rawConnection"] < 7; {
		if time.Now().After(deadline) {
			t.Fatalf("aggregated events %+v", events)
		}
		st = stats{}
		if err := json.Unmarshal(adminEvent(t, admin, "server_stats")[0], &st); err != nil {
			t.Fatal(err)
		}
		for _, e := range st.AggregatedEvents {
			events[e.Type] += e.Count
		}
	}
	if events["rawConnection"] != 7 || events["packetsIn"] < 10 || events["packetsOut"] < 10 || events["bytesIn"] < 100 || events["bytesOut"] < 100 {
		t.Fatalf("aggregated events %+v", events)
	}
	// Seven Engine.IO sessions: the four refused logins' (a refused
	// CONNECT leaves the session open), two admins', the client's.
	if st.ServerID == "" || st.ClientsCount != 7 {
		t.Fatalf("server_stats %+v", st)
	}
	socks := map[string]int{}
	for _, n := range st.Namespaces {
		socks[n.Name] = n.SocketsCount
	}
	if socks["/admin"] != 2 || socks["/"] != 0 {
		t.Fatalf("namespaces %+v", st.Namespaces)
	}
}

// A read-only admin watches and cannot act; production mode sends no
// sockets nor events, only the stats.
func TestAdminReadOnlyAndProduction(t *testing.T) {
	e := startHot(t, false, adminTOML(t, "readonly = true\nmode = \"production\"\n"))
	admin, m := dialAdmin(t, e.addr, `{"username":"admin","password":"s3cret"}`)
	if !strings.HasPrefix(m, `40/admin,{"sid":`) {
		t.Fatalf("login: %q", m)
	}
	adminEvent(t, admin, "session")
	var cfg struct {
		SupportedFeatures []string `json:"supportedFeatures"`
	}
	if err := json.Unmarshal(adminEvent(t, admin, "config")[0], &cfg); err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(cfg.SupportedFeatures, ","); got != "AGGREGATED_EVENTS" {
		t.Fatalf("features %s", got)
	}
	c := dialNsp(t, e.addr, "/")
	admin.send(t, `42/admin,1["_disconnect","/",true]`)
	adminAck(t, admin, 1)
	c.send(t, `421["echo"]`)
	c.expectPrefix(t, "431")
	// No feed: the next event is the stats, with the client still there.
	m = admin.next(t)
	if !strings.HasPrefix(m, `42/admin,["server_stats",`) || !strings.Contains(m, `"rawConnection"`) {
		t.Fatalf("admin got %q", m)
	}
}
