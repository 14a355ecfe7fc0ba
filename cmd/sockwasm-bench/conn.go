package main

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/coder/websocket"
)

// dialer opens the generator's connections, spreading them over local
// source addresses: connection i uses source i/perSource. One loopback
// address reaches about 28k connections to one server port (the ephemeral
// port range); 127.0.0.2, 127.0.0.3… reach the same 127.0.0.1 server.
type dialer struct {
	base      string // http://host:port
	path      string // /socket.io/
	perSource int
	clients   []*http.Client // one per source
	// compress offers compression as browsers do: permessage-deflate on
	// WebSocket (a dial the server does not accept it on fails),
	// Accept-Encoding: gzip on long-polling GETs.
	compress bool
}

// newDialer prepares the HTTP clients. sources is a comma-separated list
// of local IPs, "" for the system's choice, or "auto": the system's choice
// for the first perSource connections, then 127.0.0.2, 127.0.0.3… when the
// server is on an IPv4 loopback address. maxConns is the most connections
// this run opens (auto creates that many sources).
func newDialer(base, path, sources string, perSource, maxConns, idlePerHost int) (*dialer, error) {
	u, err := url.Parse(base)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("-url %q: want http://host:port", base)
	}
	if perSource < 1 {
		return nil, fmt.Errorf("-per-source must be at least 1")
	}
	d := &dialer{base: strings.TrimRight(base, "/"), path: path, perSource: perSource}
	var ips []net.IP
	switch sources {
	case "":
		ips = []net.IP{nil}
	case "auto":
		ips = []net.IP{nil}
		host := u.Hostname()
		if ip := net.ParseIP(host); (ip != nil && ip.IsLoopback() && ip.To4() != nil) || host == "localhost" {
			for k := 1; k*perSource < maxConns; k++ {
				if k > 250 {
					return nil, fmt.Errorf("%d connections need more than 250 loopback sources at -per-source %d", maxConns, perSource)
				}
				ips = append(ips, net.IPv4(127, 0, 0, byte(1+k)))
			}
		}
	default:
		for _, s := range strings.Split(sources, ",") {
			ip := net.ParseIP(strings.TrimSpace(s))
			if ip == nil {
				return nil, fmt.Errorf("-sources: %q is not an IP address", s)
			}
			ips = append(ips, ip)
		}
	}
	for _, ip := range ips {
		nd := &net.Dialer{Timeout: 30 * time.Second, KeepAlive: -1}
		if ip != nil {
			nd.LocalAddr = &net.TCPAddr{IP: ip}
		}
		tr := &http.Transport{
			DialContext:         nd.DialContext,
			DisableCompression:  true,
			MaxIdleConnsPerHost: idlePerHost,
			IdleConnTimeout:     90 * time.Second,
			ForceAttemptHTTP2:   false,
		}
		d.clients = append(d.clients, &http.Client{Transport: tr})
	}
	return d, nil
}

// client returns the HTTP client of connection i.
func (d *dialer) client(i int) *http.Client {
	k := i / d.perSource
	if k >= len(d.clients) {
		k = len(d.clients) - 1
	}
	return d.clients[k]
}

// sources returns the number of source addresses connections up to n use.
func (d *dialer) sources(n int) int {
	return min(len(d.clients), (n+d.perSource-1)/d.perSource)
}

// wsConn is one Socket.IO connection over WebSocket, joined to namespace "/".
type wsConn struct {
	c   *websocket.Conn
	sid string // the Socket.IO socket id from the CONNECT reply
	buf []byte // read buffer, reused
}

// dialWS opens connection i: the WebSocket, the Engine.IO open packet, the
// Socket.IO CONNECT and its reply.
func (d *dialer) dialWS(ctx context.Context, i int) (*wsConn, error) {
	u := "ws" + strings.TrimPrefix(d.base, "http") + d.path + "?EIO=4&transport=websocket"
	opts := &websocket.DialOptions{HTTPClient: d.client(i)}
	if d.compress {
		// What browsers and the ws package offer: plain permessage-deflate,
		// the server decides on context takeover. 1024 is engine.io-client's
		// threshold in Node.
		opts.CompressionMode = websocket.CompressionContextTakeover
		opts.CompressionThreshold = 1024
	}
	c, resp, err := websocket.Dial(ctx, u, opts)
	if err != nil {
		return nil, err
	}
	if ext := resp.Header.Get("Sec-WebSocket-Extensions"); d.compress && !strings.HasPrefix(ext, "permessage-deflate") {
		c.CloseNow()
		return nil, fmt.Errorf("the server did not accept permessage-deflate (Sec-WebSocket-Extensions %q)", ext)
	}
	c.SetReadLimit(16 << 20)
	w := &wsConn{c: c, buf: make([]byte, 0, 512)}
	fail := func(err error) (*wsConn, error) {
		c.CloseNow()
		return nil, err
	}
	_, p, err := w.read(ctx)
	if err != nil {
		return fail(err)
	}
	if len(p) < 2 || p[0] != eioOpen || !json.Valid(p[1:]) {
		return fail(fmt.Errorf("open packet %q", clip(p)))
	}
	if err := c.Write(ctx, websocket.MessageText, []byte{eioMessage, sioConnect}); err != nil {
		return fail(err)
	}
	for {
		_, p, err = w.read(ctx)
		if err != nil {
			return fail(err)
		}
		if len(p) == 1 && p[0] == eioPing { // a ping before the reply
			if err := w.write(ctx, []byte{eioPong}); err != nil {
				return fail(err)
			}
			continue
		}
		break
	}
	sid, err := parseConnectReply(p)
	if err != nil {
		return fail(err)
	}
	w.sid = sid
	return w, nil
}

// parseConnectReply reads the socket id of `40{"sid":"…"}`.
func parseConnectReply(p []byte) (string, error) {
	if len(p) < 3 || p[0] != eioMessage || p[1] != sioConnect {
		if len(p) >= 2 && p[0] == eioMessage && p[1] == sioConnectError {
			return "", fmt.Errorf("connect refused: %s", clip(p[2:]))
		}
		return "", fmt.Errorf("CONNECT reply %q", clip(p))
	}
	var r struct {
		SID string `json:"sid"`
	}
	if err := json.Unmarshal(p[2:], &r); err != nil || r.SID == "" {
		return "", fmt.Errorf("CONNECT reply %q", clip(p))
	}
	return r.SID, nil
}

// read reads one message into the connection's buffer: valid until the next read.
func (w *wsConn) read(ctx context.Context) (websocket.MessageType, []byte, error) {
	typ, r, err := w.c.Reader(ctx)
	if err != nil {
		return 0, nil, err
	}
	b := w.buf[:0]
	for {
		if len(b) == cap(b) {
			b = append(b, 0)[:len(b)]
		}
		n, err := r.Read(b[len(b):cap(b)])
		b = b[:len(b)+n]
		if err == io.EOF {
			break
		}
		if err != nil {
			return 0, nil, err
		}
	}
	w.buf = b
	return typ, b, nil
}

func (w *wsConn) write(ctx context.Context, p []byte) error {
	return w.c.Write(ctx, websocket.MessageText, p)
}

func (w *wsConn) writeBinary(ctx context.Context, p []byte) error {
	return w.c.Write(ctx, websocket.MessageBinary, p)
}

// closedErr reports an error that only says the connection was closed by us.
func closedErr(err error) bool {
	return errors.Is(err, net.ErrClosed) || websocket.CloseStatus(err) != -1 || errors.Is(err, context.Canceled)
}

// clip shortens a packet for an error message.
func clip(p []byte) string {
	if len(p) > 80 {
		return string(p[:80]) + "…"
	}
	return string(p)
}

// pollConn is one Socket.IO connection over Engine.IO long-polling only.
type pollConn struct {
	hc  *http.Client
	url string // endpoint with EIO, transport and sid
	sid string // the Socket.IO socket id, once connected
	// gzip asks for gzip responses (dialer.compress); gz decodes them and
	// compressed counts them.
	gzip       bool
	gz         *gzip.Reader
	compressed int64
}

// dialPolling opens connection i: the handshake GET, a POST of the
// CONNECT packet and GETs until its reply.
func (d *dialer) dialPolling(ctx context.Context, i int) (*pollConn, error) {
	hc := d.client(i)
	base := d.base + d.path + "?EIO=4&transport=polling"
	body, err := httpDo(ctx, hc, http.MethodGet, base, nil)
	if err != nil {
		return nil, err
	}
	if len(body) < 2 || body[0] != eioOpen {
		return nil, fmt.Errorf("handshake %q", clip(body))
	}
	var open struct {
		SID string `json:"sid"`
	}
	if i := bytes.IndexByte(body, recordSeparator); i >= 0 {
		body = body[:i]
	}
	if err := json.Unmarshal(body[1:], &open); err != nil || open.SID == "" {
		return nil, fmt.Errorf("handshake %q", clip(body))
	}
	pc := &pollConn{hc: hc, url: base + "&sid=" + url.QueryEscape(open.SID), gzip: d.compress}
	if err := pc.post(ctx, []byte{eioMessage, sioConnect}); err != nil {
		return nil, err
	}
	for pc.sid == "" {
		body, err := pc.get(ctx)
		if err != nil {
			return nil, err
		}
		err = splitPayload(body, func(p []byte, binary bool) error {
			switch {
			case binary:
				return fmt.Errorf("binary packet before CONNECT reply")
			case len(p) == 1 && p[0] == eioPing:
				return pc.post(ctx, []byte{eioPong})
			case len(p) == 1 && p[0] == eioNoop:
				return nil
			case pc.sid != "":
				return fmt.Errorf("packet %q after the CONNECT reply, in its payload", clip(p))
			}
			sid, err := parseConnectReply(p)
			pc.sid = sid
			return err
		})
		if err != nil {
			return nil, err
		}
	}
	return pc, nil
}

// get is one long-poll GET; the body is a payload.
func (pc *pollConn) get(ctx context.Context) ([]byte, error) {
	if !pc.gzip {
		return httpDo(ctx, pc.hc, http.MethodGet, pc.url, nil)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, pc.url, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept-Encoding", "gzip")
	resp, err := pc.hc.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	var body io.Reader = resp.Body
	switch enc := resp.Header.Get("Content-Encoding"); enc {
	case "":
	case "gzip":
		if pc.gz == nil {
			pc.gz, err = gzip.NewReader(resp.Body)
		} else {
			err = pc.gz.Reset(resp.Body)
		}
		if err != nil {
			return nil, fmt.Errorf("GET: gzip: %w", err)
		}
		body = pc.gz
		pc.compressed++
	default:
		return nil, fmt.Errorf("GET: Content-Encoding %q", enc)
	}
	b, err := io.ReadAll(body)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET: %s %q", resp.Status, clip(b))
	}
	return b, nil
}

// post sends a payload; the server answers "ok".
func (pc *pollConn) post(ctx context.Context, payload []byte) error {
	body, err := httpDo(ctx, pc.hc, http.MethodPost, pc.url, payload)
	if err == nil && string(body) != "ok" {
		err = fmt.Errorf("POST answered %q", clip(body))
	}
	return err
}

func httpDo(ctx context.Context, hc *http.Client, method, u string, body []byte) ([]byte, error) {
	var r io.Reader
	if body != nil {
		r = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, u, r)
	if err != nil {
		return nil, err
	}
	if body != nil {
		req.Header.Set("Content-Type", "text/plain;charset=UTF-8")
	}
	resp, err := hc.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("%s: %s %q", method, resp.Status, clip(b))
	}
	return b, nil
}
