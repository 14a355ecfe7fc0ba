package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/coder/websocket"
)

const bareUsage = `usage: sockwasm-bench bare [flags]

The transport-only reference: coder/websocket plus the least Engine.IO and
Socket.IO framing that answers the load generator's frames, with no
Socket.IO layer and no plugins. WebSocket only (a polling request gets
400), namespace "/" only, no per-message compression:

  open packet 0{sid,…}, a ping every -ping-interval (pongs are not checked)
  40                     → 40{"sid":…}
  42<id>["echo",…]       → 43<id>[…]; 45<n>-<id>["echo",…] + n attachments → 46<n>-<id>[…] + the same
  join / leave {room}    → ack [{"ok":true,"room":…,"size":N}]
  say {room, text}       → 42["said",{"room":…,"from":<sid>,"text":…}] to the room but the sender, ack [{"ok":true}]

Writes go through a bounded queue per connection, drained by a goroutine
that runs only while it is non-empty (as in sockwasm); a broadcast is
encoded once. Prints {"ready":true,"port":N} once listening; SIGTERM or
SIGINT stops it.

Flags:
`

func bareMain(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("bare", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(stderr, bareUsage)
		fs.PrintDefaults()
	}
	listen := fs.String("listen", "127.0.0.1:0", "host:port")
	path := fs.String("path", "/socket.io/", "Engine.IO endpoint path")
	ping := fs.Duration("ping-interval", 25*time.Second, "ping interval announced and kept")
	if err := fs.Parse(args); err != nil {
		if err == flag.ErrHelp {
			return 0
		}
		return 1
	}
	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		fmt.Fprintf(stderr, "sockwasm-bench bare: %v\n", err)
		return 1
	}
	s := newBareServer(*ping)
	mux := http.NewServeMux()
	mux.Handle(*path, s)
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	go func() {
		<-ctx.Done()
		_ = srv.Close()
	}()
	fmt.Fprintf(stdout, `{"ready":true,"port":%d}`+"\n", ln.Addr().(*net.TCPAddr).Port)
	if err := srv.Serve(ln); err != nil && err != http.ErrServerClosed {
		fmt.Fprintf(stderr, "sockwasm-bench bare: %v\n", err)
		return 1
	}
	return 0
}

// bareServer is the transport-only server.
type bareServer struct {
	ping  time.Duration
	ids   atomic.Uint64
	mu    sync.Mutex
	rooms map[string]*bareRoom
}

// bareRoom is a room's members; list is rebuilt after a change and never
// modified, so a broadcast iterates it without the lock.
type bareRoom struct {
	members map[*bareConn]struct{}
	list    []*bareConn
}

func newBareServer(ping time.Duration) *bareServer {
	return &bareServer{ping: ping, rooms: make(map[string]*bareRoom)}
}

// bareConn is one connection. Everything it sends goes through queue.
type bareConn struct {
	srv     *bareServer
	ws      *websocket.Conn
	sid     string
	rooms   []string // joined, touched by the reader goroutine only
	timer   *time.Timer
	mu      sync.Mutex
	queue   []bareMsg
	writing bool
	closed  bool
}

type bareMsg struct {
	binary bool
	b      []byte
}

// bareMaxQueue bounds a connection's queue: beyond, it is closed.
const bareMaxQueue = 1024

func (s *bareServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	if q.Get("EIO") != "4" || q.Get("transport") != "websocket" {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusBadRequest)
		_, _ = io.WriteString(w, `{"code":0,"message":"Transport unknown (this server is WebSocket only)"}`)
		return
	}
	ws, err := websocket.Accept(w, r, &websocket.AcceptOptions{InsecureSkipVerify: true})
	if err != nil {
		return
	}
	ws.SetReadLimit(1 << 20)
	id := strconv.FormatUint(s.ids.Add(1), 36)
	c := &bareConn{srv: s, ws: ws, sid: strings.Repeat("0", max(0, 20-len(id))) + id}
	c.send(bareMsg{b: fmt.Appendf(nil, `0{"sid":"%s","upgrades":[],"pingInterval":%d,"pingTimeout":20000,"maxPayload":1000000}`,
		c.sid, s.ping.Milliseconds())})
	c.timer = time.AfterFunc(s.ping, c.sendPing)
	defer c.close()
	c.serve()
}

func (c *bareConn) sendPing() {
	c.send(bareMsg{b: []byte{eioPing}})
	c.timer.Reset(c.srv.ping)
}

// serve is the connection's read loop.
func (c *bareConn) serve() {
	ctx := context.Background()
	var buf []byte
	var pending []byte // a binary event's header awaiting its attachments
	var atts [][]byte
	want := 0
	for {
		typ, r, err := c.ws.Reader(ctx)
		if err != nil {
			return
		}
		buf = buf[:0]
		for {
			if len(buf) == cap(buf) {
				buf = append(buf, 0)[:len(buf)]
			}
			n, err := r.Read(buf[len(buf):cap(buf)])
			buf = buf[:len(buf)+n]
			if err == io.EOF {
				break
			}
			if err != nil {
				return
			}
		}
		if typ == websocket.MessageBinary {
			if want == 0 {
				return // an attachment nobody announced
			}
			atts = append(atts, bytes.Clone(buf))
			if want--; want == 0 {
				c.event(pending, atts)
				pending, atts = nil, nil
			}
			continue
		}
		p := buf
		switch {
		case len(p) == 0:
			return
		case p[0] == eioPong:
		case p[0] != eioMessage || len(p) < 2:
			return
		case p[1] == sioConnect:
			c.send(bareMsg{b: []byte(`40{"sid":"` + c.sid + `"}`)})
		case p[1] == sioDisconnect:
			return
		case p[1] == sioEvent:
			c.event(p, nil)
		case p[1] == sioBinaryEvent:
			n, j, ok := parseUint(p, 2)
			if !ok || j >= len(p) || p[j] != '-' || n == 0 || n > 10 {
				return
			}
			pending, want = bytes.Clone(p), int(n)
		default:
			return
		}
	}
}

// event answers one EVENT or BINARY_EVENT packet.
func (c *bareConn) event(p []byte, atts [][]byte) {
	i := 2
	if p[1] == sioBinaryEvent {
		_, j, _ := parseUint(p, 2)
		i = j + 1
	}
	id, j, hasID := parseUint(p, i)
	if j >= len(p) || p[j] != '[' || j+1 >= len(p) || p[j+1] != '"' {
		return
	}
	end := bytes.IndexByte(p[j+2:], '"')
	if end < 0 {
		return
	}
	name := p[j+2 : j+2+end]
	rest := p[j+2+end+1:] // `,args…]` or `]`
	args := p[j:]
	ack := func(b []byte) {
		if !hasID {
			return
		}
		m := []bareMsg{{b: b}}
		for _, a := range atts {
			m = append(m, bareMsg{binary: true, b: a})
		}
		c.send(m...)
	}
	ackHeader := func() []byte {
		if len(atts) > 0 {
			b := []byte{eioMessage, sioBinaryAck}
			b = strconv.AppendInt(b, int64(len(atts)), 10)
			return strconv.AppendUint(append(b, '-'), id, 10)
		}
		return strconv.AppendUint([]byte{eioMessage, sioAck}, id, 10)
	}
	switch string(name) {
	case "echo":
		b := append(ackHeader(), '[')
		if len(rest) > 0 && rest[0] == ',' {
			rest = rest[1:]
		}
		ack(append(b, rest...))
		return
	case "join", "leave", "say":
	default:
		return
	}
	atts = nil
	var in []json.RawMessage
	var arg struct {
		Room string          `json:"room"`
		Text json.RawMessage `json:"text"`
	}
	if json.Unmarshal(args, &in) != nil || len(in) < 2 || json.Unmarshal(in[1], &arg) != nil || arg.Room == "" ||
		(string(name) == "say" && (len(arg.Text) == 0 || arg.Text[0] != '"')) {
		ack(append(ackHeader(), `[{"ok":false,"error":"bad request"}]`...))
		return
	}
	room, _ := json.Marshal(arg.Room)
	switch string(name) {
	case "join", "leave":
		n := c.srv.membership(c, arg.Room, string(name) == "join")
		b := append(ackHeader(), `[{"ok":true,"room":`...)
		b = append(b, room...)
		b = append(b, `,"size":`...)
		b = strconv.AppendInt(b, int64(n), 10)
		ack(append(b, "}]"...))
	case "say":
		b := append([]byte(`42["said",{"room":`), room...)
		b = append(b, `,"from":"`+c.sid+`","text":`...)
		b = append(b, arg.Text...)
		b = append(b, "}]"...)
		c.srv.mu.Lock()
		var list []*bareConn
		if r := c.srv.rooms[arg.Room]; r != nil {
			list = r.list
		}
		c.srv.mu.Unlock()
		for _, m := range list {
			if m != c {
				m.send(bareMsg{b: b})
			}
		}
		ack(append(ackHeader(), `[{"ok":true}]`...))
	}
}

// membership joins or leaves a room and returns its size.
func (s *bareServer) membership(c *bareConn, room string, join bool) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.rooms[room]
	if r == nil {
		if !join {
			return 0
		}
		r = &bareRoom{members: make(map[*bareConn]struct{})}
		s.rooms[room] = r
	}
	_, in := r.members[c]
	switch {
	case join && !in:
		r.members[c] = struct{}{}
		c.rooms = append(c.rooms, room)
	case !join && in:
		delete(r.members, c)
		for i, x := range c.rooms {
			if x == room {
				c.rooms = append(c.rooms[:i], c.rooms[i+1:]...)
				break
			}
		}
	default:
		return len(r.members)
	}
	r.list = make([]*bareConn, 0, len(r.members))
	for m := range r.members {
		r.list = append(r.list, m)
	}
	if len(r.members) == 0 {
		delete(s.rooms, room)
	}
	return len(r.members)
}

// send queues messages, in order, and starts the writer if it is idle.
func (c *bareConn) send(msgs ...bareMsg) {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return
	}
	if len(c.queue)+len(msgs) > bareMaxQueue {
		c.closed = true
		c.mu.Unlock()
		c.ws.CloseNow() // a slow consumer
		return
	}
	c.queue = append(c.queue, msgs...)
	if !c.writing {
		c.writing = true
		go c.flush()
	}
	c.mu.Unlock()
}

// flush writes the queue until it is empty, then exits.
func (c *bareConn) flush() {
	var batch []bareMsg
	for {
		c.mu.Lock()
		if len(c.queue) == 0 || c.closed {
			c.writing = false
			c.mu.Unlock()
			return
		}
		batch, c.queue = c.queue, batch[:0]
		c.mu.Unlock()
		for _, m := range batch {
			typ := websocket.MessageText
			if m.binary {
				typ = websocket.MessageBinary
			}
			if err := c.ws.Write(context.Background(), typ, m.b); err != nil {
				c.mu.Lock()
				c.closed = true
				c.mu.Unlock()
				c.ws.CloseNow()
				break
			}
		}
		clear(batch)
	}
}

func (c *bareConn) close() {
	c.timer.Stop()
	for len(c.rooms) > 0 {
		c.srv.membership(c, c.rooms[0], false)
	}
	c.mu.Lock()
	c.closed = true
	c.mu.Unlock()
	c.ws.CloseNow()
}
