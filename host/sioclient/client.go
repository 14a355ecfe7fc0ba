package sioclient

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/coder/websocket"
)

// ErrDisconnected is returned by a Client whose namespace or connection
// was closed.
var ErrDisconnected = errors.New("sioclient: disconnected")

// ConnectError is the server's refusal of a connection (CONNECT_ERROR).
type ConnectError struct {
	// Message is its message.
	Message string
	// Data is its data, raw JSON ("" when none).
	Data string
}

// Error implements error.
func (e *ConnectError) Error() string {
	if e.Data != "" {
		return "connect refused: " + e.Message + " " + e.Data
	}
	return "connect refused: " + e.Message
}

// Message is an event or an ack from the server.
type Message struct {
	// Name is the event name ("" for an ack).
	Name string
	// Args are the arguments, a JSON array (placeholders left in place).
	Args string
	// Attachments are the binary attachments.
	Attachments [][]byte
	// HasAck reports an event asking for an ack; answer it with
	// Client.Ack(AckID, …).
	HasAck bool
	AckID  uint64
}

// Client is a Socket.IO v4 client connected to one namespace over
// WebSocket. Its methods may be called from several goroutines.
type Client struct {
	conn   *websocket.Conn
	nsp    string
	id     string
	ctx    context.Context
	cancel context.CancelFunc
	events chan Message

	mu      sync.Mutex
	wmu     sync.Mutex
	nextAck uint64
	acks    map[uint64]chan Message
	err     error
	done    chan struct{}
}

// Dial opens a WebSocket connection to the Socket.IO server at base
// (http://host:port) and endpoint path (e.g. "/socket.io/"), and joins
// namespace nsp (default "/") with auth (raw JSON, "" for none). A
// refusal returns a *ConnectError.
func Dial(ctx context.Context, base, path, nsp, auth string) (*Client, error) {
	if nsp == "" {
		nsp = "/"
	}
	if auth != "" && !json.Valid([]byte(auth)) {
		return nil, fmt.Errorf("auth %q is not JSON", auth)
	}
	u := "ws" + strings.TrimPrefix(base, "http") + path + "?EIO=4&transport=websocket"
	conn, _, err := websocket.Dial(ctx, u, nil)
	if err != nil {
		return nil, err
	}
	conn.SetReadLimit(64 << 20)
	cctx, cancel := context.WithCancel(context.Background())
	c := &Client{conn: conn, nsp: nsp, ctx: cctx, cancel: cancel, events: make(chan Message, 1024),
		acks: map[uint64]chan Message{}, done: make(chan struct{})}
	fail := func(err error) (*Client, error) {
		cancel()
		conn.CloseNow()
		return nil, err
	}
	if _, b, err := conn.Read(ctx); err != nil || len(b) == 0 || b[0] != '0' {
		return fail(fmt.Errorf("no Engine.IO open packet: %q %v", b, err))
	}
	connect := "40"
	if nsp != "/" {
		connect += nsp + ","
	}
	if err := conn.Write(ctx, websocket.MessageText, []byte(connect+auth)); err != nil {
		return fail(err)
	}
	for {
		p, err := c.readPacket(ctx)
		if err != nil {
			return fail(err)
		}
		if p.nsp != nsp {
			continue
		}
		switch p.typ {
		case '0':
			var v struct {
				SID string `json:"sid"`
			}
			json.Unmarshal([]byte(p.data), &v)
			c.id = v.SID
			go c.readLoop()
			return c, nil
		case '4':
			var v struct {
				Message string          `json:"message"`
				Data    json.RawMessage `json:"data"`
			}
			json.Unmarshal([]byte(p.data), &v)
			return fail(&ConnectError{Message: v.Message, Data: string(v.Data)})
		}
	}
}

// ID returns the socket id the server gave.
func (c *Client) ID() string { return c.id }

// packet is a decoded Socket.IO packet.
type packet struct {
	typ   byte
	nsp   string
	id    int64 // -1: none
	data  string
	atts  [][]byte
	close bool // the Engine.IO session ended
}

// readPacket reads the next Socket.IO packet, answering pings.
func (c *Client) readPacket(ctx context.Context) (packet, error) {
	for {
		_, b, err := c.conn.Read(ctx)
		if err != nil {
			return packet{}, err
		}
		if len(b) == 0 {
			continue
		}
		switch b[0] {
		case '2':
			c.wmu.Lock()
			c.write(ctx, []byte("3"+string(b[1:])), false)
			c.wmu.Unlock()
			continue
		case '1':
			return packet{}, ErrDisconnected
		case '4':
		default:
			continue
		}
		p, n, err := parsePacket(string(b[1:]))
		if err != nil {
			return packet{}, err
		}
		for range n {
			typ, bin, err := c.conn.Read(ctx)
			if err != nil {
				return packet{}, err
			}
			if typ != websocket.MessageBinary {
				return packet{}, fmt.Errorf("wasmtest: want a binary attachment, got %q", bin)
			}
			p.atts = append(p.atts, bin)
		}
		return p, nil
	}
}

// parsePacket decodes a Socket.IO packet and its attachment count.
func parsePacket(s string) (packet, int, error) {
	p := packet{nsp: "/", id: -1}
	if s == "" {
		return p, 0, errors.New("wasmtest: empty packet")
	}
	p.typ, s = s[0], s[1:]
	n := 0
	if p.typ == '5' || p.typ == '6' {
		i := strings.IndexByte(s, '-')
		if i < 0 {
			return p, 0, fmt.Errorf("wasmtest: bad binary packet %q", s)
		}
		n, _ = strconv.Atoi(s[:i])
		s = s[i+1:]
	}
	if strings.HasPrefix(s, "/") {
		i := strings.IndexByte(s, ',')
		if i < 0 {
			p.nsp, s = s, ""
		} else {
			p.nsp, s = s[:i], s[i+1:]
		}
	}
	i := 0
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
	}
	if i > 0 {
		p.id, _ = strconv.ParseInt(s[:i], 10, 64)
		s = s[i:]
	}
	p.data = s
	return p, n, nil
}

func (c *Client) readLoop() {
	defer close(c.done)
	defer close(c.events)
	for {
		p, err := c.readPacket(c.ctx)
		if err != nil {
			c.stop(ErrDisconnected)
			return
		}
		if p.nsp != c.nsp {
			continue
		}
		switch p.typ {
		case '1': // DISCONNECT from the server
			c.stop(ErrDisconnected)
			return
		case '2', '5':
			var arr []json.RawMessage
			if err := json.Unmarshal([]byte(p.data), &arr); err != nil || len(arr) == 0 {
				continue
			}
			m := Message{Args: joinArgs(arr[1:]), Attachments: p.atts}
			json.Unmarshal(arr[0], &m.Name)
			if p.id >= 0 {
				m.HasAck, m.AckID = true, uint64(p.id)
			}
			select {
			case c.events <- m:
			default: // a test not reading its events loses the oldest ones
				<-c.events
				c.events <- m
			}
		case '3', '6':
			c.mu.Lock()
			ch := c.acks[uint64(p.id)]
			delete(c.acks, uint64(p.id))
			c.mu.Unlock()
			if ch != nil {
				ch <- Message{Args: p.data, Attachments: p.atts}
			}
		}
	}
}

func joinArgs(a []json.RawMessage) string {
	var b bytes.Buffer
	b.WriteByte('[')
	for i, x := range a {
		if i > 0 {
			b.WriteByte(',')
		}
		b.Write(x)
	}
	b.WriteByte(']')
	return b.String()
}

// stop records the client's end once.
func (c *Client) stop(err error) {
	c.mu.Lock()
	if c.err == nil {
		c.err = err
	}
	for id, ch := range c.acks {
		close(ch)
		delete(c.acks, id)
	}
	c.mu.Unlock()
}

// write sends one Engine.IO message; bin for a binary one.
func (c *Client) write(ctx context.Context, b []byte, bin bool) error {
	typ := websocket.MessageText
	if bin {
		typ = websocket.MessageBinary
	}
	return c.conn.Write(ctx, typ, b)
}

// send writes a packet of type typ ('2' event, '3' ack), with its
// attachments, as one unit.
func (c *Client) send(ctx context.Context, typ byte, id int64, data string, atts [][]byte) error {
	var b strings.Builder
	b.WriteByte('4')
	if len(atts) > 0 {
		b.WriteByte(typ + 3) // BINARY_EVENT, BINARY_ACK
		b.WriteString(strconv.Itoa(len(atts)) + "-")
	} else {
		b.WriteByte(typ)
	}
	if c.nsp != "/" {
		b.WriteString(c.nsp + ",")
	}
	if id >= 0 {
		b.WriteString(strconv.FormatInt(id, 10))
	}
	b.WriteString(data)
	c.wmu.Lock()
	defer c.wmu.Unlock()
	if err := c.write(ctx, []byte(b.String()), false); err != nil {
		return err
	}
	for _, a := range atts {
		if err := c.write(ctx, a, true); err != nil {
			return err
		}
	}
	return nil
}

// event encodes ["name", args…].
func event(name, args string) (string, error) {
	var arr []json.RawMessage
	if err := json.Unmarshal([]byte(args), &arr); err != nil {
		return "", fmt.Errorf("wasmtest: args %q are not a JSON array", args)
	}
	n, _ := json.Marshal(name)
	return joinArgs(append([]json.RawMessage{n}, arr...)), nil
}

// Emit sends event name with args (a JSON array, placeholders
// {"_placeholder":true,"num":i} for the attachments) without an ack.
func (c *Client) Emit(ctx context.Context, name, args string, atts ...[]byte) error {
	data, err := event(name, args)
	if err != nil {
		return err
	}
	return c.send(ctx, '2', -1, data, atts)
}

// EmitWithAck sends event name asking for an ack and waits for the
// answer, whose Args are the ack's arguments, or for ctx to end.
func (c *Client) EmitWithAck(ctx context.Context, name, args string, atts ...[]byte) (Message, error) {
	data, err := event(name, args)
	if err != nil {
		return Message{}, err
	}
	ch := make(chan Message, 1)
	c.mu.Lock()
	if c.err != nil {
		c.mu.Unlock()
		return Message{}, c.err
	}
	id := c.nextAck
	c.nextAck++
	c.acks[id] = ch
	c.mu.Unlock()
	if err := c.send(ctx, '2', int64(id), data, atts); err != nil {
		return Message{}, err
	}
	select {
	case m, ok := <-ch:
		if !ok {
			return Message{}, ErrDisconnected
		}
		return m, nil
	case <-ctx.Done():
		c.mu.Lock()
		delete(c.acks, id)
		c.mu.Unlock()
		return Message{}, ctx.Err()
	}
}

// Ack answers the server's ack id (Message.AckID) with args.
func (c *Client) Ack(ctx context.Context, id uint64, args string, atts ...[]byte) error {
	if !isArray(args) {
		return fmt.Errorf("wasmtest: args %q are not a JSON array", args)
	}
	return c.send(ctx, '3', int64(id), args, atts)
}

func isArray(s string) bool {
	var a []json.RawMessage
	return json.Unmarshal([]byte(s), &a) == nil
}

// Next returns the next event from the server, or ErrDisconnected once
// the namespace or the connection is closed and every event was read.
func (c *Client) Next(ctx context.Context) (Message, error) {
	select {
	case m, ok := <-c.events:
		if !ok {
			return Message{}, ErrDisconnected
		}
		return m, nil
	case <-ctx.Done():
		return Message{}, ctx.Err()
	}
}

// Wait returns the next event named name, skipping others.
func (c *Client) Wait(ctx context.Context, name string) (Message, error) {
	for {
		m, err := c.Next(ctx)
		if err != nil || m.Name == name {
			return m, err
		}
	}
}

// Close leaves the namespace and closes the connection.
func (c *Client) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	leave := "41"
	if c.nsp != "/" {
		leave += c.nsp + ","
	}
	c.wmu.Lock()
	c.write(ctx, []byte(leave), false)
	c.wmu.Unlock()
	err := c.conn.Close(websocket.StatusNormalClosure, "")
	c.cancel()
	<-c.done
	return err
}
